import InsightCore
import Foundation

/// A change to tenant state at a virtual instant: a key revoked mid-sync, a role removed,
/// a user suspended. Applied before the first request at or after `at`.
public struct TimelineEvent: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        case setKeyStatus(key: String, APIKey.Status)
        case setUserStatus(email: String, User.Status)
        case removeRole(email: String, role: String)
        case addRole(email: String, role: String)
        case removeProduct(email: String, product: String)
        case changeEmail(from: String, to: String)
        case addProduct(email: String, product: String)
        /// Adds a key (key rotation: the new key works while the old one still does).
        case createKey(APIKey)
        /// The user changes their password: their user keys made before it stop working.
        case changePassword(email: String)
        /// A role modified: `from` replaced by `to` (seeds/000 "Roles were removed or changed").
        case changeRole(email: String, from: String, to: String)
        /// Data that arrives: `count` items of a kind created in the second before the action.
        case addData(DataKind, count: Int)
    }

    /// What `addData` creates.
    public enum DataKind: String, Sendable, Hashable, CaseIterable {
        /// Investigations, each with one alert.
        case investigations
        /// Events in every Log Search log (count per log).
        case logEvents = "log_events"
        /// Audit log events (needs the audit log).
        case auditEvents = "audit_events"
    }

    /// Seconds after the emulator's epoch.
    public var at: Double
    public var action: Action

    public init(at: Double, _ action: Action) {
        self.at = at
        self.action = action
    }
}

extension Tenant {
    /// Applies an action; false when it names a key or user this tenant does not have.
    mutating func apply(_ action: TimelineEvent.Action, at now: Date) -> Bool {
        switch action {
        case .changePassword(let email):
            guard let index = userIndex(email: email) else { return false }
            users[index].passwordChangedAt = now
        case .addData(let kind, let count):
            // Made from the organization and the instant, so the same scenario gets the same data.
            var generator = DataGenerator(seed: UInt64(bitPattern: Int64(now.timeIntervalSince1970 * 1000)), label: "arrival-\(organizationID)-\(kind.rawValue)")
            let window = 1.0 / 86_400  // the second before `now`
            switch kind {
            case .investigations:
                let made = generator.investigations(count: count, region: region, organizationID: organizationID, now: now, spreadDays: window)
                alerts += Array(generator.alerts(for: Investigations(Array(made)), perInvestigation: 1, region: region, organizationID: organizationID))
                investigations += Array(made)
            case .logEvents:
                guard !logSources.isEmpty else { return false }
                for (logID, events) in generator.logEvents(for: logSources, perLog: count, now: now, spreadDays: window) {
                    logEvents[logID, default: []] += Array(events)
                }
            case .auditEvents:
                guard let auditLog else { return false }
                auditEvents += Array(generator.auditEvents(logID: auditLog.id, count: count, users: users, organizationID: organizationID,
                                                           now: now, spreadDays: window))
            }
        case .changeRole(let email, let from, let to):
            guard let index = userIndex(email: email), users[index].hasRole(from) else { return false }
            users[index].roles.removeAll { $0.caseInsensitiveCompare(from) == .orderedSame }
            if !users[index].hasRole(to) { users[index].roles.append(to) }
        case .setKeyStatus(let id, let status):
            guard let index = keyIndex(id: id) else { return false }
            keys[index].status = status
        case .setUserStatus(let email, let status):
            guard let index = userIndex(email: email) else { return false }
            users[index].status = status
        case .removeRole(let email, let role):
            guard let index = userIndex(email: email) else { return false }
            users[index].roles.removeAll { $0.caseInsensitiveCompare(role) == .orderedSame }
        case .addRole(let email, let role):
            guard let index = userIndex(email: email) else { return false }
            if !users[index].hasRole(role) { users[index].roles.append(role) }
        case .removeProduct(let email, let product):
            guard let index = userIndex(email: email) else { return false }
            users[index].products.removeAll { $0.caseInsensitiveCompare(product) == .orderedSame }
        case .addProduct(let email, let product):
            guard let index = userIndex(email: email) else { return false }
            if !users[index].hasProduct(product) { users[index].products.append(product) }
        case .createKey(var key):
            if let owner = key.owner, userIndex(email: owner) == nil { return false }
            if keyIndex(id: key.id) != nil || keys.contains(where: { $0.secret == key.secret }) { return false }
            if key.createdAt == nil { key.createdAt = now }
            keys.append(key)
        case .changeEmail(let from, let to):
            guard let index = userIndex(email: from) else { return false }
            users[index].email = to
            for keyIndex in keys.indices where keys[keyIndex].owner?.caseInsensitiveCompare(from) == .orderedSame {
                keys[keyIndex].owner = to
            }
        }
        return true
    }
}

extension TimelineEvent.Action: CustomStringConvertible {
    /// For reports: key ids and masked emails only, never a secret.
    public var description: String {
        let mask = Redaction.maskEmail
        switch self {
        case .setKeyStatus(let key, let status): return "key \(key) → \(status.rawValue)"
        case .setUserStatus(let email, let status): return "user \(mask(email)) → \(status.rawValue)"
        case .removeRole(let email, let role): return "role \(role) removed from \(mask(email))"
        case .addRole(let email, let role): return "role \(role) added to \(mask(email))"
        case .removeProduct(let email, let product): return "product \(product) removed from \(mask(email))"
        case .addProduct(let email, let product): return "product \(product) added to \(mask(email))"
        case .changeEmail(let from, let to): return "email \(mask(from)) changed to \(mask(to))"
        case .createKey(let key): return "key \(key.id) created"
        case .changePassword(let email): return "password of \(mask(email)) changed"
        case .changeRole(let email, let from, let to): return "role \(from) of \(mask(email)) changed to \(to)"
        case .addData(let kind, let count): return "\(count) \(kind.rawValue.replacingOccurrences(of: "_", with: " ")) arrived"
        }
    }
}
