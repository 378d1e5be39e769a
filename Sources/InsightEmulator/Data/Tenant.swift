import Foundation
import InsightCore

/// A user of an organization, as the platform's user management knows it.
public struct User: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case active, deactivated, locked, suspended, deleted
    }

    public var email: String
    public var firstName: String
    public var lastName: String
    public var status: Status
    public var roles: [String]
    public var products: [String]
    public var platformAdmin: Bool
    /// When the user last changed their password; user keys made before it stop working
    /// (ASSUMED: seeds/000 lists "Service user password was changed" among the causes of API
    /// key issues; the public record does not say how the platform ties the two).
    public var passwordChangedAt: Date?

    public init(
        email: String, firstName: String = "Service", lastName: String = "User", status: Status = .active,
        roles: [String] = [], products: [String] = [], platformAdmin: Bool = false
    ) {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.status = status
        self.roles = roles
        self.products = products
        self.platformAdmin = platformAdmin
    }

    public func hasRole(_ role: String) -> Bool {
        roles.contains { $0.equalsIgnoringCase(role) }
    }
    public func hasProduct(_ product: String) -> Bool {
        products.contains { $0.equalsIgnoringCase(product) }
    }
}

/// Role and product names as the platform's user management shows them.
public enum Roles {
    public static let idrAnalyst = "Insight IDR Analyst"
    public static let idrAdministrator = "Insight IDR Administrator"
    public static let logSearchViewOnly = "Log Search View Only"
    public static let logSearchAdmin = "Log Search Admin"
    public static let platformAdmin = "Platform Admin"
    /// Roles that grant none of the access the seeds' integrations need (ASSUMED names, after
    /// the platform's "Read Only" and product "Admin" roles): a user changed to one loses it.
    public static let idrReadOnly = "Insight IDR Read Only"
    public static let connectAdmin = "InsightConnect Admin"
    /// Every role a scenario or the admin API may name; anything else is a typo.
    public static let known = [idrAnalyst, idrAdministrator, idrReadOnly, logSearchViewOnly, logSearchAdmin, platformAdmin, connectAdmin]
}

public enum Products {
    public static let insightIDR = "InsightIDR"
    public static let insightConnect = "InsightConnect"
    public static let insightOps = "InsightOps"
    public static let known = [insightIDR, insightConnect, insightOps]
}

/// A platform API key. The secret is what a client sends; `id` is the name scenarios and
/// journals use, so the secret itself never has to be written anywhere.
public struct APIKey: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case user, organization }
    public enum Status: String, Sendable, Hashable, CaseIterable { case active, revoked, expired, deleted }

    public var id: String
    public var secret: String
    public var kind: Kind
    /// The owning user's email; organization keys have none.
    public var owner: String?
    public var status: Status
    /// When set, the key stops working at this instant.
    public var expiresAt: Date?
    /// When it was created, if after the start (a rotation's key); nil: before everything.
    public var createdAt: Date?

    public init(id: String, secret: String, kind: Kind, owner: String? = nil, status: Status = .active, expiresAt: Date? = nil) {
        self.id = id
        self.secret = secret
        self.kind = kind
        self.owner = owner
        self.status = status
        self.expiresAt = expiresAt
    }
}

/// One InsightIDR investigation, with the fields the v1 and v2 APIs show.
public struct Investigation: Sendable, Hashable {
    public var id: String
    public var rrn: String
    public var title: String
    public var status: String
    public var priority: String
    public var source: String
    public var disposition: String
    public var assigneeEmail: String?
    public var assigneeName: String?
    public var createdTime: Date
    public var lastAccessed: Date

    public init(id: String, rrn: String, title: String, status: String, priority: String, source: String,
                disposition: String, assigneeEmail: String?, assigneeName: String?, createdTime: Date)
    {
        self.id = id
        self.rrn = rrn
        self.title = title
        self.status = status
        self.priority = priority
        self.source = source
        self.disposition = disposition
        self.assigneeEmail = assigneeEmail
        self.assigneeName = assigneeName
        self.createdTime = createdTime
        lastAccessed = createdTime
    }
}

/// One alert, attached to an investigation or not.
public struct Alert: Sendable, Hashable {
    public var id: String
    public var rrn: String
    public var investigationRRN: String?
    public var title: String
    public var alertType: String
    public var alertTypeDescription: String
    public var priority: String
    public var status: String
    public var createdTime: Date
    public var firstEventTime: Date
    public var latestEventTime: Date
    public var detectionRuleRRN: String
    /// What `PATCH /idr/at/alerts/{rrn}` may change beyond status and priority.
    public var disposition = "UNDECIDED"
    public var assigneeID: String? = nil
}

/// One Log Search log (an event source), as `/management/logs` lists it.
public struct LogSource: Sendable, Hashable {
    public var id: String
    public var name: String
    public var logsetID: String
    public var logsetName: String

    public init(id: String, name: String, logsetID: String, logsetName: String) {
        self.id = id
        self.name = name
        self.logsetID = logsetID
        self.logsetName = logsetName
    }
}

/// One stored log event. `message` is a string, usually JSON, as Log Search returns it.
public struct LogSearchEvent: Sendable, Hashable {
    public var logID: String
    /// Milliseconds since 1970.
    public var timestamp: Int64
    public var sequenceNumber: Int64
    public var message: String

    public init(logID: String, timestamp: Int64, sequenceNumber: Int64, message: String) {
        self.logID = logID
        self.timestamp = timestamp
        self.sequenceNumber = sequenceNumber
        self.message = message
    }
}

/// An InsightConnect workflow with an API trigger.
public struct Workflow: Sendable, Hashable {
    public var id: String
    public var name: String
    public var active: Bool
    /// "Require API Key authentication" ticked; otherwise the URL itself is the secret.
    public var requireAPIKey: Bool

    public init(id: String, name: String, active: Bool = true, requireAPIKey: Bool = true) {
        self.id = id
        self.name = name
        self.active = active
        self.requireAPIKey = requireAPIKey
    }
}

/// An event an API trigger received, kept so a scenario can check what arrived and when.
public struct Delivery: Sendable, Hashable, Codable {
    public var workflowID: String
    public var jobID: String
    public var time: Date
    /// `legacy` (`/connect/v1/workflows/{id}/events/execute`) or `async` (`/execute/async/workflows/{id}`).
    public var style: String
    /// The key id that sent it, nil when the workflow needs none.
    public var keyID: String?
    public var body: String
}

/// An account IDR knows (`/idr/v1/accounts`).
/// A person as IDR's user behaviour analytics know them.
public struct IDRUser: Sendable, Hashable {
    public var rrn: String
    public var name: String
    public var domain: String
}

public struct Account: Sendable, Hashable {
    public var rrn: String
    public var name: String
    public var domain: String
    public var disabled: Bool
}

/// One organization in one region: its users, keys and data.
public struct Tenant: Sendable {
    public var region: Region
    public var organizationID: String
    public var organizationName: String
    public var users: [User]
    public var keys: [APIKey]
    /// Made on demand from the seed (see `Records`), with API changes on top.
    public var investigations: Investigations
    public var alerts: Alerts
    public var logSources: [LogSource]
    /// Events per log id, oldest first.
    public var logEvents: [String: LogEvents]
    /// The audit log (seeds/002): enabled or not, and its events.
    public var auditLog: LogSource?
    public var auditEvents: LogEvents
    public var workflows: [Workflow]
    public var accounts: [Account]
    /// Polls a Log Search query needs before it completes: 0 answers 200 at once; 1 (default)
    /// answers 202 then 200 on the first poll.
    public var queryPolls: Int
    /// Collaboration state the API writes: comments, attachments, custom threats.
    public var comments: [Comment] = []
    public var attachments: [Attachment] = []
    public var threats: [CustomThreat] = []
    /// Log Search objects the API wrote, by `ManagedKind` (saved queries, labels, detection rules,
    /// notifications, targets, variables); a kind never written reads as an account starts.
    public var managed: [String: [JSON]] = [:]

    public init(
        region: Region, organizationID: String, organizationName: String, users: [User] = [],
        keys: [APIKey] = [], investigations: Investigations = [], alerts: Alerts = [],
        logSources: [LogSource] = [], logEvents: [String: LogEvents] = [:], auditLog: LogSource? = nil,
        auditEvents: LogEvents = [], workflows: [Workflow] = [], accounts: [Account] = [], queryPolls: Int = 1
    ) {
        self.region = region
        self.organizationID = organizationID
        self.organizationName = organizationName
        self.users = users
        self.keys = keys
        self.investigations = investigations
        self.alerts = alerts
        self.logSources = logSources
        self.logEvents = logEvents
        self.auditLog = auditLog
        self.auditEvents = auditEvents
        self.workflows = workflows
        self.accounts = accounts
        self.queryPolls = queryPolls
    }

    public func user(email: String) -> User? {
        users.first { $0.email.equalsIgnoringCase(email) }
    }
    func userIndex(email: String) -> Int? {
        users.firstIndex { $0.email.equalsIgnoringCase(email) }
    }
    func keyIndex(id: String) -> Int? { keys.firstIndex { $0.id == id } }

    /// The users IDR knows (`/idr/v1/users`): the directory people behind the accounts, and the
    /// platform's own users. Rrns are fixed by name and domain.
    func idrUsers() -> [IDRUser] {
        var seen = Set<String>()
        var all: [IDRUser] = []
        for user in users where user.status != .deleted {
            let domain = user.email.split(separator: "@").last.map(String.init) ?? ""
            let made = IDRUser(rrn: userRRN(user), name: "\(user.firstName) \(user.lastName)", domain: domain)
            if seen.insert(made.rrn).inserted { all.append(made) }
        }
        for account in accounts {
            let made = accountUser(account)
            if seen.insert(made.rrn).inserted { all.append(made) }
        }
        return all
    }

    /// The assets IDR knows: a fixed inventory of hosts per organization (ASSUMED size), the
    /// ones alerts and events name.
    static let assetCount = 900
    static func assetName(_ position: Int) -> String { "host-\(position + 100)" }
    func assetRRN(_ position: Int) -> String {
        var random = SeededRandom(seed: 0, label: "\(organizationID)/asset/\(position)")
        return "rrn:uba:\(region.code):\(organizationID):asset:\(random.token(length: 12))"
    }

    /// The directory user an account belongs to: one per account name and domain.
    func accountUser(_ account: Account) -> IDRUser {
        var random = SeededRandom(seed: 0, label: "\(account.domain)\\\(account.name)".lowercased())
        return IDRUser(rrn: "rrn:uba:\(region.code):\(organizationID):user:\(random.token(length: 12))", name: account.name,
                       domain: account.domain)
    }

    /// A user's rrn, stable for the email.
    func userRRN(_ user: User) -> String {
        var random = SeededRandom(seed: 0, label: user.email.lowercased())
        return "rrn:uba:\(region.code):\(organizationID):user:\(random.token(length: 12))"
    }
}
