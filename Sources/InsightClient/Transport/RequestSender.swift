import Foundation
import InsightCore
import Logging

/// A finished exchange after retries: the last response and how it went.
struct Outcome: Sendable {
    var response: HTTPResponse
    var attempts: Int
    var rateLimited: Int
    /// The URL as logs and diagnoses may show it (emails masked).
    var url: String
    /// A 2xx body read as JSON once, here, where it is checked; nil for other answers and for
    /// bodies that are not JSON. Pages are read through it field by field, not as trees.
    var document: JSONDocument? = nil
}

/// The one request path every client operation uses: bounded retries (429 waits `Retry-After`
/// or `X-RateLimit-Reset`; 5xx, resets and unreadable bodies back off exponentially with seeded
/// jitter), and quota memory: after `X-RateLimit-Remaining: 0` the next request to that family
/// waits out `X-RateLimit-Reset` instead of spending a 429. Every wait is on the injected clock.
final class RequestSender: @unchecked Sendable {
    let transport: any HTTPTransport
    let clock: any InsightClock
    let retry: RetryPolicy
    let logger: Logger
    private let lock = NSLock()
    private var random: SeededRandom
    /// Family → the instant its quota resets.
    private var exhaustedUntil: [String: Date] = [:]

    /// The integration it sends for: what a failure to reach the host tells the user to fix.
    let product: Product

    init(transport: any HTTPTransport, clock: any InsightClock, retry: RetryPolicy, logger: Logger, product: Product) {
        self.product = product
        self.transport = transport
        self.clock = clock
        self.retry = retry
        self.logger = logger
        random = SeededRandom(seed: retry.jitterSeed, label: "jitter")
    }

    func send(
        _ method: String, host: String, path: String, query: [URLQueryItem] = [], token: String?,
        body: Data = Data(), retries: Bool = true
    ) async throws(ClientError) -> Outcome {
        var headers: HTTPHeaders = ["Accept": "application/json", "User-Agent": "insight-replay-client/0.1"]
        if let token { headers.add("X-Api-Key", token) }
        if !body.isEmpty { headers.add("Content-Type", "application/json") }
        let request = HTTPRequest(method: method, host: host, path: path, query: query, headers: headers, body: body)
        return try await send(request, retries: retries)
    }

    func send(_ request: HTTPRequest, retries: Bool = true) async throws(ClientError) -> Outcome {
        // What logs and diagnoses may show of the URL: emails in it (account look-ups) masked.
        let shown = Redaction.maskEmails(in: request.url.removingPercentEncoding ?? request.url)
        let family = Self.family(request.path)
        let limit = retries ? retry.maxAttempts : 1
        var attempt = 0
        var rateLimited = 0
        while true {
            attempt += 1
            await waitForQuota(family)
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch let error as CoreError where error.transport != nil {
                let failure = error.transport!
                logger.debug("\(request.method) \(shown) failed: \(failure)")
                if failure.kind == .nameResolution || attempt >= limit {
                    throw ClientError(InsightClient.transportDiagnosis(failure, url: shown, product: product))
                }
                try? await clock.sleep(seconds: backoff(after: attempt))
                continue
            } catch {
                throw ClientError(Diagnosis(
                    product: product, .serviceUnavailable, summary: "The request to \(shown) failed: \(error)",
                    evidence: ["\(request.method) \(shown): \(error)"]))
            }
            logger.debug("\(request.method) \(shown) -> \(response.status) (attempt \(attempt))")
            noteQuota(family, response)
            let document = (200...299).contains(response.status) && !response.body.isEmpty ? JSONDocument(response.body) : nil
            if response.status == 429 {
                rateLimited += 1
                let wait = Self.retryAfter(response) ?? retry.defaultRetryAfter
                if attempt < limit, wait <= retry.maxRetryAfter {
                    try? await clock.sleep(seconds: wait)
                    continue
                }
            } else if Self.isReplayMiss(response) {
                // The recording has no answer for this request and never will: no retry.
            } else if (500...599).contains(response.status) || Self.unreadable(response, document), attempt < limit {
                try? await clock.sleep(seconds: backoff(after: attempt))
                continue
            }
            return Outcome(response: response, attempts: attempt, rateLimited: rateLimited, url: shown, document: document)
        }
    }

    /// Where a key works: probes `GET /validate` once on every region but `excluded`, in order,
    /// and returns the first that accepts it, with the regions that could not answer (not 200/401).
    func regionAccepting(_ token: String, excluding excluded: Region) async -> (region: Region?, unprobed: [String]) {
        var unprobed: [String] = []
        for region in Region.allCases where region != excluded {
            guard let probe = try? await send("GET", host: region.platformHost, path: "/validate", token: token, retries: false) else {
                unprobed.append("\(region.code) (no answer)")
                continue
            }
            switch probe.response.status {
            case 200: return (region, unprobed)
            case 401: continue
            default: unprobed.append("\(region.code) (\(probe.response.status))")
            }
        }
        return (nil, unprobed)
    }

    /// The emulator's answer to a request its recordings do not hold (`X-Insight-Replay-Miss`):
    /// the recording's gap, not the platform's answer.
    static func isReplayMiss(_ response: HTTPResponse) -> Bool {
        response.status == 501 && response.headers["X-Insight-Replay-Miss"] == "1"
    }

    /// What a client says of a replay miss: the recording lacks the request; the platform is
    /// not blamed.
    static func replayMissDiagnosis(_ outcome: Outcome, product: Product) -> Diagnosis? {
        guard isReplayMiss(outcome.response) else { return nil }
        let first = outcome.response.json?["message"]?.stringValue?.split(separator: "\n").first.map(String.init)
        return Diagnosis(
            product: product, .replayMiss, summary: "The recording holds no answer for \(outcome.url); the request went unanswered by the recording, not by Rapid7.",
            evidence: [first ?? "\(outcome.url): 501 replay miss"],
            ranked: [RankedCause(Cause.notInRecording, .confirmed, because: "the emulator's replay found no recorded exchange")])
    }

    /// A 2xx whose JSON body does not parse (cut short, malformed): worth another try.
    static func unreadable(_ response: HTTPResponse, _ document: JSONDocument?) -> Bool {
        (200...299).contains(response.status) && !response.body.isEmpty
            && (response.headers["Content-Type"]?.contains("json") ?? false) && document == nil
    }

    /// `Retry-After` seconds, else `X-RateLimit-Reset` seconds (reference §3).
    static func retryAfter(_ response: HTTPResponse) -> Double? {
        for name in ["Retry-After", "X-RateLimit-Reset"] {
            if let text = response.headers[name], let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
                return seconds
            }
        }
        return nil
    }

    /// Exponential backoff, spread by up to `jitter` of itself from the seeded generator.
    func backoff(after attempt: Int) -> Double {
        let base = retry.backoff(after: attempt)
        guard retry.jitter > 0 else { return base }
        let draw = lock.withLock { Double(random.next() % 1_000_000) / 1_000_000 }
        return (base * (1 + retry.jitter * draw) * 1000).rounded() / 1000
    }

    /// The quota family of a path, as Log Search counts them (reference §3).
    static func family(_ path: String) -> String {
        let trimmed = path.hasPrefix("/log_search/") ? String(path.dropFirst("/log_search".count)) : path
        let audit = trimmed.hasPrefix("/audit/")
        let rest = audit ? String(trimmed.dropFirst("/audit".count)) : trimmed
        let prefix = audit ? "audit:" : ""
        if rest.hasPrefix("/query/logs") || rest.hasPrefix("/query/logsets") || rest.hasPrefix("/logs/") { return prefix + "query" }
        if rest.hasPrefix("/query/") { return prefix + "polling" }
        if rest.hasPrefix("/management/") { return prefix + "management" }
        return String(rest.split(separator: "/").first ?? "")
    }

    private func noteQuota(_ family: String, _ response: HTTPResponse) {
        guard response.headers["X-RateLimit-Remaining"] == "0",
              let reset = response.headers["X-RateLimit-Reset"].flatMap(Double.init), response.status != 429
        else { return }
        let until = clock.now().addingTimeInterval(reset)
        lock.withLock { exhaustedUntil[family] = until }
    }

    private func waitForQuota(_ family: String) async {
        guard let until = lock.withLock({ exhaustedUntil[family] }) else { return }
        let wait = until.timeIntervalSince(clock.now())
        if wait > 0, wait <= retry.maxRetryAfter {
            logger.debug("quota for \(family) used up; waiting \(wait) s for the window to reset")
            try? await clock.sleep(seconds: wait)
        }
        lock.withLock { exhaustedUntil[family] = nil }
    }
}
