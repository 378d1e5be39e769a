import Foundation
import InsightCore
import InsightEmulator

/// A scenario: the tenant, the faults, how the client is configured, the steps it takes, and
/// what must be true afterwards. The schema is published in docs/scenario.schema.json.
public struct Scenario: Sendable {
    public var name: String
    /// The seed document row or customer case it reproduces.
    public var provenance: String
    public var description: String?
    /// Where it was loaded from, for reports.
    public var file: String
    public var seed: UInt64
    public var start: Date
    public var tenant: TenantSpec
    public var faults: [FaultRule]
    public var timeline: [TimelineEvent]
    public var client: ClientSpec
    public var steps: [Step]
    public var expect: Expectations
    /// Recordings whose exchanges answer the client's requests (after auth, rate limits, faults).
    public var recordings: [String] = []
}

public struct TenantSpec: Sendable {
    public var region: Region
    public var organization: String
    public var users: [User]
    public var keys: [KeySpec]
    public var data: DataSpec
    public var workflows: [Workflow]
    public var rateLimits: [EndpointFamily: RateLimit]
}

/// How much seeded data the tenant holds, spread over `spreadDays` before the start.
public struct DataSpec: Sendable {
    public var investigations = 0
    public var alertsPerInvestigation = 0
    public var logSources = 0
    public var eventsPerLog = 0
    /// Audit events; with `auditLog` false the audit log is not enabled at all.
    public var auditEvents = 0
    public var auditLog = false
    public var accounts = 0
    public var spreadDays = 7.0
    /// Polls a Log Search query needs before it completes (0: 200 at once).
    public var queryPolls = 1
}

public struct KeySpec: Sendable {
    public var id: String
    public var kind: APIKey.Kind
    public var owner: String?
    public var status: APIKey.Status
    /// Seconds after the start at which the key expires.
    public var expiresIn: Double?
}

/// How the scenario's token is made, so no secret is ever written in a scenario file.
public enum TokenSpec: Sendable, Hashable {
    /// The secret of a tenant key, optionally wrapped in whitespace (a copy-paste slip).
    case key(String, wrap: String)
    /// A literal value, for malformed tokens (empty, truncated).
    case literal(String)
    /// A well-formed key that no tenant knows.
    case unknown
}

/// How the integrations are configured: the seeds/000 client (URL + Token), the seeds/002
/// audit puller (storage region + API key) and the seeds/003 notifier (API URL + API key).
public struct ClientSpec: Sendable {
    public var url: String?
    public var token: TokenSpec?
    public var adminToken: TokenSpec?
    public var serviceUser: String?
    public var maxAttempts: Int?
    public var audit: AuditSpec?
    public var notifier: NotifierSpec?
}

public struct AuditSpec: Sendable {
    public var storageRegion: String
    public var token: TokenSpec
    public var perPage: Int
    public var alertAfter: Double
}

public struct NotifierSpec: Sendable {
    public var url: String
    public var token: TokenSpec
    public var queueCapacity: Int
    public var minimumRequests: Int
}

public enum Step: Sendable, Hashable, CustomStringConvertible {
    case validate
    case sync
    case wait(Double)
    /// Pull audit logs; with `stopAfter`, the sink stops taking records after that many (a crash).
    case auditPull(stopAfter: Int?)
    /// seeds/003 "Test integration".
    case testNotification
    /// Queue `events` notifications and deliver them.
    case notify(events: Int)

    public var description: String {
        switch self {
        case .validate: return "validate"
        case .sync: return "sync"
        case .wait(let seconds): return "wait \(Scenario.formatSeconds(seconds))"
        case .auditPull(let stop): return stop.map { "audit_pull (stop after \($0))" } ?? "audit_pull"
        case .testNotification: return "test_notification"
        case .notify(let events): return "notify \(events)"
        }
    }

    /// The client a step needs: `client` (URL + Token), `audit` or `notifier`.
    var needs: String {
        switch self {
        case .validate, .sync: return "url and token"
        case .wait: return ""
        case .auditPull: return "audit"
        case .testNotification, .notify: return "notifier"
        }
    }
}

public struct Expectations: Sendable {
    /// A category, or nil for "none": every step must succeed with data.
    public var diagnosis: DiagnosisCategory?
    public var summaryMentions: [String] = []
    public var evidence: [String] = []
    public var topCause: String?
    public var remedyMentions: [String] = []
    public var requests: Int?
    public var requestTimes: [Double]?
    public var statuses: [Int]?
    public var syncedInvestigations: Int?
    public var syncedAlerts: Int?
    public var syncedLogEvents: Int?
    public var syncedLogSources: Int?
    public var auditProcessed: Int?
    public var auditRejected: Int?
    public var auditDuplicates: Int?
    public var notificationsDelivered: Int?
    public var notificationsUndelivered: Int?
    public var notifierDisabled: Bool?
    /// Events InsightConnect triggers received.
    public var deliveries: Int?
    public var deliveryMentions: [String] = []
}

extension Scenario {
    static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.3fs", seconds)
    }
}
