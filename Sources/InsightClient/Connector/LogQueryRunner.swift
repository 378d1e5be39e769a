import Foundation
import InsightCore

/// Runs a Log Search query to the end: follows a 202's `Self` link (polling well inside the
/// 20-second expiry), re-issues a query that expired anyway, and follows `Next` pages
/// (reference §5). Every wait is on the injected clock; polls and re-issues are bounded.
struct LogQueryRunner: Sendable {
    let sender: RequestSender
    let clock: any InsightClock
    /// Seconds between polls (the platform expires a query not polled within 20 s).
    var pollInterval: Double = 2
    var maxPolls = 300
    var maxReissues = 3
    /// 125,000,000 events at 500 a page: more than a tenant holds, a bound all the same.
    var maxPages = 250_000

    /// Why a query stopped, for the caller to explain in its own terms (thrown as `ClientError.query`).
    enum Stop: Sendable {
        /// An answer the runner does not take (a status or body it cannot go on from).
        case answer(Outcome)
        /// No end in sight: too many pages, polls or re-issues.
        case gaveUp(String)
    }

    /// Runs `first` and its `Next` pages, handing each finished page's events to `page`.
    /// Returns the number of pages.
    func run(_ first: HTTPRequest, isolation: isolated (any Actor)? = #isolation,
             page: (JSONDocument.Items) async throws -> Void) async throws -> Int {
        var request = first
        var pages = 0
        while pages < maxPages {
            let body = try await complete(request)
            pages += 1
            if let events = body["events"]?.items { try await page(events) }
            guard let next = Self.link(body, "Next"), let nextRequest = follow(next, like: first) else { return pages }
            request = nextRequest
        }
        throw ClientError.query(.gaveUp("more than \(maxPages) pages"))
    }

    /// One query (or page) to its finished 200 body, re-issuing it if its continuation expired.
    private func complete(_ request: HTTPRequest) async throws -> JSONDocument.Value {
        var reissues = 0
        issue: while true {
            let outcome = try await send(request)
            var body = try json(outcome)
            if outcome.response.status == 200 { return body }
            var polls = 0
            while outcome.response.status == 202 || polls > 0 {
                guard let href = Self.link(body, "Self"), let poll = follow(href, like: request) else {
                    return body
                }
                polls += 1
                guard polls <= maxPolls else { throw ClientError.query(.gaveUp("query still in progress after \(maxPolls) polls")) }
                try? await clock.sleep(seconds: pollInterval)
                let answer = try await send(poll, accepting: [200, 202, 404])
                switch answer.response.status {
                case 200:
                    return try json(answer)
                case 202:
                    body = try json(answer)
                case 404:
                    // Expired (not polled within 20 s, e.g. after a long rate-limit wait): run it again.
                    reissues += 1
                    guard reissues <= maxReissues else { throw ClientError.query(.gaveUp("the query expired \(reissues) times")) }
                    continue issue
                default:
                    throw ClientError.query(.answer(answer))
                }
            }
            return body
        }
    }

    /// Sends with retries; a status outside `accepting` is the caller's failure to explain.
    private func send(_ request: HTTPRequest, accepting: Set<Int> = [200, 202]) async throws -> Outcome {
        let outcome: Outcome
        outcome = try await sender.send(request)
        guard accepting.contains(outcome.response.status) else { throw ClientError.query(.answer(outcome)) }
        return outcome
    }

    private func json(_ outcome: Outcome) throws -> JSONDocument.Value {
        guard let body = outcome.document?.root, body.isObject else { throw ClientError.query(.answer(outcome)) }
        return body
    }

    /// A link's request, carrying the same key and headers.
    private func follow(_ href: String, like request: HTTPRequest) -> HTTPRequest? {
        HTTPRequest(method: "GET", url: href, headers: request.headers)
    }

    static func link(_ body: JSONDocument.Value, _ rel: String) -> String? {
        body["links"]?.items?.first { $0["rel"]?.stringValue?.caseInsensitiveCompare(rel) == .orderedSame }?["href"]?.stringValue
    }
}
