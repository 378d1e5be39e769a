import Foundation
import InsightCore

/// How recordings and the emulator share the answering (issue 5's record modes).
public enum RecordMode: String, Sendable, CaseIterable {
    /// Only recordings answer; an unmatched request is a miss (the default, and CI's).
    case none
    /// Recordings answer; an unmatched request is answered by the emulator and recorded.
    case missing
    /// The emulator answers everything and every exchange is recorded.
    case all

    public static func parse(_ text: String) throws -> RecordMode {
        guard let mode = RecordMode(rawValue: text.lowercased()) else {
            throw EmulatorError.adminInput("record mode '\(text)' is not one of: \(allCases.map(\.rawValue).joined(separator: ", "))",
                                             remedy: "none replays only, missing records what no recording answers, all records every exchange")
        }
        return mode
    }
}

/// Recorded answers the emulator gives, and what happened to them.
struct ReplayState: Sendable {
    var matcher: ExchangeMatcher
    var mode: RecordMode
    /// Reads a matched exchange's response when the matcher holds request sides only.
    var responder: (@Sendable (Int) -> HTTPResponse?)?
    /// Explanations of requests no recording matched (mode none).
    var misses: [String] = []
    /// Exchanges the emulator answered itself in modes missing and all, to be recorded.
    var captured: [RecordedExchange] = []
    /// Recorded answers come before authentication and rate limits, so a captured 401 or 429
    /// is answered as it was recorded (a scenario's `recorded_auth: true`).
    var beforeAuthentication = false
}

extension Emulator {
    /// Answers from these recorded exchanges (in recorded order for identical requests).
    /// With `beforeAuthentication`, a recorded answer is given before the tenant's keys and rate
    /// limits are consulted (a customer's capture whose 401s and 429s are the point).
    public func loadReplay(_ exchanges: [RecordedExchange], mode: RecordMode = .none, beforeAuthentication: Bool = false) {
        withState {
            $0.replay = ReplayState(matcher: ExchangeMatcher(exchanges: exchanges), mode: mode,
                                    beforeAuthentication: beforeAuthentication)
        }
    }

    /// Answers from request sides held in memory, reading each matched response through
    /// `response` (a recording indexed in SQLite, for recordings too large to hold).
    public func loadReplay(requests: [RecordedExchange], response: @escaping @Sendable (Int) -> HTTPResponse?, mode: RecordMode = .none) {
        withState { $0.replay = ReplayState(matcher: ExchangeMatcher(exchanges: requests), mode: mode, responder: response) }
    }

    /// Every miss so far, each naming the three nearest recordings and the matchers that failed.
    public var replayMisses: [String] { withState { $0.replay?.misses ?? [] } }
    /// Recorded exchanges no request has used.
    public var unusedRecordedExchanges: [RecordedExchange] { withState { $0.replay?.matcher.unused ?? [] } }
    /// Exchanges answered by the emulator in record modes missing and all.
    public var capturedExchanges: [RecordedExchange] { withState { $0.replay?.captured ?? [] } }
}

extension EmulatorState {
    /// With recordings loaded: the recorded answer, a miss, or nil to let the emulator answer
    /// (and capture the exchange). Called after faults, authentication and rate limits.
    /// With `final` false (the look before authentication), an unmatched request is not a miss
    /// yet: it goes on to authentication and is looked up again after.
    mutating func replayAnswer(_ request: HTTPRequest, _ context: inout RequestContext, final: Bool = true) -> HTTPResponse? {
        guard var replay else { return nil }
        defer { self.replay = replay }
        if replay.mode == .all { return nil }
        if !final, replay.matcher.peekIndex(request) == nil { return nil }
        if let index = replay.matcher.answerIndex(request) {
            let exchange = replay.matcher.exchanges[index]
            context.reason = "replayed \(exchange.summary)"
            context.fromRecording = true
            if let responder = replay.responder {
                return responder(index) ?? .json(500, ["message": .string("the recorded answer of \(exchange.summary) cannot be read")])
            }
            return exchange.response
        }
        if replay.mode == .missing { return nil }
        let message = replay.matcher.missMessage(request)
        replay.misses.append(message)
        context.reason = "replay miss"
        context.fromRecording = true
        return .json(501, ["message": .string(message)], headers: ["X-Insight-Replay-Miss": "1"])
    }

    mutating func capture(_ request: HTTPRequest, _ response: HTTPResponse, now: Date) {
        guard replay != nil, replay!.mode != .none else { return }
        replay!.captured.append(RecordedExchange(request: request, response: response, durationMillis: 0, recordedAt: now))
    }
}
