import Foundation
import InsightCore
import InsightEmulator

/// A SIEM connector's capture read for what it shows, and only that. Requests are told apart
/// by the key they carried (`<redacted-key-N>`): a 401 sent with another key than the 200s
/// around it is the user trying a wrong key, not a revocation; a key answered 200 after a 401
/// was not revoked. What the capture cannot show (whether a refused key works in a region it
/// never asked) is an assumption: said as one, chosen by `--key-region`, and written into the
/// scenario as `assumed:` so its run marks those causes "not checked by the capture".
extension Reproduce {
    /// One key's run of requests on the configured region, cut where the key changed or the
    /// client paused for a minute or more.
    struct Segment {
        var key: Int?
        var exchanges: [RecordedExchange]
        var start: Date { exchanges.first!.recordedAt }
        var end: Date { exchanges.last!.recordedAt }
        var validates: Bool { exchanges.contains { $0.path.hasSuffix("/validate") } }
        var syncs: Bool { exchanges.contains { !$0.path.hasSuffix("/validate") } }
    }

    /// Where a refused key may be valid, as the capture leaves it open.
    public enum KeyWorld: Sendable, Equatable {
        /// Unknown in every region (the default when the capture asked no other region).
        case unknown
        /// Valid in this region (`--key-region`).
        case region(Region)
    }

    static func key(_ exchange: RecordedExchange) -> Int? {
        exchange.requestHeaders.first { ["x-api-key", "authorization"].contains($0.name.lowercased()) }.flatMap { Redaction.keyNumber($0.value) }
    }

    static func keyLabel(_ key: Int?) -> String { key.map { "key #\($0)" } ?? "the key" }

    static func connectorScenario(_ exchanges: [RecordedExchange], recording: Recording, name: String, source: String,
                                  keyWorld: KeyWorld?) throws -> Made
    {
        let first = exchanges.first!
        let start = first.recordedAt
        func at(_ date: Date) -> Double { max(0, date.timeIntervalSince(start)) }
        var shows: [String] = []
        var assumes: [String] = []
        var alternatives: [String] = []
        var assumed: [(cause: String, because: String)] = []

        let host = first.host
        let component = pathComponent(first.path)
        let configured = Region.lookup(host: host)
        let url = "https://\(host)\(component)"
        shows.append("the client was given \(url) (first request: \(first.method) \(first.host)\(first.path) → \(first.status))")
        if configured?.kind != .platform || !component.isEmpty {
            // Settings the client refuses or the platform cannot answer: the old reading stands.
            let why = configured?.kind != .platform ? "\(host) is not a regional API host (https://REGION.api.insight.rapid7.com)"
                : "the URL carries the path \(component): the integration wants the base URL only"
            shows.append(why)
            let yaml = connectorYAML(name: name, source: source, recording: recording, count: exchanges.count, region: configured?.region ?? .us,
                                     keys: ["customer"], roles: [Roles.idrAnalyst, Roles.logSearchViewOnly], timeline: [], faults: [],
                                     url: url, token: "{ key: customer }", maxAttempts: nil, steps: ["validate", "sync"],
                                     expected: .wrongRegionalURL, stepDiagnoses: nil, assumed: [], remedy: nil)
            return Made(yaml: yaml, name: name, findings: shows, expected: .wrongRegionalURL)
        }
        let home = configured!.region
        let onRegion = exchanges.filter { Region.lookup(host: $0.host)?.region == home }
        let keys = Array(Set(exchanges.compactMap(Self.key))).sorted()
        if keys.count > 1 { shows.append("the requests carried \(keys.count) different keys (\(keys.map { "#\($0)" }.joined(separator: ", ")))") }

        // Each key: where it was answered 2xx, 401, and probed elsewhere.
        func works(_ key: Int?) -> Bool { onRegion.contains { Self.key($0) == key && (200..<300).contains($0.status) } }
        func acceptedElsewhere(_ key: Int?) -> Region? {
            exchanges.first { Self.key($0) == key && $0.path.hasSuffix("/validate") && $0.status == 200 && Region.lookup(host: $0.host)?.region != home }
                .flatMap { Region.lookup(host: $0.host)?.region }
        }
        func refusedEverywhereAsked(_ key: Int?) -> Set<Region> {
            Set(exchanges.filter { Self.key($0) == key && $0.path.hasSuffix("/validate") && $0.status == 401 }.compactMap { Region.lookup(host: $0.host)?.region })
        }

        // The tenant's region: where the working key works. A key that never worked here is
        // valid elsewhere only if the capture shows it (a region probe answered 200), or
        // --key-region says so.
        var region = home
        var world: [Int?: String] = [:]  // key → its token spec
        var tenantKeys: [String] = []
        /// One key in the capture is `customer`; several are `customer-N`, by their number.
        func id(_ key: Int?) -> String { keys.count > 1 ? key.map { "customer-\($0)" } ?? "customer" : "customer" }
        var remedy: String?
        for key in keys.isEmpty ? [nil] : keys.map(Optional.some) {
            let id = id(key)
            if works(key) {
                world[key] = "{ key: \(id) }"
                tenantKeys.append(id)
            } else if let other = acceptedElsewhere(key) {
                shows.append("\(keyLabel(key)) is refused on \(host) and accepted by \(other.platformHost)/validate: it belongs to \(other.code)")
                region = other
                remedy = "Set URL to \(other.platformBaseURL)"
                world[key] = "{ key: \(id) }"
                tenantKeys.append(id)
            } else if onRegion.contains(where: { Self.key($0) == key && $0.status == 401 }) {
                let asked = refusedEverywhereAsked(key).subtracting([home])
                let unasked = Region.seedRegions.filter { $0 != home && !asked.contains($0) }
                if unasked.isEmpty {
                    shows.append("\(keyLabel(key)) is refused on \(host) and in every other region the capture asked: it is unknown")
                    world[key] = "{ unknown: true }"
                } else {
                    shows.append("\(keyLabel(key)) is refused on \(host) (401); the capture never asked \(unasked.map(\.code).joined(separator: ", ")) whether it works there")
                    let reason = "the capture asked only \(([home] + asked.sorted { $0.rawValue < $1.rawValue }).map(\.platformHost).joined(separator: ", ")); \(keyLabel(key)) was never tried in \(unasked.map(\.code).joined(separator: ", "))"
                    assumed += [(Cause.wrongRegionalURL, reason), (Cause.incorrectRegionalEndpoint, reason)]
                    let movable = !onRegion.contains { (200..<300).contains($0.status) }  // one tenant: only when no key works here
                    if case .region(let chosen)? = keyWorld, movable {
                        region = chosen
                        world[key] = "{ key: \(id) }"
                        tenantKeys.append(id)
                        assumes.append("\(keyLabel(key)) belongs to \(chosen.code) (--key-region \(chosen.code)): the URL's region is wrong")
                    } else {
                        world[key] = "{ unknown: true }"
                        assumes.append("\(keyLabel(key)) is unknown in every region (chosen; the capture cannot tell)")
                        if movable {
                            alternatives.append("\(keyLabel(key)) valid in another region, a wrong regional URL: --key-region \(unasked.first!.code) (or \(unasked.dropFirst().map(\.code).joined(separator: ", ")))")
                        }
                    }
                    // Whether the service user was deactivated is never in a capture.
                    assumed.append((Cause.userDeactivated, "a capture of the integration's requests does not show the service user's account"))
                }
            } else {
                world[key] = "{ key: \(id) }"
                tenantKeys.append(id)
            }
        }
        if tenantKeys.isEmpty { tenantKeys = ["customer"] }

        // Segments: a new one where the key changes or the client paused 60 s or more (a pause
        // after a 429 or 5xx is the client's own retry wait, within the same step).
        var segments: [Segment] = []
        for exchange in onRegion {
            let key = Self.key(exchange)
            if let last = segments.last, last.key == key,
               exchange.recordedAt.timeIntervalSince(last.end) < 60 || faultAnswered(last.exchanges.last!.status) {
                segments[segments.count - 1].exchanges.append(exchange)
            } else {
                segments.append(Segment(key: key, exchanges: [exchange]))
            }
        }

        // A key answered 2xx, then only 401 to the end: revoked in between. A 2xx after its
        // 401 rules that out.
        var timeline: [String] = []
        for key in Set(segments.map(\.key)) {
            let own = onRegion.filter { Self.key($0) == key }
            guard let refused = own.firstIndex(where: { $0.status == 401 }), own[..<refused].contains(where: { (200..<300).contains($0.status) }) else { continue }
            if own[refused...].contains(where: { (200..<300).contains($0.status) }) {
                shows.append("\(keyLabel(key)) was answered 2xx after its 401: it was not revoked")
                continue
            }
            let lastOK = own[..<refused].last { (200..<300).contains($0.status) }!
            let revokedAt = max(1, ((at(lastOK.recordedAt) + at(own[refused].recordedAt)) / 2).rounded())
            timeline.append("{ at: \(Int(revokedAt)), revoke_key: \(id(key)) }")
            shows.append("\(keyLabel(key)) worked until \(Scenario.formatSeconds(at(lastOK.recordedAt))), then 401 at \(Scenario.formatSeconds(at(own[refused].recordedAt))) and after: revoked in between")
            // A revocation splits the key's segment at its first 401 when no pause did.
            if let index = segments.firstIndex(where: { $0.exchanges.contains(own[refused]) }),
               let cut = segments[index].exchanges.firstIndex(of: own[refused]), cut > 0 {
                let tail = Segment(key: key, exchanges: Array(segments[index].exchanges[cut...]))
                segments[index].exchanges.removeSubrange(cut...)
                segments.insert(tail, at: index + 1)
            }
        }

        // Roles a 403 shows missing.
        var roles = [Roles.idrAnalyst, Roles.logSearchViewOnly]
        if let refused = onRegion.first(where: { $0.status == 403 }) {
            let role = refused.path.hasPrefix("/log_search/") || refused.host.contains(".rest.logs.") ? Roles.logSearchViewOnly : Roles.idrAnalyst
            roles.removeAll { $0 == role }
            shows.append("\(refused.method) \(refused.path) was refused (403): the service user lacks \(role)")
        }

        // Every 429 and 5xx the capture shows stays a fault on its path, as many as answered.
        var faults: [String] = []
        var maxAttempts: Int?
        var exhaustedPaths: [String: DiagnosisCategory] = [:]
        for (status, path) in failingPaths(onRegion) {
            let same = onRegion.filter { $0.path == path }
            let failures = same.filter { $0.status == status }
            let firstFailure = same.firstIndex { $0.status == status }!
            let exhausted = !same[firstFailure...].contains { (200..<300).contains($0.status) }
            let retryAfter = failures.first!.responseHeaders.first { $0.name.lowercased() == "retry-after" }
                .flatMap { Int($0.value.trimmingCharacters(in: .whitespaces)) }
            let prefix = faultPath(path)
            let after = onRegion.filter { $0.path.hasPrefix(prefix) && $0.recordedAt < same[firstFailure].recordedAt && Self.faultAnswered($0.status) == false }.count
            if exhausted {
                maxAttempts = min(max(failures.count, 1), 10)
                exhaustedPaths[prefix] = status == 429 ? .rateLimited : .serviceUnavailable
                faults.append("{ path: \(prefix), status: \(status), count: 50\(after > 0 ? ", after: \(after)" : "")\(retryAfter.map { ", retry_after: \($0)" } ?? "") }")
                shows.append("\(prefix) answered \(status) \(failures.count) time(s) and the capture ends there: the client gave up")
            } else {
                faults.append("{ path: \(prefix), status: \(status), count: \(failures.count)\(after > 0 ? ", after: \(after)" : "")\(retryAfter.map { ", retry_after: \($0)" } ?? "") }")
                shows.append("\(prefix) answered \(status) \(failures.count) time(s), then 2xx: the client recovered")
            }
        }

        // Steps, segment by segment, and what each must end with.
        var steps: [String] = []
        var outcomes: [DiagnosisCategory?] = []
        var current: Int?? = .none
        var previousEnd: Date?
        for segment in segments {
            if let previousEnd, segment.start.timeIntervalSince(previousEnd) >= 1 {
                steps.append("{ wait: \(Int(segment.start.timeIntervalSince(previousEnd).rounded())) }")
            }
            if case .some(let key) = current, key != segment.key { steps.append("{ set_token: \(world[segment.key] ?? "{ key: customer }") }") }
            current = .some(segment.key)
            previousEnd = segment.end
            let refused = segment.exchanges.contains { $0.status == 401 }
            let keyFailure: DiagnosisCategory? = refused
                ? (timeline.contains { $0.hasSuffix("revoke_key: \(id(segment.key)) }") } && works(segment.key) ? .apiKeyIssues
                    : world[segment.key] == "{ unknown: true }" ? .authenticationFailed : .wrongRegionalURL)
                : nil
            let dataFailure: DiagnosisCategory? = segment.exchanges.contains { $0.status == 403 } ? .insufficientPermissions
                : exhaustedPaths.first { prefix, _ in segment.exchanges.contains { $0.path.hasPrefix(prefix) } }?.value
            if segment.validates {
                steps.append("validate")
                outcomes.append(keyFailure)
            }
            if segment.syncs || !segment.validates {
                steps.append("sync")
                outcomes.append(keyFailure ?? dataFailure)
            }
        }
        if steps.isEmpty { steps = ["validate", "sync"]; outcomes = [nil, nil] }
        let expected = outcomes.last ?? nil
        let firstToken = world[segments.first?.key ?? nil] ?? "{ key: \(tenantKeys[0]) }"
        if outcomes.allSatisfy({ $0 == nil }), faults.isEmpty { shows.append("every answer was 2xx: nothing to reproduce but a working sync") }
        let yaml = connectorYAML(name: name, source: source, recording: recording, count: exchanges.count, region: region, keys: tenantKeys,
                                 roles: roles, timeline: timeline, faults: faults, url: url, token: firstToken, maxAttempts: maxAttempts,
                                 steps: steps, expected: expected, stepDiagnoses: outcomes.count > 1 ? outcomes : nil, assumed: assumed,
                                 remedy: remedy)
        return Made(yaml: yaml, name: name, findings: shows, expected: expected, assumptions: assumes, alternatives: alternatives)
    }

    /// Whether a status is one the fault rules stand for (429, 5xx).
    static func faultAnswered(_ status: Int) -> Bool { status == 429 || status >= 500 }

    /// Each (status, path) answered 429 or 5xx, in the order first seen.
    static func failingPaths(_ exchanges: [RecordedExchange]) -> [(Int, String)] {
        var seen: [(Int, String)] = []
        for exchange in exchanges where faultAnswered(exchange.status) && !seen.contains(where: { $0 == (exchange.status, exchange.path) }) {
            seen.append((exchange.status, exchange.path))
        }
        return seen
    }

    static func connectorYAML(name: String, source: String, recording: Recording, count: Int, region: Region, keys: [String], roles: [String],
                              timeline: [String], faults: [String], url: String, token: String, maxAttempts: Int?, steps: [String],
                              expected: DiagnosisCategory?, stepDiagnoses: [DiagnosisCategory?]?, assumed: [(cause: String, because: String)],
                              remedy: String?) -> String
    {
        var yaml = header(name: name, source: source, recording: recording, count: count)
        yaml += """
            tenant:
              region: \(region.code)
              users:
                - { email: \(serviceUser), roles: [\(roles.joined(separator: ", "))], products: [InsightIDR] }
              keys:
            \(keys.map { "    - { id: \($0), kind: user, owner: \(serviceUser) }\n" }.joined())\
              data: { investigations: 5, alerts_per_investigation: 1, log_sources: 1, events_per_log: 10 }

            """
        if !timeline.isEmpty { yaml += "timeline:\n" + timeline.map { "  - \($0)\n" }.joined() }
        if !faults.isEmpty { yaml += "faults:\n" + faults.map { "  - \($0)\n" }.joined() }
        yaml += "client:\n  url: \(url)\n  token: \(token)\n"
        if let maxAttempts { yaml += "  max_attempts: \(maxAttempts)\n" }
        yaml += "steps: [\(steps.joined(separator: ", "))]\n"
        if !assumed.isEmpty {
            yaml += "# What the capture does not show; the run marks these causes \"not checked by the capture\".\nassumed:\n"
            for item in assumed { yaml += "  - { cause: \(item.cause), because: \"\(item.because.replacingOccurrences(of: "\"", with: "'"))\" }\n" }
        }
        yaml += "expect:\n  diagnosis: \(expected?.rawValue ?? "none")\n"
        if let stepDiagnoses { yaml += "  step_diagnoses: [\(stepDiagnoses.map { $0?.rawValue ?? "none" }.joined(separator: ", "))]\n" }
        if let remedy { yaml += "  remedy_mentions: \(remedy)\n" }
        return yaml
    }
}
