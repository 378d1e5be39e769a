import Foundation
import InsightCore

/// JSON forms of state changes and faults, for the admin API (`POST /_admin/state`, `/_admin/faults`).
public struct AdminInputError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

extension TimelineEvent.Action {
    /// The action names, as scenario timelines and the admin API spell them.
    public static let names = ["revoke_key", "expire_key", "delete_key", "activate_key", "create_key", "suspend_user", "lock_user",
                               "deactivate_user", "delete_user", "reactivate_user", "remove_role", "add_role",
                               "remove_product", "add_product", "change_email", "change_password", "change_role",
                               "add_investigations", "add_log_events", "add_audit_events"]

    /// Parses `{"revoke_key":"main"}`, `{"remove_role":{"user":…,"role":…}}`,
    /// `{"create_key":{"id":…,"kind":"user","owner":…,"secret":…}}` …
    public init(json: JSON) throws {
        guard case .object(let object) = json, object.count == 1, let (name, value) = object.first else {
            throw AdminInputError(message: "give one action as {\"NAME\": …}, NAME one of \(Self.names.joined(separator: ", "))")
        }
        func text(_ field: String? = nil) throws -> String {
            let node = field.map { value[$0] } ?? value
            guard let found = node?.stringValue, !found.isEmpty else {
                throw AdminInputError(message: "\(name)\(field.map { ".\($0)" } ?? ""): expected a non-empty string")
            }
            return found
        }
        switch name {
        case "revoke_key": self = .setKeyStatus(key: try text(), .revoked)
        case "expire_key": self = .setKeyStatus(key: try text(), .expired)
        case "delete_key": self = .setKeyStatus(key: try text(), .deleted)
        case "activate_key": self = .setKeyStatus(key: try text(), .active)
        case "suspend_user": self = .setUserStatus(email: try text(), .suspended)
        case "lock_user": self = .setUserStatus(email: try text(), .locked)
        case "deactivate_user": self = .setUserStatus(email: try text(), .deactivated)
        case "delete_user": self = .setUserStatus(email: try text(), .deleted)
        case "reactivate_user": self = .setUserStatus(email: try text(), .active)
        case "remove_role": self = .removeRole(email: try text("user"), role: try text("role"))
        case "add_role": self = .addRole(email: try text("user"), role: try text("role"))
        case "remove_product": self = .removeProduct(email: try text("user"), product: try text("product"))
        case "add_product": self = .addProduct(email: try text("user"), product: try text("product"))
        case "change_email": self = .changeEmail(from: try text("from"), to: try text("to"))
        case "change_password": self = .changePassword(email: try text())
        case "change_role": self = .changeRole(email: try text("user"), from: try text("from"), to: try text("to"))
        case "add_investigations", "add_log_events", "add_audit_events":
            guard let count = value.intValue, (1...100_000).contains(count) else { throw AdminInputError(message: "\(name): expected a count of 1…100000") }
            self = .addData(TimelineEvent.DataKind(rawValue: String(name.dropFirst(4)))!, count: count)
        case "create_key":
            guard let kind = APIKey.Kind(rawValue: try text("kind")) else {
                throw AdminInputError(message: "create_key.kind: expected user or organization")
            }
            let secret = try text("secret")
            guard Redaction.isKeyShaped(secret) else { throw AdminInputError(message: "create_key.secret: expected a UUID-shaped key") }
            self = .createKey(APIKey(id: try text("id"), secret: secret, kind: kind,
                                     owner: kind == .user ? try text("owner") : nil))
        default:
            throw AdminInputError(message: "'\(name)' is not an action; use one of \(Self.names.joined(separator: ", "))")
        }
    }
}

extension FaultRule {
    /// Parses `{"path":"/validate","status":429,"count":2,"retry_after":30}` and the other
    /// effects: `"latency": SECONDS`, `"reset": true`, `"truncate": true`, `"malformed_json": true`.
    public init(json: JSON) throws {
        guard case .object(let object) = json else { throw AdminInputError(message: "a fault is a JSON object") }
        let allowed: Set = ["path", "method", "region", "status", "retry_after", "latency", "reset", "truncate", "malformed_json",
                            "count", "after", "probability"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw AdminInputError(message: "unknown fault field '\(unknown)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        var effects: [Effect] = []
        if let status = json["status"]?.intValue {
            guard (400...599).contains(status) else { throw AdminInputError(message: "status must be 400…599") }
            effects.append(.status(status, retryAfter: json["retry_after"]?.intValue))
        }
        if let latency = json["latency"] {
            guard let seconds = latency.intValue.map(Double.init) ?? { if case .double(let v) = latency { return v } else { return nil } }(),
                  seconds >= 0 else { throw AdminInputError(message: "latency must be seconds (0 or more)") }
            effects.append(.latency(seconds))
        }
        if json["reset"]?.boolValue == true { effects.append(.reset) }
        if json["truncate"]?.boolValue == true { effects.append(.truncatedBody) }
        if json["malformed_json"]?.boolValue == true { effects.append(.malformedJSON) }
        guard effects.count == 1, let effect = effects.first else {
            throw AdminInputError(message: "give exactly one effect: status, latency, reset, truncate or malformed_json")
        }
        var region: Region?
        if let name = json["region"]?.stringValue {
            guard let found = Region(name: name) else { throw AdminInputError(message: "region '\(name)' is unknown") }
            region = found
        }
        let probability: Double
        switch json["probability"] {
        case nil: probability = 1
        case .int(let value)?: probability = Double(value)
        case .double(let value)?: probability = value
        default: throw AdminInputError(message: "probability must be a number from 0 to 1")
        }
        guard (0...1).contains(probability) else { throw AdminInputError(message: "probability must be a number from 0 to 1") }
        self.init(path: json["path"]?.stringValue, method: json["method"]?.stringValue, region: region, effect: effect,
                  count: json["count"]?.intValue ?? 1, after: json["after"]?.intValue ?? 0, probability: probability)
    }
}

extension JournalEntry {
    /// The form the admin API (`GET /_admin/journal`) shows.
    public var json: JSON {
        ["sequence": .int(Int64(sequence)), "time": .string(time.iso8601Millis), "elapsed": .double(elapsed), "method": .string(method),
         "host": .string(host), "path": .string(path), "query": .string(query), "key_id": keyID.map(JSON.string) ?? .null,
         "status": .int(Int64(status)), "reason": .string(reason), "headers": .array(headerNames.map(JSON.string)),
         "retry_after": retryAfter.map(JSON.double) ?? .null]
    }
}

extension Emulator {
    /// The journal as JSON for the admin API: newest `limit` entries, oldest first.
    public func journalJSON(limit: Int) -> JSON {
        let journal = self.journal
        return ["entries": .array(journal.ordered.suffix(max(0, limit)).map(\.json)),
                "dropped": .int(Int64(journal.dropped)), "capacity": .int(Int64(journal.capacity)),
                "total": .int(Int64(journal.total))]
    }

    public func deliveriesJSON() -> JSON {
        .array(deliveries.map { delivery in
            ["workflow_id": .string(delivery.workflowID), "job_id": .string(delivery.jobID), "time": .string(delivery.time.iso8601Millis),
             "style": .string(delivery.style), "key_id": delivery.keyID.map(JSON.string) ?? .null, "body": .string(delivery.body)]
        })
    }

    /// Every key of every tenant; with `secrets`, each key's secret (for a harness that presented
    /// the admin token and must send it), else null.
    public func keysJSON(secrets: Bool = true) -> JSON {
        .array(allTenants.flatMap { tenant in
            tenant.keys.map { key in
                ["id": .string(key.id), "secret": secrets ? .string(key.secret) : .null, "kind": .string(key.kind.rawValue),
                 "status": .string(key.status.rawValue), "owner": key.owner.map(JSON.string) ?? .null,
                 "region": .string(tenant.region.code), "organization": .string(tenant.organizationName)]
            }
        })
    }
}
