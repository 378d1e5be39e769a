import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Logging

/// The tenant and secrets a scenario's spec turns into, all derived from its seed.
public struct ScenarioWorld: Sendable {
    public let scenario: Scenario
    public let clock: VirtualClock
    public let tenant: Tenant
    /// The scenario's timeline with the creation of keys that appear mid-run.
    public let timeline: [TimelineEvent]
    /// Every secret the scenario can send, for scrubbing reports.
    public let secrets: [String]
    private let secretByKey: [String: String]
    private let unknownSecret: String

    /// - Parameter start: the instant data and key expiries count from; the scenario's own
    ///   `start` unless given (`serve` passes the wall-clock now).
    public init(_ scenario: Scenario, start: Date? = nil) {
        self.scenario = scenario
        let start = start ?? scenario.start
        clock = VirtualClock(start: start)
        let spec = scenario.tenant
        var random = SeededRandom(seed: scenario.seed, label: "keys")
        var secretByKey: [String: String] = [:]
        var keys: [APIKey] = []
        var created: [TimelineEvent] = []
        for key in spec.keys {
            let secret = random.uuid()
            secretByKey[key.id] = secret
            let made = APIKey(id: key.id, secret: secret, kind: key.kind, owner: key.owner, status: key.status,
                              expiresAt: key.expiresIn.map { start.addingTimeInterval($0) })
            // A key created mid-run (a rotation) joins the tenant on the timeline.
            if let at = key.createdAt { created.append(TimelineEvent(at: at, .createKey(made))) } else { keys.append(made) }
        }
        timeline = (scenario.timeline + created).sorted { $0.at < $1.at }
        unknownSecret = random.uuid()
        self.secretByKey = secretByKey
        secrets = Array(secretByKey.values) + [unknownSecret]
        tenant = Self.tenant(spec, keys: keys, seed: scenario.seed, start: start)
    }

    /// The tenant a spec describes, its data generated from the seed around `start`.
    static func tenant(_ spec: TenantSpec, keys: [APIKey], seed: UInt64, start: Date) -> Tenant {
        let data = spec.data
        var generator = DataGenerator(seed: seed, label: "data")
        let organizationID = generator.uuid()
        let investigations = generator.investigations(count: data.investigations, region: spec.region,
                                                      organizationID: organizationID, now: start, spreadDays: data.spreadDays)
        let logs = data.idrLogSets ? generator.idrLogSources(count: data.logSources) : generator.logSources(count: data.logSources)
        let auditLog = data.auditLog ? LogSource(id: generator.uuid(), name: "Audit Log", logsetID: generator.uuid(), logsetName: "Audit") : nil
        var auditEvents = auditLog.map { generator.auditEvents(logID: $0.id, count: data.auditEvents, users: spec.users,
                                                               organizationID: organizationID, now: start, spreadDays: data.spreadDays) } ?? []
        // Malformed records spread evenly through the log, one kind of breakage after another.
        if data.auditMalformed > 0, !auditEvents.isEmpty {
            for number in 0..<min(data.auditMalformed, auditEvents.count) {
                let index = number * auditEvents.count / data.auditMalformed
                var event = auditEvents[index]
                event.message = AuditBreakage.allCases[number % AuditBreakage.allCases.count].apply(to: event.message)
                auditEvents.replaceSubrange(index..<index + 1, with: [event])
            }
        }
        return Tenant(
            region: spec.region, organizationID: organizationID, organizationName: spec.organization,
            users: spec.users, keys: keys, investigations: investigations,
            alerts: generator.alerts(for: investigations, perInvestigation: data.alertsPerInvestigation, region: spec.region,
                                     organizationID: organizationID),
            logSources: logs,
            logEvents: generator.logEvents(for: logs, perLog: data.eventsPerLog, now: start, spreadDays: data.spreadDays),
            auditLog: auditLog,
            auditEvents: auditEvents,
            workflows: spec.workflows,
            accounts: generator.accounts(count: data.accounts, region: spec.region, organizationID: organizationID),
            queryPolls: data.queryPolls)
    }

    /// A fresh emulator holding this world's tenant, faults, timeline and rate limits.
    public func makeEmulator(clock: any InsightClock, journalCapacity: Int = 10_000) -> Emulator {
        Emulator(tenants: [tenant], faults: scenario.faults, timeline: timeline, rateLimits: scenario.tenant.rateLimits,
                 clock: clock, journalCapacity: journalCapacity, seed: scenario.seed)
    }

    /// Every tenant key's id and secret, by id.
    public var keyIDs: [(key: String, value: String)] {
        secretByKey.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The value a token spec stands for.
    public func resolve(_ token: TokenSpec) -> String {
        switch token {
        case .key(let id, let before, let after): return before + (secretByKey[id] ?? "") + after
        case .literal(let text): return text
        case .edited(let id, let edit): return edit.apply(secretByKey[id] ?? "")
        case .unknown: return unknownSecret
        }
    }
}

/// What a malformed audit record has wrong, against seeds/002's `Rapid7.AuditLog` schema: a
/// required field missing or of the wrong type, a time in the wrong format, not JSON at all.
enum AuditBreakage: CaseIterable {
    case actionMissing, auditIDNotAString, timeNotRFC3339, eventTimestampNotUnixMillis, notJSON

    func apply(to message: String) -> String {
        guard case .object(var fields)? = JSON(data: Data(message.utf8)) else { return message }
        switch self {
        case .actionMissing: fields["action"] = nil
        case .auditIDNotAString: fields["audit_id"] = 42
        case .timeNotRFC3339: fields["time"] = "yesterday at noon"
        case .eventTimestampNotUnixMillis:
            if case .object(var info)? = fields["service_info"], case .object(var event)? = info["event"] {
                event["timestamp"] = "2026-01-01 00:00"
                info["event"] = .object(event)
                fields["service_info"] = .object(info)
            }
        case .notJSON: return "{\"action\": \"login\", cut off"
        }
        return String(decoding: JSON.object(fields).canonicalBytes(), as: UTF8.self)
    }
}
