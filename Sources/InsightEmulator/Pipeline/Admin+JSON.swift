import Foundation
import InsightCore

/// JSON forms of state changes and faults, for the admin API (`POST /_admin/state`, `/_admin/faults`).
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
            throw EmulatorError.adminInput("give one action as {\"NAME\": …}, NAME one of \(Self.names.joined(separator: ", "))")
        }
        // An object-valued action takes exactly its fields: a field it does not know is refused,
        // not ignored (a "region" inside an action would otherwise be silently dropped).
        let fields: [String: [String]] = [
            "remove_role": ["user", "role"], "add_role": ["user", "role"], "remove_product": ["user", "product"],
            "add_product": ["user", "product"], "change_email": ["from", "to"], "change_role": ["user", "from", "to"],
            "create_key": ["id", "kind", "owner", "secret"],
        ]
        if case .object(let inner) = value {
            let allowed = fields[name] ?? []
            if let unknown = inner.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw EmulatorError.adminInput("\(name).\(unknown): unknown field; \(allowed.isEmpty ? "\(name) takes a string" : "allowed: \(allowed.joined(separator: ", "))")\(unknown == "region" || unknown == "organization" ? " (name the tenant beside the action: {\"\(name)\": …, \"\(unknown)\": …})" : "")")
            }
        }
        func text(_ field: String? = nil) throws -> String {
            let node = field.map { value[$0] } ?? value
            guard let found = node?.stringValue, !found.isEmpty else {
                throw EmulatorError.adminInput("\(name)\(field.map { ".\($0)" } ?? ""): expected a non-empty string")
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
            guard let count = value.intValue, (1...100_000).contains(count) else { throw EmulatorError.adminInput("\(name): expected a count of 1…100000") }
            self = .addData(TimelineEvent.DataKind(rawValue: String(name.dropFirst(4)))!, count: count)
        case "create_key":
            guard let kind = APIKey.Kind(rawValue: try text("kind")) else {
                throw EmulatorError.adminInput("create_key.kind: expected user or organization")
            }
            let secret = try text("secret")
            guard Redaction.isKeyShaped(secret) else { throw EmulatorError.adminInput("create_key.secret: expected a UUID-shaped key") }
            self = .createKey(APIKey(id: try text("id"), secret: secret, kind: kind,
                                     owner: kind == .user ? try text("owner") : nil))
        default:
            throw EmulatorError.adminInput("'\(name)' is not an action; use one of \(Self.names.joined(separator: ", "))")
        }
    }
}

/// One admin state change: the action, and the tenant it is for (`region` and/or
/// `organization` beside it), or every tenant that has what it names.
public struct AdminChange: Sendable {
    public let action: TimelineEvent.Action
    public let region: Region?
    public let organization: String?

    /// `{"revoke_key": "main"}`, `{"create_key": {…}, "region": "us2"}`,
    /// `{"remove_role": {…}, "organization": "Example Organization US"}`.
    public init(json: JSON) throws {
        guard case .object(var object) = json else {
            throw EmulatorError.adminInput("give one action as {\"NAME\": …}, NAME one of \(TimelineEvent.Action.names.joined(separator: ", "))")
        }
        var region: Region?
        if let value = object.removeValue(forKey: "region") {
            guard let name = value.stringValue, let found = Region(name: name) else {
                throw EmulatorError.adminInput("region: expected one of \(Region.allCases.map(\.code).joined(separator: ", "))")
            }
            region = found
        }
        var organization: String?
        if let value = object.removeValue(forKey: "organization") {
            guard let name = value.stringValue, !name.isEmpty else { throw EmulatorError.adminInput("organization: expected its name") }
            organization = name
        }
        action = try TimelineEvent.Action(json: .object(object))
        self.region = region
        self.organization = organization
    }

    public func matches(_ tenant: Tenant) -> Bool {
        (region == nil || tenant.region == region) && (organization.map { tenant.organizationName.caseInsensitiveCompare($0) == .orderedSame } ?? true)
    }
}

extension FaultRule {
    /// The effects a fault has, exactly one per fault.
    public static let effects = ["status", "latency", "reset", "truncate", "malformed_json"]

    /// Parses a fault as the admin API takes it, by the same rules as a scenario's `faults:`
    /// (docs/scenario.schema.json): `{"path":"/validate","status":429,"count":2,"retry_after":30}`,
    /// `{"status":302,"headers":{"Location":"https://…/login"},"count":5}`, `{"latency":5,"count":1}`,
    /// `{"reset":true,"count":1}`, `{"truncate":true,…}`, `{"malformed_json":true,…}`.
    public init(json: JSON) throws {
        guard case .object(let object) = json else { throw EmulatorError.adminInput("a fault is a JSON object") }
        let allowed = ["path", "method", "region", "status", "body", "headers", "retry_after", "latency", "reset", "truncate",
                       "malformed_json", "count", "after", "probability"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw EmulatorError.adminInput("unknown fault field '\(unknown)'; allowed: \(allowed.joined(separator: ", "))")
        }
        func int(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value = object[name] else { return nil }
            guard let number = value.intValue, range.contains(number) else {
                throw EmulatorError.adminInput("\(name) must be a whole number \(range.lowerBound)…\(range.upperBound)")
            }
            return number
        }
        func number(_ name: String) -> Double? {
            switch object[name] {
            case .int(let value)?: return Double(value)
            case .double(let value)?: return value
            default: return nil
            }
        }
        func mustBeTrue(_ name: String) throws {
            guard object[name]?.boolValue == true else { throw EmulatorError.adminInput("\(name): write true, or leave the field out") }
        }
        var path: String?
        if let value = object["path"] {
            guard let text = value.stringValue, !text.isEmpty else { throw EmulatorError.adminInput("path must be a non-empty string") }
            guard text.hasPrefix("/") else { throw EmulatorError.adminInput("path '\(text)' must start with /") }
            path = text
        }
        var method: String?
        if let value = object["method"] {
            let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
            guard let text = value.stringValue, let found = methods.first(where: { $0.caseInsensitiveCompare(text) == .orderedSame }) else {
                throw EmulatorError.adminInput("method must be one of \(methods.joined(separator: ", "))")
            }
            method = found
        }
        var region: Region?
        if let value = object["region"] {
            guard let name = value.stringValue, let found = Region(name: name) else {
                throw EmulatorError.adminInput("region must be one of \(Region.allCases.map(\.code).joined(separator: ", "))")
            }
            region = found
        }
        let present = Self.effects.filter { object[$0] != nil }
        guard present.count == 1 else { throw EmulatorError.adminInput("give exactly one effect of: \(Self.effects.joined(separator: ", "))") }
        let effect: Effect
        switch present[0] {
        case "status":
            let status = try int("status", 300...599)!
            var body: String?
            if let value = object["body"] {
                guard let text = value.stringValue else { throw EmulatorError.adminInput("body must be a string") }
                guard text.utf8.count <= 1 << 20 else { throw EmulatorError.adminInput("a fault's body may be up to 1 MB") }
                body = text
            }
            var headers: [String: String] = [:]
            if let value = object["headers"] {
                guard case .object(let fields) = value else { throw EmulatorError.adminInput("headers must be an object of names and values") }
                for (name, field) in fields {
                    guard !name.isEmpty, name.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ":") }) else {
                        throw EmulatorError.adminInput("headers: '\(name)' is not a header name (letters, digits and - _ .)")
                    }
                    guard let text = field.stringValue, !text.contains("\r"), !text.contains("\n") else {
                        throw EmulatorError.adminInput("headers.\(name): a header value is one line of text")
                    }
                    headers[name] = text
                }
            }
            let retryAfter = try int("retry_after", 0...86_400)
            if (300...399).contains(status), !headers.keys.contains(where: { $0.caseInsensitiveCompare("Location") == .orderedSame }) {
                throw EmulatorError.adminInput("a \(status) redirect needs headers: {\"Location\": URL}")
            }
            if body == nil, headers.isEmpty, status == 429 || status >= 500 {
                effect = .status(status, retryAfter: retryAfter)
            } else {
                if let retryAfter { headers["Retry-After"] = "\(retryAfter)" }
                effect = .answer(FaultAnswer(status: status, body: body, headers: headers))
            }
        case "latency":
            guard let seconds = number("latency"), seconds >= 0, seconds.isFinite else { throw EmulatorError.adminInput("latency must be seconds (0 or more)") }
            effect = .latency(seconds)
        case "reset": try mustBeTrue("reset"); effect = .reset
        case "truncate": try mustBeTrue("truncate"); effect = .truncatedBody
        default: try mustBeTrue("malformed_json"); effect = .malformedJSON
        }
        if present[0] != "status", let name = ["retry_after", "body", "headers"].first(where: { object[$0] != nil }) {
            throw EmulatorError.adminInput("\(name) goes with status")
        }
        guard let count = try int("count", 1...1_000_000) else {
            throw EmulatorError.adminInput("count is required: how many requests the fault hits (1…1000000)")
        }
        let after = try int("after", 0...1_000_000) ?? 0
        let probability = object["probability"] == nil ? 1 : number("probability")
        guard let probability, (0...1).contains(probability) else { throw EmulatorError.adminInput("probability must be a number from 0 to 1") }
        self.init(path: path, method: method, region: region, effect: effect, count: count, after: after, probability: probability)
    }

    /// The form `GET /_admin/faults` lists.
    public func json(seen: Int) -> JSON {
        ["rule": .string(description), "path": path.map(JSON.string) ?? .null, "method": method.map(JSON.string) ?? .null,
         "region": region.map { .string($0.code) } ?? .null, "count": .int(Int64(count)), "after": .int(Int64(after)),
         "seen": .int(Int64(seen)), "remaining": .int(Int64(max(0, after + count - seen)))]
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
