import Foundation

/// Matches requests to recorded exchanges: method, host (region), path, query with order
/// ignored, and JSON bodies compared semantically with declared volatile fields ignored.
/// Identical requests are answered in recorded order. A miss names the three nearest
/// recordings and which matcher failed for each.
public struct ExchangeMatcher: Sendable {
    /// JSON body fields whose values never decide a match (timestamps, request ids …).
    public var volatileFields: Set<String>
    public private(set) var exchanges: [RecordedExchange]
    private var used: [Bool]

    public init(exchanges: [RecordedExchange], volatileFields: Set<String> = ["start_time", "end_time", "requestId", "correlation_id"]) {
        self.exchanges = exchanges
        self.volatileFields = volatileFields
        used = Array(repeating: false, count: exchanges.count)
    }

    /// One matcher's verdict on one recorded exchange.
    public struct Verdict: Sendable, Hashable {
        public let index: Int
        public let summary: String
        /// The matchers that failed, each with what differed; empty for a match.
        public let failed: [String]
    }

    /// The first unused recorded exchange that matches (recorded order), marked used; else nil.
    /// When every match is used, the last one answers again (a repeated poll keeps its answer).
    public mutating func answer(_ request: HTTPRequest) -> RecordedExchange? {
        let matching = exchanges.indices.filter { verdict(request, $0).failed.isEmpty }
        guard let first = matching.first(where: { !used[$0] }) ?? matching.last else { return nil }
        used[first] = true
        return exchanges[first]
    }

    /// The nearest recorded exchanges to a request nothing matched, best first.
    public func nearest(_ request: HTTPRequest, count: Int = 3) -> [Verdict] {
        exchanges.indices.map { verdict(request, $0) }
            .sorted { ($0.failed.count, $0.index) < ($1.failed.count, $1.index) }
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
        if recorded.method != request.method { failed.append("method \(recorded.method) ≠ \(request.method)") }
        if recorded.host != request.host {
            let regions = (Region(host: recorded.host)?.code ?? recorded.host, Region(host: request.host)?.code ?? request.host)
            failed.append(regions.0 == regions.1 ? "host \(recorded.host) ≠ \(request.host)" : "region \(regions.0) ≠ \(regions.1)")
        }
        if recorded.path != request.path { failed.append("path \(recorded.path) ≠ \(request.path)") }
        let wanted = recorded.query.map { "\($0.name)=\($0.value ?? "")" }.sorted()
        let got = request.query.map { "\($0.name)=\($0.value ?? "")" }.sorted()
        if wanted != got {
            let missing = Set(wanted).subtracting(got).sorted(), extra = Set(got).subtracting(wanted).sorted()
            failed.append("query differs (recorded only: \(missing.joined(separator: "&")); request only: \(extra.joined(separator: "&")))")
        }
        if let problem = bodyDifference(recorded.requestBody, String(decoding: request.body, as: UTF8.self)) { failed.append(problem) }
        return Verdict(index: index, summary: recorded.summary, failed: failed)
    }

    private func bodyDifference(_ recorded: String, _ actual: String) -> String? {
        if recorded == actual { return nil }
        if let a = JSON(data: Data(recorded.utf8)), let b = JSON(data: Data(actual.utf8)) {
            return strip(a) == strip(b) ? nil : "JSON body differs"
        }
        if recorded.isEmpty || actual.isEmpty { return recorded.isEmpty ? "body present, none recorded" : "no body, one recorded" }
        return "body differs"
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
