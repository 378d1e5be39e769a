import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Logging

/// What one scenario did and whether it met its expectations. Holds no secret: every text
/// is scrubbed against the scenario's keys before it is stored here.
public struct ScenarioResult: Sendable {
    public let name: String
    public let provenance: String
    public let file: String
    /// Unmet expectations, each a sentence; empty when the scenario passed.
    public let failures: [String]
    public let diagnosis: Diagnosis?
    /// The diagnosis as text, scrubbed.
    public let diagnosisText: String?
    public let journal: [JournalEntry]
    public let syncedInvestigations: Int?
    public let syncedLogSources: Int?
    /// Virtual seconds the scenario spanned.
    public let virtualSeconds: Double
    /// Wall seconds it took to run.
    public let wallSeconds: Double

    public var passed: Bool { failures.isEmpty }
}

/// Runs scenarios, each on a fresh emulator and a fresh virtual clock, in process.
public struct ScenarioRunner: Sendable {
    public let logger: Logger

    public init(logger: Logger = Logger(label: "insight-replay.driver")) {
        self.logger = logger
    }

    public func run(_ scenarios: [Scenario]) async -> [ScenarioResult] {
        var results: [ScenarioResult] = []
        for scenario in scenarios { results.append(await run(scenario)) }
        return results
    }

    public func run(_ scenario: Scenario) async -> ScenarioResult {
        let wallStart = Date()
        let world = ScenarioWorld(scenario)
        let emulator = world.makeEmulator(clock: world.clock)
        let admin = scenario.client.adminToken.map {
            AdminCheck(token: world.resolve($0), serviceUser: scenario.client.serviceUser)
        }
        let client = InsightClient(
            settings: IntegrationSettings(url: scenario.client.url, token: world.resolve(scenario.client.token)),
            transport: emulator, clock: world.clock,
            retry: RetryPolicy(maxAttempts: scenario.client.maxAttempts ?? 4), admin: admin, logger: logger)

        var diagnosis: Diagnosis?
        var lastSync: SyncReport?
        var totals = (investigations: 0, alerts: 0, logEvents: 0)
        steps: for step in scenario.steps {
            switch step {
            case .wait(let seconds):
                try? await world.clock.sleep(seconds: seconds)
            case .validate:
                do { _ = try await client.validate() } catch {
                    diagnosis = error.diagnosis
                    break steps
                }
            case .sync:
                do {
                    let report = try await client.sync()
                    lastSync = report
                    totals.investigations += report.investigations
                    totals.alerts += report.alerts
                    totals.logEvents += report.logEvents
                    diagnosis = report.warning
                } catch {
                    diagnosis = error.diagnosis
                    break steps
                }
            }
        }
        let journal = emulator.journal.ordered
        let text = diagnosis.map { Redaction.scrub($0.description, secrets: world.secrets) }
        let observed = Observed(diagnosis: diagnosis, diagnosisText: text, journal: journal, sync: lastSync, syncTotals: totals)
        return ScenarioResult(
            name: scenario.name, provenance: scenario.provenance, file: scenario.file,
            failures: scenario.expect.check(observed).map { Redaction.scrub($0, secrets: world.secrets) },
            diagnosis: diagnosis, diagnosisText: text, journal: journal,
            syncedInvestigations: lastSync.map { _ in totals.investigations }, syncedLogSources: lastSync?.logSources,
            virtualSeconds: world.clock.elapsed, wallSeconds: Date().timeIntervalSince(wallStart))
    }
}

/// The tenant and secrets a scenario's spec turns into, all derived from its seed.
public struct ScenarioWorld: Sendable {
    public let scenario: Scenario
    public let clock: VirtualClock
    public let tenant: Tenant
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
        for key in spec.keys {
            let secret = random.uuid()
            secretByKey[key.id] = secret
            keys.append(APIKey(id: key.id, secret: secret, kind: key.kind, owner: key.owner, status: key.status,
                               expiresAt: key.expiresIn.map { start.addingTimeInterval($0) }))
        }
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
        let logs = generator.logSources(count: data.logSources)
        let auditLog = data.auditLog ? LogSource(id: generator.uuid(), name: "Audit Log", logsetID: generator.uuid(), logsetName: "Audit") : nil
        return Tenant(
            region: spec.region, organizationID: organizationID, organizationName: spec.organization,
            users: spec.users, keys: keys, investigations: investigations,
            alerts: generator.alerts(for: investigations, perInvestigation: data.alertsPerInvestigation, region: spec.region,
                                     organizationID: organizationID),
            logSources: logs,
            logEvents: generator.logEvents(for: logs, perLog: data.eventsPerLog, now: start, spreadDays: data.spreadDays),
            auditLog: auditLog,
            auditEvents: auditLog.map { generator.auditEvents(logID: $0.id, count: data.auditEvents, users: spec.users,
                                                              organizationID: organizationID, now: start, spreadDays: data.spreadDays) } ?? [],
            workflows: spec.workflows,
            accounts: generator.accounts(count: data.accounts, region: spec.region, organizationID: organizationID),
            queryPolls: data.queryPolls)
    }

    /// A fresh emulator holding this world's tenant, faults, timeline and rate limits.
    public func makeEmulator(clock: any InsightClock, journalCapacity: Int = 10_000) -> Emulator {
        Emulator(tenants: [tenant], faults: scenario.faults, timeline: scenario.timeline, rateLimits: scenario.tenant.rateLimits,
                 clock: clock, journalCapacity: journalCapacity, seed: scenario.seed)
    }

    /// The value a token spec stands for.
    public func resolve(_ token: TokenSpec) -> String {
        switch token {
        case .key(let id, let wrap): return wrap + (secretByKey[id] ?? "") + wrap
        case .literal(let text): return text
        case .unknown: return unknownSecret
        }
    }
}
