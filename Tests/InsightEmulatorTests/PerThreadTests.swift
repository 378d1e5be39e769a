import Foundation
import InsightCore
@testable import InsightEmulator
import Testing

/// The `/validate` answers made once per thread: the documented bytes on every thread, one
/// instance per thread (so two event loops never count references on the same storage).
@Suite struct PerThreadTests {
    static func bodyStorage(_ response: HTTPResponse) -> UInt {
        response.body.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func eachThreadHasItsOwnAnswersWithTheDocumentedBytes() {
        let here = PerThread.answers
        #expect(PerThread.answers === here, "made once on a thread, then reused")
        #expect(here.authorized == .json(200, ["message": "Authorized"]))
        #expect(here.unauthorized == .json(401, ["message": "Unauthorized"]))
        final class Seen: @unchecked Sendable {
            var answers: (identity: ObjectIdentifier, authorized: HTTPResponse, storage: UInt)?
        }
        let seen = Seen()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let answers = PerThread.answers
            seen.answers = (ObjectIdentifier(answers), answers.authorized, Self.bodyStorage(answers.authorized))
            done.signal()
        }
        thread.start()
        done.wait()
        let there = seen.answers
        #expect(there?.identity != ObjectIdentifier(here))
        #expect(there?.authorized == here.authorized)
        #expect(there?.storage != Self.bodyStorage(here.authorized), "another thread's answer is its own storage")
    }
}
