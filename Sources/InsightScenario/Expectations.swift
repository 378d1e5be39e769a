import Foundation
import InsightCore
import InsightClient
import InsightEmulator

public struct Expectations: Sendable {
    /// Nothing expected yet: the loader fills in what a file says.
    public init() {}

    /// A category, or nil for "none": every step must succeed with data.
    public var diagnosis: DiagnosisCategory?
    public var summaryMentions: [String] = []
    public var evidence: [String] = []
    public var topCause: String?
    public var remedyMentions: [String] = []
    /// Causes that must be in the ranked list: at a rank (from 1), with a likelihood, or at all.
    public var causes: [CauseExpectation] = []
    /// Causes that must not be in the ranked list at all.
    public var notCauses: [String] = []
    /// The whole ranked list, each a substring of the cause at its rank, no more, no fewer.
    public var ranked: [String]?
    /// The whole evidence, in order: each a substring of the line at its place, no more, no fewer.
    public var evidenceLines: [String]?
    /// Text some line the built-in clients logged must contain, and text none may.
    public var logMentions: [String] = []
    public var logNotMentions: [String] = []
    /// Text no part of the diagnosis (summary, evidence, causes, remedies) may contain.
    public var notMentions: [String] = []
    public var requests: Int?
    public var requestTimes: [Double]?
    public var statuses: [Int]?
    public var syncedInvestigations: Int?
    public var syncedAlerts: Int?
    public var syncedLogEvents: Int?
    public var syncedLogSources: Int?
    /// Investigations handed on more than once, and those in the tenant (created before the
    /// last sync began, inside the first sync's 28-day look-back) never handed on.
    public var syncedDuplicates: Int?
    /// Log sets that must each have contributed events to the syncs (by their log's set).
    public var syncedFromLogSets: [String] = []
    public var syncedMissed: Int?
    public var auditProcessed: Int?
    public var auditRejected: Int?
    public var auditDuplicates: Int?
    /// Each a substring of the reason some rejected audit record was refused for.
    public var auditRejectedMentions: [String] = []
    /// When seeds/002's no-events alert must first be raised (virtual seconds), or `.never`.
    public var auditAlertAt: AlertExpectation?
    /// `Rapid7.AuditLog` fields every processed record must carry (`AuditRecord.schemaFields`).
    public var auditWithFields: [String] = []
    public var notificationsDelivered: Int?
    public var notificationsUndelivered: Int?
    /// Events not sent because the integration was disabled (the seed's plain reading).
    public var notificationsNotSent: Int?
    /// The outcome of each step that talks to the platform (validate, sync, audit_pull,
    /// test_notification, notify), in order: a category, or nil for none.
    public var stepDiagnoses: [DiagnosisCategory?]?
    public var notifierDisabled: Bool?
    /// The notifier's state at the end: enabled, disabled or deleted.
    public var notifierState: String?
    /// Each a substring of some system message the integration emitted about itself.
    public var systemMessages: [String] = []
    /// Events InsightConnect triggers received.
    public var deliveries: Int?
    public var deliveryMentions: [String] = []
    /// Text no event InsightConnect received may contain (an ordinary notification carries no
    /// "[Test message]").
    public var deliveryNotMentions: [String] = []
    /// Requests of a kind: count, statuses, times, headers.
    public var requestFilters: [RequestFilter] = []
    /// How late a request may be (virtual seconds); default exact in process, half a wall
    /// second at the time scale for a command.
    public var timeTolerance: Double?

    // A command client:
    public var exitCode: ExitExpectation?
    public var outputMentions: [String] = []
    public var stdoutMentions: [String] = []
    public var stderrMentions: [String] = []
    public var outputNotMentions: [String] = []
    /// Fields of the last JSON object the command printed on a line of its own.
    public var reported: [(name: String, value: JSON)] = []
}

public enum AlertExpectation: Sendable, Hashable {
    case at(Double)
    case never
}

/// `causes: [{ cause: TEXT, rank: N, likelihood: ruled_out }]`: TEXT is a substring of a ranked cause.
public struct CauseExpectation: Sendable, Hashable {
    public var cause: String
    public var rank: Int?
    public var likelihood: Likelihood?
}

public enum ExitExpectation: Sendable, Hashable, CustomStringConvertible {
    case code(Int32)
    case nonzero

    public var description: String {
        switch self {
        case .code(let code): return "exit code \(code)"
        case .nonzero: return "a non-zero exit code"
        }
    }

    package func matches(_ code: Int32) -> Bool {
        switch self {
        case .code(let wanted): return code == wanted
        case .nonzero: return code != 0
        }
    }
}

/// Requests of one kind, and what must hold for them.
public struct RequestFilter: Sendable {
    public var host: String?
    /// Exact, or a prefix when it ends with `*`.
    public var path: String?
    public var method: String?
    public var count: Int?
    public var statuses: [Int]?
    public var times: [Double]?
    /// Header names every matching request carries.
    public var headers: [String] = []

    public init() {}

    package func matches(_ entry: JournalEntry) -> Bool {
        if let host, entry.host != host { return false }
        if let method, entry.method != method { return false }
        if let path {
            if path.hasSuffix("*") {
                if !entry.path.hasPrefix(String(path.dropLast())) { return false }
            } else if entry.path != path {
                return false
            }
        }
        return true
    }

    package var label: String {
        let parts = [method, host, path].compactMap { $0 }
        return parts.isEmpty ? "all requests" : "requests \(parts.joined(separator: " "))"
    }
}
