import Foundation

/// Matches requests to recorded exchanges: method, host (region), path, query with order
/// ignored, and JSON bodies compared semantically with declared volatile fields ignored.
/// Identical requests are answered in recorded order. A miss names the three nearest
/// recordings and which matcher failed for each.
public struct ExchangeMatcher: Sendable {
    /// JSON body fields and query parameters whose values never decide a match (times that
    /// move with the clock, request ids …); their presence still does.
    public var volatileFields: Set<String>
    public private(set) var exchanges: [RecordedExchange]
    private var used: [Bool]
    /// `METHOD host path` → indices, for exact paths; paths with placeholders are scanned.
    private var byRoute: [String: [Int]] = [:]
    private var wildcardRoutes: [Int] = []

    public static let defaultVolatileFields: Set<String> = ["start_time", "end_time", "from", "to", "requestId", "correlation_id"]

    public init(exchanges: [RecordedExchange], volatileFields: Set<String> = ExchangeMatcher.defaultVolatileFields) {
        self.exchanges = exchanges
        self.volatileFields = volatileFields
        used = Array(repeating: false, count: exchanges.count)
        for (index, exchange) in exchanges.enumerated() {
            if exchange.path.split(separator: "/").contains(where: { Self.isPlaceholder(String($0)) }) {
                wildcardRoutes.append(index)
            } else {
                byRoute[Self.routeKey(exchange.method, exchange.host, exchange.path), default: []].append(index)
            }
        }
    }

    static func routeKey(_ method: String, _ host: String, _ path: String) -> String { "\(method) \(host) \(path)" }

    /// One matcher's verdict on one recorded exchange.
    public struct Verdict: Sendable, Hashable {
        public let index: Int
        public let summary: String
        /// The matchers that failed, each with what differed; empty for a match.
        public let failed: [String]
        /// How far off: path 3, method and host 2, query and body 1 each.
        public let distance: Int
    }

    /// The first unused recorded exchange that matches (recorded order), marked used; else nil.
    /// When every match is used, the last one answers again (a repeated poll keeps its answer).
    public mutating func answer(_ request: HTTPRequest) -> RecordedExchange? {
        answerIndex(request).map { exchanges[$0] }
    }

    /// The position of the exchange that answers, marked used (see `answer`).
    public mutating func answerIndex(_ request: HTTPRequest) -> Int? {
        guard let first = peekIndex(request) else { return nil }
        used[first] = true
        return first
    }

    /// The position of the exchange that would answer, without marking it used.
    public func peekIndex(_ request: HTTPRequest) -> Int? {
        let candidates = (byRoute[Self.routeKey(request.method, request.host, request.path)] ?? []) + wildcardRoutes
        let matching = candidates.sorted().filter { verdict(request, $0).failed.isEmpty }
        return matching.first(where: { !used[$0] }) ?? matching.last
    }

    /// The nearest recorded exchanges to a request nothing matched, best first; recorded
    /// exchanges alike in what they are and why they missed are one (a retried request
    /// recorded four times is one near match).
    public func nearest(_ request: HTTPRequest, count: Int = 3) -> [Verdict] {
        var seen = Set<String>()
        return exchanges.indices.map { verdict(request, $0) }
            .sorted { ($0.distance, $0.index) < ($1.distance, $1.index) }
            .filter { seen.insert($0.summary + "|" + $0.failed.joined(separator: ";")).inserted }
            .prefix(count).map { $0 }
    }

    /// Recorded exchanges no request used.
    public var unused: [RecordedExchange] {
        exchanges.indices.filter { !used[$0] }.map { exchanges[$0] }
    }

    /// A multi-line explanation of a miss, for reports.
    public func missMessage(_ request: HTTPRequest) -> String {
        var lines = ["no recorded exchange matches \(request.method) \(request.host)\(request.path)\(Self.queryText(request))"]
        let near = nearest(request)
        if near.isEmpty { lines.append("  (the recording is empty)") }
        for (rank, verdict) in near.enumerated() {
            lines.append("  \(rank + 1). \(verdict.summary): \(verdict.failed.joined(separator: "; "))")
        }
        return lines.joined(separator: "\n")
    }

    static func queryText(_ request: HTTPRequest) -> String {
        request.query.isEmpty ? "" : "?" + request.query.map { "\($0.name)=\($0.value ?? "")" }.joined(separator: "&")
    }

    func verdict(_ request: HTTPRequest, _ index: Int) -> Verdict {
        let recorded = exchanges[index]
        var failed: [String] = []
        var distance = 0
        if recorded.method != request.method {
            failed.append("method \(recorded.method) ≠ \(request.method)")
            distance += 2
        }
        if recorded.host != request.host {
            distance += 2
            let regions = (Region(host: recorded.host)?.code ?? recorded.host, Region(host: request.host)?.code ?? request.host)
            failed.append(regions.0 == regions.1 ? "host \(recorded.host) ≠ \(request.host)" : "region \(regions.0) ≠ \(regions.1)")
        }
        if !Self.pathsMatch(recorded.path, request.path) {
            failed.append("path \(recorded.path) ≠ \(request.path)")
            distance += 3
        }
        // Volatile parameters match any value; a redacted recorded value matches any value too.
        let shown: (String, String?, String?) -> String = { name, value, other in
            if self.volatileFields.contains(name) { return "\(name)=*" }
            if let value, let other, Self.valuesMatch(value, other) { return "\(name)=\(other)" }
            return "\(name)=\(value ?? "")"
        }
        let actualByName = Dictionary(request.query.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
        let wanted = recorded.query.map { shown($0.name, $0.value, actualByName[$0.name]) }.sorted()
        let got = request.query.map { shown($0.name, $0.value, nil) }.sorted()
        if wanted != got {
            let missing = Set(wanted).subtracting(got).sorted(), extra = Set(got).subtracting(wanted).sorted()
            let show = { (items: [String]) in items.isEmpty ? "nothing" : items.joined(separator: "&") }
            failed.append("query differs (recorded only: \(show(missing)); request only: \(show(extra)))")
            distance += 1
        }
        if let problem = bodyDifference(recorded.requestBody, String(decoding: request.body, as: UTF8.self)) {
            failed.append(problem)
            distance += 1
        }
        return Verdict(index: index, summary: recorded.summary, failed: failed, distance: distance)
    }

    private func bodyDifference(_ recorded: String, _ actual: String) -> String? {
        if recorded == actual { return nil }
        if let a = JSON(data: Data(recorded.utf8)), let b = JSON(data: Data(actual.utf8)) {
            return jsonMatches(strip(a), strip(b)) ? nil : "JSON body differs"
        }
        if recorded.isEmpty { return "the request has a body; the recording has none" }
        if actual.isEmpty { return "the request has no body; the recording has one" }
        return "body differs"
    }

    /// Whether a recorded value stands for the actual one: equal, or a redaction placeholder.
    public static func valuesMatch(_ recorded: String, _ actual: String) -> Bool {
        recorded == actual || isPlaceholder(recorded)
    }

    /// `REDACTED-KEY-N`, `person-N@example.invalid`, `<redacted>`: what the redactor writes.
    static func isPlaceholder(_ value: String) -> Bool {
        if value == "<redacted>" { return true }
        if let number = Redaction.keyNumber(value), number > 0 { return true }
        if value.hasPrefix("REDACTED-KEY-") { return value.dropFirst(13).allSatisfy(\.isNumber) && value.count > 13 }
        if value.hasPrefix("person-"), value.hasSuffix("@example.invalid") {
            let middle = value.dropFirst(7).dropLast(16)
            return !middle.isEmpty && middle.allSatisfy(\.isNumber)
        }
        return false
    }

    static func pathsMatch(_ recorded: String, _ actual: String) -> Bool {
        if recorded == actual { return true }
        let a = recorded.split(separator: "/", omittingEmptySubsequences: false), b = actual.split(separator: "/", omittingEmptySubsequences: false)
        return a.count == b.count && zip(a, b).allSatisfy { valuesMatch(String($0), String($1)) }
    }

    private func jsonMatches(_ recorded: JSON, _ actual: JSON) -> Bool {
        switch (recorded, actual) {
        case (.object(let a), .object(let b)):
            return Set(a.keys) == Set(b.keys) && a.allSatisfy { key, value in jsonMatches(value, b[key]!) }
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { jsonMatches($0, $1) }
        case (.string(let a), .string(let b)):
            return Self.valuesMatch(a, b)
        default:
            return recorded == actual
        }
    }

    private func strip(_ value: JSON) -> JSON {
        switch value {
        case .object(let object):
            return .object(Dictionary(uniqueKeysWithValues: object.filter { !volatileFields.contains($0.key) }.map { ($0.key, strip($0.value)) }))
        case .array(let items):
            return .array(items.map(strip))
        default:
            return value
        }
    }
}
