#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import InsightCore

/// Values made once per thread and only ever used on it: constant answers the server's event
/// loops hand out on every request and the route tables every request is matched against,
/// without an allocation each time and without two cores counting references on the same
/// storage.
enum PerThread {
    final class Values {
        let authorized = HTTPResponse.constantJSON(200, #"{"message":"Authorized"}"#)
        let unauthorized = HTTPResponse.constantJSON(401, #"{"message":"Unauthorized"}"#)
        let routes = Router.Tables()
    }

    /// The key of the thread's `Values`, released when the thread ends.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { pointer in
            // Optional on Linux, not on Darwin: taken as optional for both.
            let stored: UnsafeMutableRawPointer? = pointer
            guard let stored else { return }
            Unmanaged<Values>.fromOpaque(stored).release()
        }
        precondition(created == 0, "pthread_key_create failed (\(created))")
        return key
    }()

    static var values: Values {
        if let stored = pthread_getspecific(key) {
            return Unmanaged<Values>.fromOpaque(stored).takeUnretainedValue()
        }
        let made = Values()
        pthread_setspecific(key, Unmanaged.passRetained(made).toOpaque())
        return made
    }

    /// The thread's values, lent to `body` without counting a reference on them (the thread's
    /// key holds one for as long as the thread lives).
    static func withValues<T>(_ body: (Values) -> T) -> T {
        guard let stored = pthread_getspecific(key) else { return body(values) }
        return Unmanaged<Values>.fromOpaque(stored)._withUnsafeGuaranteedRef(body)
    }
}
