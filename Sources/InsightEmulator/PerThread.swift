#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import InsightCore

/// Values made once per thread and only ever used on it: constant answers the server's event
/// loops hand out on every request, without an allocation each time and without two cores
/// counting references on the same storage.
enum PerThread {
    final class Answers {
        let authorized = HTTPResponse.constantJSON(200, #"{"message":"Authorized"}"#)
        let unauthorized = HTTPResponse.constantJSON(401, #"{"message":"Unauthorized"}"#)
    }

    /// The key of the thread's `Answers`, released when the thread ends.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { pointer in
            // Optional on Linux, not on Darwin: taken as optional for both.
            let stored: UnsafeMutableRawPointer? = pointer
            guard let stored else { return }
            Unmanaged<Answers>.fromOpaque(stored).release()
        }
        precondition(created == 0, "pthread_key_create failed (\(created))")
        return key
    }()

    static var answers: Answers {
        if let stored = pthread_getspecific(key) {
            return Unmanaged<Answers>.fromOpaque(stored).takeUnretainedValue()
        }
        let made = Answers()
        pthread_setspecific(key, Unmanaged.passRetained(made).toOpaque())
        return made
    }
}
