import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Yams

/// Faults and the timeline: request filters, fault rules and timed events.
extension ScenarioParser {
    func requestFilter(_ value: YAMLValue) throws -> RequestFilter {
        var map = try value.mapping()
        var filter = RequestFilter()
        filter.host = try map.optional("host")?.nonEmptyString().lowercased()
        if let path = try map.optional("path")?.nonEmptyString() {
            guard path.hasPrefix("/") else { throw value.error("path '\(path)' must start with / (end it with * for a prefix)") }
            filter.path = path
        }
        filter.method = try map.optional("method")?.choice(["GET", "POST", "PUT", "PATCH", "DELETE"])
        filter.count = try map.optional("count")?.int(in: 0...1_000_000)
        filter.statuses = try map.optional("statuses")?.list().map { try $0.int(in: 0...599) }
        filter.times = try map.optional("times")?.list().map { try $0.number() }
        filter.headers = try map.optional("headers")?.strings().map { $0.lowercased() } ?? []
        try map.finish()
        return filter
    }

    static let faultEffects = ["status", "latency", "reset", "truncate", "malformed_json"]

    func fault(_ value: YAMLValue) throws -> FaultRule {
        var map = try value.mapping()
        let path = try map.optional("path")?.nonEmptyString()
        if let path, !path.hasPrefix("/") { throw value.error("path '\(path)' must start with /") }
        let method = try map.optional("method")?.choice(["GET", "POST", "PUT", "PATCH", "DELETE"])
        let region = try map.optional("region").map(region)
        let present = Self.faultEffects.filter { map.keys.contains($0) }
        guard present.count == 1 else {
            throw value.error("needs exactly one effect of: \(Self.faultEffects.joined(separator: ", "))")
        }
        let effect: FaultRule.Effect
        switch present[0] {
        case "status":
            let statusValue = try map.required("status")
            let status = try statusValue.int(in: 300...599)
            let body = try map.optional("body")?.string()
            if let body, body.utf8.count > 1 << 20 { throw map.optional("body")!.error("a fault's body may be up to 1 MB") }
            var headers: [String: String] = [:]
            if let headersValue = map.optional("headers") {
                var fields = try headersValue.mapping()
                for name in fields.keys {
                    let field = fields.optional(name)!
                    guard !name.isEmpty, name.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ":") }) else {
                        throw field.error("'\(name)' is not a header name (letters, digits and - _ .)")
                    }
                    let text = try field.string()
                    guard !text.contains("\r"), !text.contains("\n") else { throw field.error("a header value is one line") }
                    headers[name] = text
                }
            }
            let retryAfter = try map.optional("retry_after")?.int(in: 0...86_400)
            if (300...399).contains(status), !headers.keys.contains(where: { $0.caseInsensitiveCompare("Location") == .orderedSame }) {
                throw statusValue.error("a \(status) redirect needs headers: { Location: URL }")
            }
            if body == nil, headers.isEmpty, status == 429 || status >= 500 {
                // The platform's own shapes: 429 with its rate-limit headers, 5xx with the message.
                effect = .status(status, retryAfter: retryAfter)
            } else {
                if let retryAfter { headers["Retry-After"] = "\(retryAfter)" }
                effect = .answer(FaultAnswer(status: status, body: body, headers: headers))
            }
        case "latency": effect = .latency(try map.required("latency").number())
        case "reset": try Self.mustBeTrue(map.required("reset")); effect = .reset
        case "truncate": try Self.mustBeTrue(map.required("truncate")); effect = .truncatedBody
        default: try Self.mustBeTrue(map.required("malformed_json")); effect = .malformedJSON
        }
        switch effect {
        case .status, .answer: break
        default:
            for name in ["retry_after", "body", "headers"] {
                if let field = map.optional(name) { throw field.error("\(name) goes with status") }
            }
        }
        let count = try map.required("count").int(in: 1...1_000_000)
        let after = try map.optional("after")?.int(in: 0...1_000_000) ?? 0
        let probability = try map.optional("probability")?.number() ?? 1
        if probability > 1 { throw value.error("probability must be between 0 and 1") }
        try map.finish()
        return FaultRule(path: path, method: method, region: region, effect: effect, count: count, after: after,
                         probability: probability)
    }

    static func mustBeTrue(_ value: YAMLValue) throws {
        guard try value.bool() else { throw value.error("write true, or leave the field out") }
    }

    static func known(_ tenant: TenantSpec) -> String {
        tenant.keys.isEmpty ? "tenant.keys is empty" : "known: \(tenant.keys.map(\.id).joined(separator: ", "))"
    }

    /// The admin API's actions but `create_key` (a scenario declares its keys up front).
    static let eventActions = TimelineEvent.Action.names.filter { $0 != "create_key" }

    func event(_ value: YAMLValue, _ tenant: TenantSpec) throws -> TimelineEvent {
        var map = try value.mapping()
        let at = try map.required("at").number()
        let present = Self.eventActions.filter { name in map.keys.contains(name) }
        guard present.count == 1, let name = present.first, let actionValue = map.optional(name) else {
            throw value.error("needs exactly one action of: \(Self.eventActions.joined(separator: ", "))")
        }
        for other in Self.eventActions where other != name { _ = map.optional(other) }
        let action: TimelineEvent.Action
        func keyID() throws -> String {
            let id = try actionValue.nonEmptyString()
            guard tenant.keys.contains(where: { $0.id == id }) else {
                throw actionValue.error("no key '\(id)' in tenant.keys (\(Self.known(tenant)))")
            }
            return id
        }
        func email(_ value: YAMLValue) throws -> String {
            let email = try value.nonEmptyString()
            guard tenant.users.contains(where: { $0.email.caseInsensitiveCompare(email) == .orderedSame }) else {
                throw value.error("no user '\(email)' in tenant.users")
            }
            return email
        }
        func pair(_ first: String, _ second: String) throws -> (String, String) {
            var inner = try actionValue.mapping()
            let a = try inner.required(first)
            let b = try inner.required(second)
            try inner.finish()
            let named = second == "role" ? try Self.name(b, in: Roles.known, what: "role")
                : second == "product" ? try Self.name(b, in: Products.known, what: "product") : try b.nonEmptyString()
            return (try first == "user" ? email(a) : a.nonEmptyString(), named)
        }
        switch name {
        case "revoke_key": action = .setKeyStatus(key: try keyID(), .revoked)
        case "expire_key": action = .setKeyStatus(key: try keyID(), .expired)
        case "delete_key": action = .setKeyStatus(key: try keyID(), .deleted)
        case "activate_key": action = .setKeyStatus(key: try keyID(), .active)
        case "suspend_user": action = .setUserStatus(email: try email(actionValue), .suspended)
        case "lock_user": action = .setUserStatus(email: try email(actionValue), .locked)
        case "deactivate_user": action = .setUserStatus(email: try email(actionValue), .deactivated)
        case "delete_user": action = .setUserStatus(email: try email(actionValue), .deleted)
        case "reactivate_user": action = .setUserStatus(email: try email(actionValue), .active)
        case "remove_role": let (u, r) = try pair("user", "role"); action = .removeRole(email: u, role: r)
        case "add_role": let (u, r) = try pair("user", "role"); action = .addRole(email: u, role: r)
        case "remove_product": let (u, p) = try pair("user", "product"); action = .removeProduct(email: u, product: p)
        case "add_product": let (u, p) = try pair("user", "product"); action = .addProduct(email: u, product: p)
        case "change_password": action = .changePassword(email: try email(actionValue))
        case "add_investigations", "add_log_events", "add_audit_events":
            let kind = TimelineEvent.DataKind(rawValue: String(name.dropFirst(4)))!
            let count = try actionValue.int(in: 1...100_000)
            // Made in the second before `at`: at 0 it would interleave with the data the tenant starts with.
            guard at >= 1 else { throw map.optional("at")!.error("data arrives at 1 s or later (it is made in the second before)") }
            if kind == .auditEvents, !tenant.data.auditLog { throw actionValue.error("audit events need the audit log: give tenant.data.audit_events") }
            if kind == .logEvents, tenant.data.logSources == 0 { throw actionValue.error("log events need logs: give tenant.data.log_sources") }
            action = .addData(kind, count: count)
        case "change_role":
            var inner = try actionValue.mapping()
            let user = try email(try inner.required("user"))
            let from = try inner.required("from").nonEmptyString()
            let to = try Self.name(try inner.required("to"), in: Roles.known, what: "role")
            try inner.finish()
            guard tenant.users.first(where: { $0.email.caseInsensitiveCompare(user) == .orderedSame })?.hasRole(from) == true else {
                throw actionValue.error("\(user) has no role '\(from)' to change")
            }
            action = .changeRole(email: user, from: from, to: to)
        default:
            var inner = try actionValue.mapping()
            let from = try email(try inner.required("from"))
            let to = try inner.required("to").nonEmptyString()
            try inner.finish()
            action = .changeEmail(from: from, to: to)
        }
        try map.finish()
        return TimelineEvent(at: at, action)
    }
}
