import Foundation
import InsightCore

/// A deterministic fault: requests to a route are answered with an error status for a while.
public struct FaultRule: Sendable, Hashable {
    /// Path prefix the rule applies to (`/validate`, `/idr/v2/investigations`); `nil` means every path.
    public var path: String?
    /// Only requests to this region's hosts; `nil` means any region.
    public var region: Region?
    /// The status to answer: 429 or a 5xx.
    public var status: Int
    /// How many matching requests fail.
    public var count: Int
    /// How many matching requests pass untouched before the failures start.
    public var after: Int
    /// `Retry-After` seconds on a 429 (and on a 503 if set).
    public var retryAfter: Int?

    public init(path: String? = nil, region: Region? = nil, status: Int, count: Int, after: Int = 0, retryAfter: Int? = nil) {
        self.path = path
        self.region = region
        self.status = status
        self.count = count
        self.after = after
        self.retryAfter = retryAfter
    }

    func matches(_ request: HTTPRequest, region: Region) -> Bool {
        if let path, !request.path.hasPrefix(path) { return false }
        if let wanted = self.region, wanted != region { return false }
        return true
    }
}

/// The fault rules with how many requests each has seen: a value, advanced per request.
struct FaultPlan: Sendable {
    private(set) var rules: [FaultRule]
    private var seen: [Int]

    init(_ rules: [FaultRule]) {
        self.rules = rules
        seen = Array(repeating: 0, count: rules.count)
    }

    /// The rule that fires for this request, if any. Every matching rule counts the request.
    mutating func fire(for request: HTTPRequest, region: Region) -> FaultRule? {
        var fired: FaultRule?
        for index in rules.indices where rules[index].matches(request, region: region) {
            let position = seen[index]
            seen[index] += 1
            let rule = rules[index]
            if fired == nil, position >= rule.after, position < rule.after + rule.count {
                fired = rule
            }
        }
        return fired
    }

    mutating func append(_ rule: FaultRule) {
        rules.append(rule)
        seen.append(0)
    }
}
