import Foundation
import InsightCore

/// A deterministic fault: matching requests get an error status, a delay, a reset connection, a
/// cut or malformed body — for `count` requests after the first `after`, each with `probability`
/// drawn from the emulator's seeded generator.
public struct FaultRule: Sendable, Hashable {
    public enum Effect: Sendable, Hashable {
        /// Answer this status instead (429 with the documented rate-limit shape, or any other).
        case status(Int, retryAfter: Int?)
        /// Answer normally, after this many seconds (virtual in scenarios).
        case latency(Double)
        /// Drop the connection without an answer.
        case reset
        /// Answer normally but cut the body in half.
        case truncatedBody
        /// Answer with the status but a body that is not JSON.
        case malformedJSON
        /// Answer exactly this: any status (a 3xx with its Location, a 400, a 404, a 409), the
        /// body and headers the scenario chose.
        case answer(FaultAnswer)
    }

    /// Path prefix the rule applies to; nil: every path.
    public var path: String?
    public var method: String?
    public var region: Region?
    public var effect: Effect
    public var count: Int
    public var after: Int
    /// Chance that a matching request in the window is hit, 0…1.
    public var probability: Double

    public init(path: String? = nil, method: String? = nil, region: Region? = nil, effect: Effect,
                count: Int, after: Int = 0, probability: Double = 1)
    {
        self.path = path
        self.method = method?.uppercased()
        self.region = region
        self.effect = effect
        self.count = count
        self.after = after
        self.probability = probability
    }

    /// A status fault (the spine's form): `status` for `count` requests.
    public init(path: String? = nil, region: Region? = nil, status: Int, count: Int, after: Int = 0, retryAfter: Int? = nil) {
        self.init(path: path, region: region, effect: .status(status, retryAfter: retryAfter), count: count, after: after)
    }

    func matches(_ request: HTTPRequest, region: Region) -> Bool {
        if let path, !request.path.hasPrefix(path) { return false }
        if let method, method != request.method { return false }
        if let wanted = self.region, wanted != region { return false }
        return true
    }
}

/// A fault's own answer: status, body (JSON or text, as written) and headers.
public struct FaultAnswer: Sendable, Hashable {
    public var status: Int
    /// nil: the platform's error shape for the status (`{"message":"HTTP 404 Not Found"}`).
    public var body: String?
    public var headers: [String: String]

    public init(status: Int, body: String? = nil, headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    var response: HTTPResponse {
        var fields = HTTPHeaders()
        guard let body else {
            var response = EmulatorState.faultResponse(status, retryAfter: nil)
            for (name, value) in headers.sorted(by: { $0.key < $1.key }) { response.headers.set(name, value) }
            return response
        }
        fields.set("Content-Type", JSON(data: Data(body.utf8)) != nil ? "application/json" : "text/plain; charset=utf-8")
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { fields.set(name, value) }
        return HTTPResponse(status: status, headers: fields, body: Data(body.utf8))
    }
}

/// The fault rules with how many requests each has seen: a value, advanced per request.
struct FaultPlan: Sendable {
    private(set) var rules: [FaultRule]
    private var seen: [Int]
    private var random: SeededRandom

    init(_ rules: [FaultRule], seed: UInt64) {
        self.rules = rules
        seen = Array(repeating: 0, count: rules.count)
        random = SeededRandom(seed: seed, label: "faults")
    }

    /// The effects that fire for this request, first rule first. Every matching rule counts it.
    mutating func fire(for request: HTTPRequest, region: Region) -> [FaultRule.Effect] {
        var effects: [FaultRule.Effect] = []
        for index in rules.indices where rules[index].matches(request, region: region) {
            let position = seen[index]
            seen[index] += 1
            let rule = rules[index]
            guard position >= rule.after, position < rule.after + rule.count else { continue }
            if rule.probability < 1 {
                let draw = Double(random.next() % 1_000_000) / 1_000_000
                if draw >= rule.probability { continue }
            }
            effects.append(rule.effect)
        }
        return effects
    }

    mutating func append(_ rule: FaultRule) {
        rules.append(rule)
        seen.append(0)
    }

    var inForce: [(rule: FaultRule, seen: Int)] { Array(zip(rules, seen)) }

    mutating func clear() -> Int {
        defer { rules = []; seen = [] }
        return rules.count
    }
}

extension FaultRule: CustomStringConvertible {
    /// For reports: what the rule does, where and to how many requests.
    public var description: String {
        let effect: String
        switch self.effect {
        case .status(let status, let retryAfter): effect = "answer \(status)" + (retryAfter.map { " (Retry-After \($0))" } ?? "")
        case .latency(let seconds): effect = "delay \(seconds) s"
        case .reset: effect = "reset the connection"
        case .truncatedBody: effect = "truncate the body"
        case .malformedJSON: effect = "answer malformed JSON"
        case .answer(let answer):
            effect = "answer \(answer.status)" + (answer.headers["Location"].map { " to \($0)" } ?? "") + (answer.body == nil ? "" : " with its own body")
        }
        var scope = [method, path.map { "\($0)*" }, region.map { "on \($0.code)" }].compactMap { $0 }.joined(separator: " ")
        if scope.isEmpty { scope = "every request" }
        let window = after > 0 ? " after the first \(after)" : ""
        let chance = probability < 1 ? " with probability \(probability)" : ""
        return "\(effect) to \(count) × \(scope)\(window)\(chance)"
    }
}
