import Foundation
import InsightCore
import InsightEmulator

/// `insight-replay reproduce`: a customer's capture (HAR or recording) turned into a scenario
/// that fails the same way on the emulator. What the capture shows and what the scenario
/// assumes are kept apart (`Made.findings`, `Made.assumptions`):
/// - the URL the client was given (the first request's host, and any path before the API's);
/// - which key each request carried (`<redacted-key-N>`), so a 401 with another key is a
///   wrong key tried, and a key answered 200 after its 401 was not revoked;
/// - the region a key belongs to, when a region probe answered 200; when no other region was
///   asked, that is an assumption (`--key-region` chooses), written as `assumed:`;
/// - a key answered 2xx, then only 401: revoked in between (a timeline event);
/// - a 403: the role the refused family needs, missing;
/// - every 429 and 5xx: a fault on that path, as many as were answered, or a quota that stays
///   exhausted when the capture ends on one;
/// - for an InsightConnect trigger: its region, workflow and answers.
/// The steps follow the capture (a new key is a `set_token`, a pause a wait), each with the
/// outcome the capture implies; running the scenario checks the emulator's client agrees.
public enum Reproduce {
    public struct Made: Sendable {
        /// The scenario file's text.
        public let yaml: String
        public let name: String
        /// What the capture showed, one line each (for the person reading the output).
        public let findings: [String]
        /// The diagnosis the capture implies (nil: nothing wrong).
        public let expected: DiagnosisCategory?
        /// What the scenario assumes that the capture does not show, and the other worlds that
        /// fit it (each with the flag that chooses it).
        public var assumptions: [String] = []
        public var alternatives: [String] = []
    }

    static let apiRoots = ["/validate", "/idr/", "/query/", "/management/", "/account/", "/connect/", "/log_search/"]
    static let serviceUser = "svc-integration@example.com"

    /// - Parameter keyWorld: where a refused key the capture never tried elsewhere is valid
    ///   (`--key-region`); nil: unknown everywhere.
    public static func scenario(from recording: Recording, name: String, source: String, keyWorld: KeyWorld? = nil) throws -> Made {
        let exchanges = recording.exchanges.enumerated().sorted { ($0.element.recordedAt, $0.offset) < ($1.element.recordedAt, $1.offset) }.map(\.element)
        guard !exchanges.isEmpty else { throw DriverError.capture("\(source): the capture holds no exchange", remedy: "capture the integration while it talks to Rapid7 (a HAR from the browser, or `insight-replay record`)") }
        if let trigger = exchanges.first(where: { $0.path.hasSuffix("/events/execute") }) {
            return try triggerScenario(exchanges, trigger: trigger, name: name, source: source)
        }
        return try connectorScenario(exchanges, recording: recording, name: name, source: source, keyWorld: keyWorld)
    }

    /// seeds/003: the trigger's region and workflow from its URL, its answers as the workflow's
    /// state (401: a key it does not know, 404: no such workflow there) or as faults.
    static func triggerScenario(_ exchanges: [RecordedExchange], trigger: RecordedExchange, name: String, source: String) throws -> Made {
        let parts = trigger.path.split(separator: "/").map(String.init)
        guard let index = parts.firstIndex(of: "workflows"), index + 1 < parts.count, let region = Region(host: trigger.host) else {
            throw DriverError.capture("\(source): \(trigger.host)\(trigger.path) is not an InsightConnect trigger URL", remedy: "a trigger URL is https://REGION.api.insight.rapid7.com/connect/v1/workflows/ID/events/execute")
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

    /// Loads the scenario made, runs it, and says whether the emulator's client came to the
    /// diagnosis the capture implies.
    public static func verify(_ made: Made, file: String) async throws -> (reproduced: Bool, result: ScenarioResult) {
        let scenario = try ScenarioLoader.parse(made.yaml, file: file)
        let result = await ScenarioRunner().run(scenario)
        return (result.passed && result.diagnosis?.category == made.expected, result)
    }
}
