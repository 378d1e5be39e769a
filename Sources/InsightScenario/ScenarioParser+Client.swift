import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Yams

/// The client section: settings, tokens, key edits and steps.
extension ScenarioParser {
    /// - Parameter tenant: nil when the tenant could not be read: the key's id is then unchecked.
    func token(_ value: YAMLValue, _ tenant: TenantSpec?) throws -> TokenSpec {
        guard case .mapping = value.node else {
            throw value.error("a token is a mapping: { key: main } (a tenant key by id), { literal: \"…\" } or { unknown: true }")
        }
        var map = try value.mapping()
        let keyValue = map.optional("key")
        let literal = try map.optional("literal")?.string()
        let unknown = try map.optional("unknown")?.bool() ?? false
        let editValue = map.optional("edit")
        // wrap: "  " on both sides, or { before: " ", after: "\n" }.
        var wrap = (before: "", after: "")
        let wrapValue = map.optional("wrap")
        if let wrapValue {
            if case .mapping = wrapValue.node {
                var sides = try wrapValue.mapping()
                wrap = (try sides.optional("before")?.string() ?? "", try sides.optional("after")?.string() ?? "")
                try sides.finish()
            } else {
                let both = try wrapValue.string()
                wrap = (both, both)
            }
        }
        try map.finish()
        let forms = [keyValue != nil, literal != nil, unknown].filter { $0 }.count
        guard forms == 1 else { throw value.error("give exactly one of key: ID, literal: TEXT or unknown: true") }
        if let keyValue {
            let id = try keyValue.nonEmptyString()
            if let tenant, !tenant.keys.contains(where: { $0.id == id }) {
                throw keyValue.error("no key '\(id)' in tenant.keys (\(Self.known(tenant)))")
            }
            guard (wrap.before + wrap.after).allSatisfy(\.isWhitespace) else {
                throw (wrapValue ?? value).error("wrap may hold only spaces, tabs and line breaks")
            }
            if let editValue {
                if wrapValue != nil { throw editValue.error("give edit or wrap, not both") }
                return .edited(id, try keyEdit(editValue))
            }
            return .key(id, before: wrap.before, after: wrap.after)
        }
        if let editValue { throw editValue.error("edit applies to key: ID (the tenant's key with a slip in it)") }
        if wrapValue != nil { throw value.error("wrap applies to key: ID (the tenant's key with whitespace around it)") }
        if let literal { return .literal(literal) }
        return .unknown
    }

    /// `edit: { drop_last: 1 }`, `{ drop_first: 2 }`, `{ swap_at: 7 }` or `{ upper_case: true }`.
    func keyEdit(_ value: YAMLValue) throws -> KeyEdit {
        var map = try value.mapping()
        let kinds = ["drop_last", "drop_first", "swap_at", "upper_case"].filter { map.keys.contains($0) }
        guard kinds.count == 1 else { throw value.error("an edit is one of: drop_last: N, drop_first: N, swap_at: N, upper_case: true") }
        let edit: KeyEdit
        switch kinds[0] {
        case "drop_last": edit = .dropLast(try map.required("drop_last").int(in: 1...35))
        case "drop_first": edit = .dropFirst(try map.required("drop_first").int(in: 1...35))
        case "swap_at": edit = .swap(at: try map.required("swap_at").int(in: 0...34))
        default:
            try Self.mustBeTrue(map.required("upper_case"))
            edit = .upperCase
        }
        try map.finish()
        return edit
    }

    func clientSpec(_ value: YAMLValue, _ tenant: TenantSpec?) throws -> ClientSpec {
        var map = try value.mapping()
        let urlValue = map.optional("url")
        let url = try urlValue?.string()
        let tokenValue = map.optional("token")
        let token = try tokenValue.map { try self.token($0, tenant) }

        let admin = try map.optional("admin_token").map { try self.token($0, tenant) }
        let serviceUserValue = map.optional("service_user")
        let serviceUser = try serviceUserValue?.nonEmptyString()
        let maxAttempts = try map.optional("max_attempts")?.int(in: 1...100)
        var audit: AuditSpec?
        if let auditValue = map.optional("audit") {
            var inner = try auditValue.mapping()
            audit = AuditSpec(
                storageRegion: try inner.required("storage_region").string(),
                token: try self.token(try inner.required("token"), tenant),
                perPage: try inner.optional("per_page")?.int(in: 1...500) ?? 500,
                alertAfter: try inner.optional("alert_after")?.number(min: 1) ?? 86_400)
            try inner.finish()
        }
        var notifier: NotifierSpec?
        if let notifierValue = map.optional("notifier") {
            var inner = try notifierValue.mapping()
            notifier = NotifierSpec(
                url: try inner.required("url").string(),
                token: try self.token(try inner.required("token"), tenant),
                queueCapacity: try inner.optional("queue_capacity")?.int(in: 1...1_000_000) ?? 1_000,
                minimumRequests: try inner.optional("minimum_requests")?.int(in: 1...1_000_000) ?? 5)
            if let threshold = inner.optional("disable_threshold") {
                // A share (0.6) or a percentage (60%), as the seed writes it.
                var share: Double
                if case .scalar(let scalar) = threshold.node, scalar.string.hasSuffix("%"),
                   let percent = Double(scalar.string.dropLast().trimmingCharacters(in: .whitespaces)) {
                    share = percent / 100
                } else {
                    share = try threshold.number()
                }
                guard share > 0, share <= 1 else { throw threshold.error("must be above 0 and at most 1 (or 100%), found \(share)") }
                notifier?.disableThreshold = share
            }
            if let window = inner.optional("disable_window") {
                notifier?.disableWindow = try window.number(min: 1)
            }
            if let value = inner.optional("while_disabled") {
                notifier?.whileDisabled = WhileDisabled(rawValue: try value.choice(WhileDisabled.allCases.map(\.rawValue)))!
            }
            if let value = inner.optional("disable_counts") {
                notifier?.disableCounts = DisableCounting(rawValue: try value.choice(DisableCounting.allCases.map(\.rawValue)))!
            }
            try inner.finish()
        }
        var command: CommandSpec?
        if let commandValue = map.optional("command") {
            var spec: CommandSpec
            if case .scalar = commandValue.node {
                spec = CommandSpec(arguments: ["/bin/sh", "-c", try commandValue.nonEmptyString()])
            } else {
                let arguments = try commandValue.list().map { try $0.string() }
                guard let first = arguments.first, !first.isEmpty else { throw commandValue.error("needs the program to run, then its arguments") }
                spec = CommandSpec(arguments: arguments)
            }
            if let envValue = map.optional("env") {
                var env = try envValue.mapping()
                for name in env.keys {
                    guard name.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil else {
                        throw envValue.error("'\(name)' is not a variable name (letters, digits, underscore)")
                    }
                    let value = env.optional(name)!
                    if case .mapping = value.node {
                        spec.environment.append((name, .token(try self.token(value, tenant))))
                    } else {
                        spec.environment.append((name, .text(try value.string())))
                    }
                }
                try env.finish()
            }
            spec.timeout = try map.optional("timeout")?.number(min: 0.1) ?? 120
            spec.faketime = try map.optional("faketime")?.bool() ?? false
            if let timeValue = map.optional("time") {
                let name = try timeValue.string()
                guard let time = CommandTime(rawValue: name) else {
                    throw timeValue.error("must be one of \(CommandTime.allCases.map(\.rawValue).joined(separator: ", ")), found '\(name)'")
                }
                if time == .virtual, spec.faketime {
                    throw timeValue.error("faketime goes with time: scaled (on virtual time the client's sleeps already take no wall time)")
                }
                spec.time = time
            } else if spec.faketime {
                spec.time = .scaled
            }
            spec.directory = try map.optional("directory")?.nonEmptyString()
            command = spec
        } else {
            for field in ["env", "timeout", "faketime", "time", "directory"] where map.keys.contains(field) {
                throw map.optional(field)!.error("\(field) goes with command (a client that is a program of yours)")
            }
        }
        // Unknown fields first, so a misspelt field is named rather than reported as missing.
        try map.finish()
        if command == nil, (url == nil) != (token == nil) {
            throw value.error(url == nil ? "token goes with url (a SIEM connector's settings); add url" : "url goes with token (a SIEM connector's settings); add token")
        }
        if let serviceUserValue, admin == nil {
            throw serviceUserValue.error("service_user is looked up with admin_token; add admin_token")
        }
        if url == nil, audit == nil, notifier == nil, command == nil {
            throw value.error("configure at least one integration: url + token (a SIEM connector), audit (an audit-log pull), notifier (an InsightConnect trigger) or command (your own client)")
        }
        return ClientSpec(url: url, token: token, adminToken: admin, serviceUser: serviceUser, maxAttempts: maxAttempts,
                          audit: audit, notifier: notifier, command: command)
    }

    static let stepForms = "validate, sync, audit_pull, test_notification, run, {wait: S}, {audit_pull: {stop_after: N}}, {notify: {events: N}}, {notifier: enable|disable|delete}, {set_token: TOKEN}"

    /// A step's form, checked against the client and tenant when they could be read (nil: the
    /// form alone, so a step's mistake is reported with the tenant's).
    func step(_ value: YAMLValue, _ client: ClientSpec?, _ tenant: TenantSpec?) throws -> Step {
        let step: Step
        if case .scalar = value.node {
            let scalars = ["validate", "sync", "audit_pull", "test_notification", "run"]
            let text = try value.string()
            guard let form = scalars.first(where: { $0.caseInsensitiveCompare(text) == .orderedSame }) else {
                throw value.error("'\(text)' is not a step\(YAMLMapping.hint(text, scalars + ["wait", "notify", "notifier", "set_token"])); a step is one of: \(Self.stepForms)")
            }
            switch form {
            case "validate": step = .validate
            case "sync": step = .sync
            case "audit_pull": step = .auditPull(stopAfter: nil)
            case "run": step = .run
            default: step = .testNotification
            }
        } else {
            var map = try value.mapping()
            let kinds = ["wait", "audit_pull", "notify", "notifier", "set_token"].filter { map.keys.contains($0) }
            guard kinds.count == 1 else { throw value.error("a step is one of: \(Self.stepForms)") }
            switch kinds[0] {
            case "wait":
                step = .wait(try map.required("wait").number())
            case "audit_pull":
                var inner = try map.required("audit_pull").mapping()
                step = .auditPull(stopAfter: try inner.optional("stop_after")?.int(in: 0...10_000_000))
                try inner.finish()
            case "set_token":
                step = .setToken(try token(try map.required("set_token"), tenant))
            case "notifier":
                step = .notifier(NotifierAction(rawValue: try map.required("notifier").choice(NotifierAction.allCases.map(\.rawValue)))!)
            default:
                var inner = try map.required("notify").mapping()
                step = .notify(events: try inner.required("events").int(in: 1...100_000))
                try inner.finish()
            }
            try map.finish()
        }
        guard let client else { return step }
        if client.command != nil {
            guard step == .run || step.needs.isEmpty else {
                throw value.error("a command client takes the steps run and {wait: S}; \(step) is a step of the built-in clients")
            }
            return step
        }
        let configured = (step.needs == "url and token" && client.url != nil) || (step.needs == "audit" && client.audit != nil)
            || (step.needs == "notifier" && client.notifier != nil) || step.needs.isEmpty
        guard configured else { throw value.error("\(step) needs client.\(step.needs == "url and token" ? "url and client.token" : step.needs)") }
        return step
    }
}
