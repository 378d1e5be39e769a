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
        roles.contains { $0.caseInsensitiveCompare(role) == .orderedSame }
    }
    public func hasProduct(_ product: String) -> Bool {
        products.contains { $0.caseInsensitiveCompare(product) == .orderedSame }
    }
}

/// Role and product names as the platform's user management shows them.
public enum Roles {
    public static let idrAnalyst = "Insight IDR Analyst"
    public static let idrAdministrator = "Insight IDR Administrator"
    public static let logSearchViewOnly = "Log Search View Only"
    public static let logSearchAdmin = "Log Search Admin"
    public static let platformAdmin = "Platform Admin"
    public static let known = [idrAnalyst, idrAdministrator, logSearchViewOnly, logSearchAdmin, platformAdmin]
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
}

/// One Log Search log (an event source), as `/management/logs` lists it.
public struct LogSource: Sendable, Hashable {
    public var id: String
    public var name: String
    public var logsetID: String
    public var logsetName: String
}

/// One organization in one region: its users, keys and data.
public struct Tenant: Sendable {
    public var region: Region
    public var organizationID: String
    public var organizationName: String
    public var users: [User]
    public var keys: [APIKey]
    public var investigations: [Investigation]
    public var logSources: [LogSource]

    public init(
        region: Region, organizationID: String, organizationName: String, users: [User] = [],
        keys: [APIKey] = [], investigations: [Investigation] = [], logSources: [LogSource] = []
    ) {
        self.region = region
        self.organizationID = organizationID
        self.organizationName = organizationName
        self.users = users
        self.keys = keys
        self.investigations = investigations
        self.logSources = logSources
    }

    public func user(email: String) -> User? {
        users.first { $0.email.caseInsensitiveCompare(email) == .orderedSame }
    }
    func userIndex(email: String) -> Int? {
        users.firstIndex { $0.email.caseInsensitiveCompare(email) == .orderedSame }
    }
    func keyIndex(id: String) -> Int? { keys.firstIndex { $0.id == id } }
}
