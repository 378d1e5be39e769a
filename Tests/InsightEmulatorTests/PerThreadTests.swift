import Foundation
import InsightCore
@testable import InsightEmulator
import Testing

/// The `/validate` answers and the route tables made once per thread: the documented bytes on
/// every thread, one instance per thread (so two event loops never count references on the
/// same storage).
@Suite struct PerThreadTests {
    static func bodyStorage(_ response: HTTPResponse) -> UInt {
        response.body.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func eachThreadHasItsOwnAnswersWithTheDocumentedBytes() throws {
        let here = PerThread.values
        #expect(PerThread.values === here, "made once on a thread, then reused")
        #expect(here.authorized == .json(200, ["message": "Authorized"]))
        #expect(here.unauthorized == .json(401, ["message": "Unauthorized"]))
        final class Seen: @unchecked Sendable {
            var answers: (identity: ObjectIdentifier, authorized: HTTPResponse, storage: UInt)?
            var validateRoute: ObjectIdentifier?
        }
        let seen = Seen()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let answers = PerThread.values
            seen.answers = (ObjectIdentifier(answers), answers.authorized, Self.bodyStorage(answers.authorized))
            seen.validateRoute = Router.fixedMatches("/validate").map { ObjectIdentifier($0[0].route) }
            done.signal()
        }
        thread.start()
        done.wait()
        let there = seen.answers
        #expect(there?.identity != ObjectIdentifier(here))
        #expect(there?.authorized == here.authorized)
        #expect(there?.storage != Self.bodyStorage(here.authorized), "another thread's answer is its own storage")
        // The route tables too: the same routes, its own objects.
        let validate = try #require(Router.fixedMatches("/validate")?.first?.route)
        #expect(validate.endpoint == .validate)
        #expect(Router.fixedMatches("/validate").map { ObjectIdentifier($0[0].route) } == ObjectIdentifier(validate))
        #expect(seen.validateRoute != nil && seen.validateRoute != ObjectIdentifier(validate))
    }
}
