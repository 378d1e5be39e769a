import Foundation
import InsightCore
import InsightClient
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
    /// Recordings answer before the tenant's keys and rate limits, so a captured 401 or 429 is
    /// used as recorded (a customer's capture replayed as it happened).
    public var recordedAuth = false
    /// Virtual seconds per wall second for a command client (its time is the wall clock's).
    public var timeScale: Double = 1
    /// Words to select it by (`run --filter tag:NAME`).
    public var tags: [String] = []
    /// The seed rows (`SeedRows`) it reproduces, for `run --coverage`.
    public var covers: [String] = []
    /// Stop at the first failed step (the user gives up there); by default the steps written
    /// after a failure still run, so a scenario can tell a recovery.
    public var stopOnFailure = false
    /// What a reproduced capture does not show, and the scenario assumes: causes the capture
    /// never probed, marked "not checked by the capture" in the diagnosis whatever the
    /// emulator's world makes of them (`assumed: [{ cause: TEXT, because: TEXT }]`).
    public var assumed: [(cause: String, because: String)] = []
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
    public static let maxInvestigations = TenantLimits.maxInvestigations
    public static let maxEvents = TenantLimits.maxEvents
    public var investigations = 0
    public var alertsPerInvestigation = 0
    public var logSources = 0
    /// The logs are InsightIDR's standard log sets (Asset Authentication, Ingress
    /// Authentication, Active Directory Admin Activity …) instead of generic security logs.
    public var idrLogSets = false
    public var eventsPerLog = 0
    /// Audit records broken against the schema, spread through the log (each kind in turn).
    public var auditMalformed = 0
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
    /// Seconds after the start at which the key is created (a rotation's new key); nil: it
    /// exists from the start.
    public var createdAt: Double? = nil
}

/// How the scenario's token is made, so no secret is ever written in a scenario file.
public enum TokenSpec: Sendable, Hashable {
    /// The secret of a tenant key, with whitespace before and after it (a copy-paste slip: a
    /// space before, a line break after).
    case key(String, before: String, after: String)
    /// A literal value, for malformed tokens (empty, truncated).
    case literal(String)
    /// A well-formed key that no tenant knows.
    case unknown
    /// A tenant key with a slip in it: a character short, a character swapped, the wrong case.
    case edited(String, KeyEdit)

    /// The tenant key it names, if any.
    public var keyID: String? {
        if case .key(let id, _, _) = self { return id }
        return nil
    }

    /// A tenant key with the same whitespace on both sides.
    public static func key(_ id: String, wrap: String) -> TokenSpec { .key(id, before: wrap, after: wrap) }
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
    /// The user's own client: a command run against the scenario's tenant over HTTPS. The
    /// fields above then say what it is given (`R7_BASE_URL`, `R7_API_KEY` …).
    public var command: CommandSpec?
}

/// A client that is a command in any language. It reaches the emulator at the real Rapid7
/// host names through the proxy and the local CA its environment names.
public struct CommandSpec: Sendable {
    /// The program and its arguments; a single string is run by `/bin/sh -c`.
    public var arguments: [String]
    /// Variables of the scenario's choosing, after the ones the driver sets.
    public var environment: [(name: String, value: EnvironmentValue)] = []
    /// Wall seconds before the process is stopped (SIGTERM, then SIGKILL).
    public var timeout: Double = 120
    /// How the process's time runs: on the emulator's virtual clock (exact), or on the wall
    /// clock at the scenario's time scale.
    public var time: CommandTime = .virtual
    /// With `time: scaled`, run under libfaketime at the scenario's time scale, so the
    /// process's own sleeps (a Retry-After, a backoff) pass as fast as the emulator's time.
    public var faketime = false
    /// The working folder; default the current one.
    public var directory: String?

    public init(arguments: [String]) { self.arguments = arguments }
}

/// How an outside client's time runs.
public enum CommandTime: String, Sendable, CaseIterable {
    /// Its clock reads, sleeps and timeouts answer from the emulator's virtual clock (through
    /// the preloaded interposer); time moves only when nothing else can happen, so request
    /// times are exact and the same at any machine load.
    case virtual
    /// The wall clock at `time_scale` virtual seconds per second; checked with tolerances.
    case scaled
}

/// A variable's value: text, or a tenant key's secret (never written in the file).
public enum EnvironmentValue: Sendable, Hashable {
    case text(String)
    case token(TokenSpec)
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
    /// The auto-disable rule of seeds/003 ("60% in 12 hours"): the share of unsuccessful
    /// notifications, the window it is counted over, and the fewest notifications it needs
    /// (ASSUMED 5: the seed names no minimum, and one failure of one would be 100%).
    public var minimumRequests: Int
    public var disableThreshold: Double = 0.6
    public var disableWindow: Double = 12 * 3600
    /// What becomes of events while the integration is disabled (default: not sent, ASSUMED).
    public var whileDisabled: WhileDisabled = .drop
    /// What the 60% rule counts as a request (default: a notification, ASSUMED).
    public var disableCounts: DisableCounting = .notifications
}

/// What a slip does to a key: the literal a user ends up with, still named by the key's id.
public enum KeyEdit: Sendable, Hashable {
    case dropLast(Int)
    case dropFirst(Int)
    /// The characters at `at` and `at + 1` (from 0) exchanged: a typing slip.
    case swap(at: Int)
    case upperCase

    func apply(_ secret: String) -> String {
        switch self {
        case .dropLast(let count): return String(secret.dropLast(count))
        case .dropFirst(let count): return String(secret.dropFirst(count))
        case .upperCase: return secret.uppercased()
        case .swap(let at):
            var characters = Array(secret)
            guard at + 1 < characters.count else { return secret }
            characters.swapAt(at, at + 1)
            return String(characters)
        }
    }
}

public enum NotifierAction: String, Sendable, Hashable, CaseIterable {
    case enable, disable, delete
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
    /// seeds/003 "Disabling and deleting an integration": the user disables, re-enables or
    /// deletes the notifier.
    case notifier(NotifierAction)
    /// seeds/000 "Rotate Keys": the user pastes another key into the integration's Token field.
    case setToken(TokenSpec)
    /// Run the command client once (to its exit).
    case run

    public var description: String {
        switch self {
        case .validate: return "validate"
        case .sync: return "sync"
        case .wait(let seconds): return "wait \(Scenario.formatSeconds(seconds))"
        case .auditPull(let stop): return stop.map { "audit_pull (stop after \($0))" } ?? "audit_pull"
        case .testNotification: return "test_notification"
        case .notify(let events): return "notify \(events)"
        case .notifier(let action): return "notifier \(action.rawValue)"
        case .setToken(let token): return "set_token \(token.keyID ?? "literal")"
        case .run: return "run"
        }
    }

    /// Whether the step talks to the platform and so has an outcome of its own (a diagnosis,
    /// or none): what `step_diagnoses` lists.
    public var hasOutcome: Bool {
        switch self {
        case .validate, .sync, .auditPull, .testNotification, .notify: return true
        case .wait, .notifier, .setToken, .run: return false
        }
    }

    /// The client a step needs: `client` (URL + Token), `audit` or `notifier`.
    var needs: String {
        switch self {
        case .validate, .sync, .setToken: return "url and token"
        case .wait: return ""
        case .auditPull: return "audit"
        case .testNotification, .notify, .notifier: return "notifier"
        case .run: return "command"
        }
    }
}

extension Scenario {
    /// `86400`, `0.5`: a number as a variable gives it.
    package static func plainNumber(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    package static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.3fs", seconds)
    }
}
