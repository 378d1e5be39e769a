import Foundation
import InsightCore
import InsightEmulator

/// `insight-replay reproduce`: a customer's capture (HAR or recording) turned into a scenario
/// that fails the same way on the emulator. The capture is read for what it shows:
/// - the URL the client was given (the first request's host, and any path before the API's);
/// - the region the key belongs to (a region probe answered 200);
/// - a 401 after 200s: the key revoked between them (a timeline event);
/// - a 403: the role the refused family needs, missing;
/// - 429s and 5xx: faults on that path, as many as were answered, or a quota that stays
///   exhausted when the capture ends on one;
/// - for an InsightConnect trigger: its region, workflow and answers.
/// The expected diagnosis is what those statuses mean in the seed's troubleshooting table,
/// decided from the capture alone; running the scenario then checks that the emulator's client
/// comes to the same one.
public enum Reproduce {
    public struct Made: Sendable {
        /// The scenario file's text.
        public let yaml: String
        public let name: String
        /// What the capture showed, one line each (for the person reading the output).
        public let findings: [String]
        /// The diagnosis the capture implies (nil: nothing wrong).
        public let expected: DiagnosisCategory?
    }

    public struct CaptureError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    static let apiRoots = ["/validate", "/idr/", "/query/", "/management/", "/account/", "/connect/", "/log_search/"]
    static let serviceUser = "svc-integration@example.com"

    public static func scenario(from recording: Recording, name: String, source: String) throws -> Made {
        let exchanges = recording.exchanges.enumerated().sorted { ($0.element.recordedAt, $0.offset) < ($1.element.recordedAt, $1.offset) }.map(\.element)
        guard let first = exchanges.first else { throw CaptureError(description: "\(source): the capture holds no exchange") }
        if let trigger = exchanges.first(where: { $0.path.hasSuffix("/events/execute") }) {
            return try triggerScenario(exchanges, trigger: trigger, name: name, source: source)
        }
        let start = first.recordedAt
        func at(_ exchange: RecordedExchange) -> Double { max(0, exchange.recordedAt.timeIntervalSince(start)) }
        var findings: [String] = []

        // The URL as configured: the first request's host, and a path component before the API's own.
        let host = first.host
        let component = pathComponent(first.path)
        let configured = Region.lookup(host: host)
        let url = "https://\(host)\(component)"
        findings.append("the client was given \(url) (first request: \(first.method) \(first.host)\(first.path) → \(first.status))")
        let accepted = exchanges.first { $0.path.hasSuffix("/validate") && $0.status == 200 && $0.host != host }
        var region = configured?.region ?? accepted.flatMap { Region(host: $0.host) } ?? .us
        if let accepted, let other = Region(host: accepted.host) { region = other }

        var users = [(role: Roles.idrAnalyst, kept: true), (role: Roles.logSearchViewOnly, kept: true)]
        var timeline: [String] = []
        var faults: [String] = []
        var steps = "[validate, sync]"
        var maxAttempts: Int?
        var token = "{ key: customer }"
        var expected: DiagnosisCategory?
        var remedy: String?
        let onHost = exchanges.filter { $0.host == host || Region.lookup(host: $0.host)?.region == configured?.region }

        if configured?.kind != .platform {
            expected = .wrongRegionalURL
            findings.append("\(host) is not a regional API host (https://REGION.api.insight.rapid7.com)")
        } else if !component.isEmpty {
            expected = .wrongRegionalURL
            findings.append("the URL carries the path \(component): the integration wants the base URL only")
        } else if let firstFailure = onHost.first(where: { $0.status == 401 }) {
            let before = onHost.filter { $0.recordedAt < firstFailure.recordedAt && (200..<300).contains($0.status) }
            if let accepted, let other = Region(host: accepted.host), before.isEmpty {
                expected = .wrongRegionalURL
                remedy = "Set URL to \(other.platformBaseURL)"
                findings.append("the key is refused on \(host) (401) and accepted by \(accepted.host)/validate: it belongs to \(other.code)")
            } else if let last = before.last {
                expected = .apiKeyIssues
                let wait = max(60, (at(firstFailure) - at(before.first!)).rounded())
                let revokedAt = max(1, ((at(last) + at(firstFailure)) / 2).rounded())
                steps = "[validate, sync, { wait: \(Int(wait)) }, sync]"
                timeline.append("{ at: \(Int(min(revokedAt, wait - 1))), revoke_key: customer }")
                findings.append("the key worked (\(before.count) answer(s) 2xx) until \(Scenario.formatSeconds(at(last))), then 401 at \(Scenario.formatSeconds(at(firstFailure))): revoked in between")
            } else {
                expected = .authenticationFailed
                token = "{ unknown: true }"
                findings.append("the key is refused on \(host) (401) and no region accepts it")
            }
        } else if let refused = onHost.first(where: { $0.status == 403 }) {
            expected = .insufficientPermissions
            let logSearch = refused.path.hasPrefix("/log_search/") || refused.host.contains(".rest.logs.")
            let role = logSearch ? Roles.logSearchViewOnly : Roles.idrAnalyst
            users = users.map { ($0.role, $0.role != role) }
            findings.append("\(refused.method) \(refused.path) was refused (403): the service user lacks \(role)")
        } else if let (status, path, count, exhausted, retryAfter) = repeatedFailure(onHost) {
            let prefix = faultPath(path)
            if exhausted {
                expected = status == 429 ? .rateLimited : .serviceUnavailable
                maxAttempts = min(max(count, 1), 10)
                faults.append("{ path: \(prefix), status: \(status), count: 50\(retryAfter.map { ", retry_after: \($0)" } ?? "") }")
                findings.append("\(prefix) answered \(status) \(count) time(s) and the capture ends there: the client gave up")
            } else {
                faults.append("{ path: \(prefix), status: \(status), count: \(count)\(retryAfter.map { ", retry_after: \($0)" } ?? "") }")
                findings.append("\(prefix) answered \(status) \(count) time(s), then 2xx: the client recovered")
            }
        } else {
            findings.append("every answer was 2xx: nothing to reproduce but a working sync")
        }

        let roles = users.filter(\.kept).map(\.role).joined(separator: ", ")
        var yaml = header(name: name, source: source, recording: recording, count: exchanges.count)
        yaml += """
            tenant:
              region: \(region.code)
              users:
                - { email: \(serviceUser), roles: [\(roles)], products: [InsightIDR] }
              keys:
                - { id: customer, kind: user, owner: \(serviceUser) }
              data: { investigations: 5, alerts_per_investigation: 1, log_sources: 1, events_per_log: 10 }

            """
        if !timeline.isEmpty { yaml += "timeline:\n" + timeline.map { "  - \($0)\n" }.joined() }
        if !faults.isEmpty { yaml += "faults:\n" + faults.map { "  - \($0)\n" }.joined() }
        yaml += "client:\n  url: \(url)\n  token: \(token)\n"
        if let maxAttempts { yaml += "  max_attempts: \(maxAttempts)\n" }
        yaml += "steps: \(steps)\nexpect:\n  diagnosis: \(expected?.rawValue ?? "none")\n"
        if let remedy { yaml += "  remedy_mentions: \(remedy)\n" }
        return Made(yaml: yaml, name: name, findings: findings, expected: expected)
    }

    /// seeds/003: the trigger's region and workflow from its URL, its answers as the workflow's
    /// state (401: a key it does not know, 404: no such workflow there) or as faults.
    static func triggerScenario(_ exchanges: [RecordedExchange], trigger: RecordedExchange, name: String, source: String) throws -> Made {
        let parts = trigger.path.split(separator: "/").map(String.init)
        guard let index = parts.firstIndex(of: "workflows"), index + 1 < parts.count, let region = Region(host: trigger.host) else {
            throw CaptureError(description: "\(source): \(trigger.host)\(trigger.path) is not an InsightConnect trigger URL (https://REGION.api.insight.rapid7.com/connect/v1/workflows/ID/events/execute)")
        }
        let workflow = parts[index + 1]
        let url = "https://\(trigger.host)\(trigger.path)"
        let triggers = exchanges.filter { $0.path == trigger.path }
        var findings = ["the trigger URL is \(url); \(triggers.count) request(s) to it: \(triggers.map { String($0.status) }.joined(separator: ", "))"]
        var token = "{ key: customer }"
        var workflows = "  workflows:\n    - { id: \(workflow) }\n"
        var faults: [String] = []
        var expected: DiagnosisCategory?
        switch triggers.first?.status ?? 0 {
        case 401:
            token = "{ unknown: true }"
            expected = .incorrectIntegrationParameters
            findings.append("the API key was refused (401)")
        case 404:
            workflows = ""
            expected = .incorrectIntegrationParameters
            findings.append("the workflow was not found there (404)")
        default:
            let failed = triggers.prefix { $0.status >= 500 }
            if !failed.isEmpty {
                faults.append("{ path: \(trigger.path), status: \(failed.first!.status), count: \(failed.count) }")
                if failed.count == triggers.count { expected = .serviceUnavailable }
                findings.append("\(failed.count) answer(s) \(failed.first!.status)\(failed.count == triggers.count ? " and no success" : ", then accepted")")
            }
        }
        var yaml = header(name: name, source: source, recording: nil, count: exchanges.count)
        yaml += """
            tenant:
              region: \(region.code)
              users:
                - { email: \(serviceUser), roles: [Insight IDR Analyst], products: [InsightIDR, InsightConnect] }
              keys:
                - { id: customer, kind: user, owner: \(serviceUser) }
            \(workflows)
            """
        if !faults.isEmpty { yaml += "faults:\n" + faults.map { "  - \($0)\n" }.joined() }
        yaml += "client:\n  notifier:\n    url: \(url)\n    token: \(token)\nsteps: [test_notification]\nexpect:\n  diagnosis: \(expected?.rawValue ?? "none")\n"
        return Made(yaml: yaml, name: name, findings: findings, expected: expected)
    }

    static func header(name: String, source: String, recording: Recording?, count: Int) -> String {
        """
        # Made by `insight-replay reproduce \((source as NSString).lastPathComponent)` from \(count) exchange(s); keys are placeholders.
        name: \(name)
        provenance: customer capture \((source as NSString).lastPathComponent)\(recording?.provenance.region.map { " (region \($0))" } ?? "")

        """
    }

    /// The path before the API's own (`/api/3` of `/api/3/validate`), or "".
    static func pathComponent(_ path: String) -> String {
        if apiRoots.contains(where: { path.hasPrefix($0) || path == $0.dropLast() }) { return "" }
        for root in apiRoots {
            if let range = path.range(of: root) { return String(path[..<range.lowerBound]) }
        }
        return ""
    }

    /// The leading fixed segments of a path (`/idr/v2/investigations` of `/idr/v2/investigations/ID`),
    /// which a fault rule takes as a prefix.
    static func faultPath(_ path: String) -> String {
        var kept: [Substring] = []
        for segment in path.split(separator: "/") {
            guard segment.allSatisfy({ $0.isLowercase || $0 == "_" || $0.isNumber }), segment.contains(where: \.isLetter), segment.count <= 24 else { break }
            kept.append(segment)
        }
        return "/" + kept.joined(separator: "/")
    }

    /// The first path answered 429 or 5xx: its status, how many times, whether the capture ends
    /// without a success on it, and the first Retry-After.
    static func repeatedFailure(_ exchanges: [RecordedExchange]) -> (Int, String, Int, Bool, Int?)? {
        guard let failed = exchanges.first(where: { $0.status == 429 || $0.status >= 500 }) else { return nil }
        let same = exchanges.filter { $0.path == failed.path && $0.method == failed.method }
        let failures = same.filter { $0.status == failed.status }
        let exhausted = !same.contains { (200..<300).contains($0.status) && $0.recordedAt >= failed.recordedAt }
        let retryAfter = failed.responseHeaders.first { $0.name.lowercased() == "retry-after" }.flatMap { Int($0.value.trimmingCharacters(in: .whitespaces)) }
        return (failed.status, failed.path, failures.count, exhausted, retryAfter)
    }

    /// Loads the scenario made, runs it, and says whether the emulator's client came to the
    /// diagnosis the capture implies.
    public static func verify(_ made: Made, file: String) async throws -> (reproduced: Bool, result: ScenarioResult) {
        let scenario = try ScenarioLoader.parse(made.yaml, file: file)
        let result = await ScenarioRunner().run(scenario)
        return (result.passed && result.diagnosis?.category == made.expected, result)
    }
}
