import Foundation
import InsightCore

/// The demo tenant `serve` loads with no scenario: one organization per region with data of
/// every kind, and keys fixed by a seed so the README can show them.
public enum DemoWorld {
    public static let seed: UInt64 = 20_260_101
    public static let serviceUser = "svc-integration@example.com"
    public static let adminUser = "admin@example.com"

    /// The demo key of a region and kind: `demo-us2-user`, `demo-us2-org`.
    public static func keyID(_ region: Region, _ kind: APIKey.Kind) -> String {
        "demo-\(region.code)-\(kind == .user ? "user" : "org")"
    }

    /// How much data each demo organization holds; made on demand, so any size starts at once.
    public struct Size: Sendable {
        public var investigations = 120
        /// One log in each of IDR's seven standard log sets.
        public var logSources = 7
        public var eventsPerLog = 200
        public init() {}

        /// What is wrong with this size, in the words of `serve`'s options, or nil.
        public var problem: String? {
            guard (0...TenantLimits.maxInvestigations).contains(investigations) else {
                return "--investigations must be 0…\(TenantLimits.maxInvestigations), not \(investigations)"
            }
            guard (1...TenantLimits.maxLogSources).contains(logSources) else {
                return "--log-sources must be 1…\(TenantLimits.maxLogSources), not \(logSources)"
            }
            let (events, overflow) = logSources.multipliedReportingOverflow(by: eventsPerLog)
            guard eventsPerLog >= 0, !overflow, events <= TenantLimits.maxEvents else {
                return "--log-sources × --events-per-log must be 0…\(TenantLimits.maxEvents), not \(logSources) × \(eventsPerLog)"
            }
            return nil
        }
    }

    public static func tenants(now: Date, size: Size = Size()) -> [Tenant] {
        Region.allCases.map { region in
            var generator = DataGenerator(seed: seed, label: "demo-\(region.code)")
            var keys = SeededRandom(seed: seed, label: "demo-keys-\(region.code)")
            let organization = generator.uuid()
            let users = [
                User(email: serviceUser, firstName: "Service", lastName: "Integration",
                     roles: [Roles.idrAnalyst, Roles.logSearchViewOnly], products: [Products.insightIDR, Products.insightConnect]),
                User(email: adminUser, firstName: "Ada", lastName: "Admin", roles: [Roles.platformAdmin],
                     products: Products.known, platformAdmin: true),
            ]
            let investigations = generator.investigations(count: size.investigations, region: region, organizationID: organization,
                                                          now: now, spreadDays: 21)
            let logs = generator.idrLogSources(count: size.logSources)
            let auditLog = LogSource(id: generator.uuid(), name: "Audit Log", logsetID: generator.uuid(), logsetName: "Audit")
            return Tenant(
                region: region, organizationID: organization, organizationName: "Demo \(region.displayName)",
                users: users,
                keys: [APIKey(id: keyID(region, .user), secret: keys.uuid(), kind: .user, owner: serviceUser),
                       APIKey(id: keyID(region, .organization), secret: keys.uuid(), kind: .organization)],
                investigations: investigations,
                alerts: generator.alerts(for: investigations, perInvestigation: 2, region: region, organizationID: organization),
                logSources: logs,
                logEvents: generator.logEvents(for: logs, perLog: size.eventsPerLog, now: now, spreadDays: 7),
                auditLog: auditLog,
                auditEvents: generator.auditEvents(logID: auditLog.id, count: 100, users: users, organizationID: organization,
                                                   now: now, spreadDays: 7),
                workflows: [Workflow(id: keys.uuid(), name: "Demo notification", active: true, requireAPIKey: true),
                            Workflow(id: keys.uuid(), name: "Retired workflow", active: false, requireAPIKey: true)],
                accounts: generator.accounts(count: 25, region: region, organizationID: organization))
        }
    }
}

/// Runs `body` with an emulator that lives only for its duration (the in-process counterpart
/// of `withServer`).
public func withEmulator<T>(
    tenants: [Tenant], faults: [FaultRule] = [], timeline: [TimelineEvent] = [], clock: any InsightClock = VirtualClock(),
    _ body: (Emulator) async throws -> T
) async rethrows -> T {
    try await body(Emulator(tenants: tenants, faults: faults, timeline: timeline, clock: clock))
}
