import Foundation
import InsightCore

/// A private threat and its indicators (`/idr/v1/customthreats`).
public struct CustomThreat: Sendable, Hashable {
    public static let kinds = ["ips", "hashes", "domain_names", "urls"]
    public var key: String
    public var name: String
    public var note: String
    /// By kind, in the order they were added, without duplicates.
    public var indicators: [String: [String]]
    public var published = false
    public var indicatorCount: Int { indicators.values.reduce(0) { $0 + $1.count } }
}

/// Custom threats of IDR v1 (`/idr/v1/customthreats`): create, add or replace indicators, delete.
extension EmulatorState {
    /// An indicator's kind decides what it must look like; what does not is rejected, as the
    /// platform answers in `rejected_indicators` (ASSUMED rules: IPv4/IPv6, MD5/SHA-1/SHA-256
    /// hex, a dotted domain name, an http(s) URL).
    static func indicatorFits(_ value: String, kind: String) -> Bool {
        switch kind {
        case "ips":
            var v4 = in_addr(), v6 = in6_addr()
            return inet_pton(AF_INET, value, &v4) == 1 || inet_pton(AF_INET6, value, &v6) == 1
        case "hashes":
            return [32, 40, 64].contains(value.count) && value.allSatisfy(\.isHexDigit)
        case "domain_names":
            let labels = value.split(separator: ".", omittingEmptySubsequences: false)
            return labels.count >= 2 && value.count <= 253 && labels.allSatisfy { label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            } && !(labels.last!.allSatisfy(\.isNumber))
        case "urls":
            guard let url = URLComponents(string: value), let scheme = url.scheme?.lowercased() else { return false }
            return ["http", "https"].contains(scheme) && !(url.host ?? "").isEmpty
        default:
            return false
        }
    }

    static func threatJSON(_ threat: CustomThreat, rejected: [String]) -> JSON {
        ["threat": ["name": .string(threat.name), "note": .string(threat.note), "published": .bool(threat.published),
                    "indicator_count": .int(Int64(threat.indicatorCount))],
         "rejected_indicators": .array(rejected.map(JSON.string))]
    }

    /// Adds (or, replacing, sets) the indicators of a `{ips, hashes, domain_names, urls}` object.
    static func merge(_ indicators: JSON?, into threat: inout CustomThreat, replace: Bool) -> Result<[String], EmulatorError> {
        var rejected: [String] = []
        if replace { threat.indicators = [:] }
        guard let indicators else { return .success([]) }
        guard case .object(let byKind) = indicators else { return .failure(.invalid("indicators must be an object of ips, hashes, domain_names, urls")) }
        for (kind, values) in byKind.sorted(by: { $0.key < $1.key }) {
            let kinds = CustomThreat.kinds
            guard kinds.contains(kind) else { return .failure(.invalid("'\(kind)' is not one of \(kinds.joined(separator: ", "))")) }
            guard let list = values.arrayValue?.compactMap(\.stringValue) else { return .failure(.invalid("\(kind) must be a list of strings")) }
            for value in list {
                if indicatorFits(value, kind: kind) {
                    if !(threat.indicators[kind]?.contains(value) ?? false) { threat.indicators[kind, default: []].append(value) }
                } else {
                    rejected.append(value)
                }
            }
        }
        return .success(rejected)
    }

    /// `POST /idr/v1/customthreats?format=json` with `{threat: NAME, note, indicators{…}}` (IDR
    /// plugin actions/create_threat) → `{threat{…}, rejected_indicators}`. The answer does not
    /// carry the threat's key; ASSUMED: a Location header does, so a client can add to it.
    mutating func createThreat(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let body: JSON
        switch objectBody(request) {
        case .success(let found): body = found
        case .failure(let response): return response
        }
        guard let name = body["threat"]?.stringValue, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            return badRequest("threat is required: the name of the threat")
        }
        guard tenants[tenant].threats.count < Self.maxThreats else { return error(409, "Too many custom threats in this organization", .platform) }
        guard !tenants[tenant].threats.contains(where: { $0.name.equalsIgnoringCase(name) }) else {
            return error(409, "A threat named '\(name)' already exists", .platform)
        }
        var threat = CustomThreat(key: random.uuid(), name: name, note: body["note"]?.stringValue ?? "", indicators: [:])
        switch Self.merge(body["indicators"], into: &threat, replace: false) {
        case .failure(let error): return badRequest(error.problem)
        case .success(let rejected):
            guard threat.indicatorCount <= Self.maxIndicators else { return badRequest("a threat holds at most \(Self.maxIndicators) indicators") }
            tenants[tenant].threats.append(threat)
            var response = HTTPResponse.json(200, Self.threatJSON(threat, rejected: rejected))
            response.headers.set("Location", "/idr/v1/customthreats/key/\(threat.key)")
            return response
        }
    }

    /// `POST /idr/v1/customthreats/key/{key}/indicators/{add|replace}?format=json` with
    /// `{ips, hashes, domain_names, urls}` (XSOAR add/replace_threat_indicators; IDR plugin
    /// replace_indicators.json.resp).
    mutating func threatIndicators(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int, replace: Bool) -> HTTPResponse {
        guard let index = tenants[tenant].threats.firstIndex(where: { $0.key == match.param("key") }) else {
            return error(404, "Threat not found", .platform)
        }
        let body: JSON
        switch objectBody(request) {
        case .success(let found): body = found
        case .failure(let response): return response
        }
        var threat = tenants[tenant].threats[index]
        switch Self.merge(body, into: &threat, replace: replace) {
        case .failure(let error): return badRequest(error.problem)
        case .success(let rejected):
            guard threat.indicatorCount <= Self.maxIndicators else { return badRequest("a threat holds at most \(Self.maxIndicators) indicators") }
            tenants[tenant].threats[index] = threat
            return .json(200, Self.threatJSON(threat, rejected: rejected))
        }
    }

    /// `POST …/customthreats/key/{key}/delete` (a community threat's deletion, found in public
    /// clients as POST with an optional `reason`): the threat is gone. ASSUMED answer: 200 with
    /// the threat as it was, its indicators counted (no public recording).
    mutating func deleteThreat(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let index = tenants[tenant].threats.firstIndex(where: { $0.key == match.param("key") }) else {
            return error(404, "Threat not found", .platform)
        }
        let threat = tenants[tenant].threats.remove(at: index)
        return .json(200, Self.threatJSON(threat, rejected: []))
    }
}
