import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Yams

/// The tenant section: region, users, keys, workflows and generated data.
extension ScenarioParser {
    func region(_ value: YAMLValue) throws -> Region {
        let text = try value.string()
        guard let region = Region(name: text) else {
            throw value.error("'\(text)' is not a region; use one of \(Region.allCases.map(\.code).joined(separator: ", ")) or its name (e.g. United States - 3)\(YAMLMapping.hint(text, Region.allCases.map(\.code) + Region.allCases.map(\.displayName)))")
        }
        return region
    }

    /// The tenant, every independent part read on its own so its errors come together: each
    /// user, each key (owners checked once the users are read), the data, the workflows, the
    /// rate limits.
    func tenantSpec(_ value: YAMLValue) throws -> TenantSpec {
        var map = try value.mapping()
        let gathered = ScenarioError.Gathered(file: file)
        func part<T>(_ body: () throws -> T) -> T? { gathered.attempt(body) }
        /// Each item of a list on its own; nil when any failed.
        func each<T>(_ list: YAMLValue?, _ read: (YAMLValue) throws -> T) -> [T]? {
            guard let list else { return [] }
            guard let items = part({ try list.list() }) else { return nil }
            let read = items.map { item in part { try read(item) } }
            return read.contains { $0 == nil } ? nil : read.compactMap { $0 }
        }
        let region = part { try self.region(try map.required("region")) }
        let organization = part { try map.optional("organization")?.nonEmptyString() ?? "Example Organization" }
        let usersValue = map.optional("users")
        let users = each(usersValue, user)
        // Duplicates by the raw field, so a mistake elsewhere in an item does not hide them.
        func duplicates(_ list: YAMLValue?, field: String, say: (String) -> String) {
            var seen = Set<String>()
            for item in (try? list?.list()) ?? [] {
                guard var fields = try? item.mapping(), let text = try? fields.optional(field)?.string() else { continue }
                if !seen.insert(text.lowercased()).inserted { _ = part { throw item.error(say(text)) } }
            }
        }
        duplicates(usersValue, field: "email") { "duplicate user \($0)" }
        let keysValue = part { try map.required("keys") }
        // Owners are checked against the users when those could be read.
        let keys = keysValue.flatMap { each($0) { try key($0, users: users) } }
        duplicates(keysValue, field: "id") { "duplicate key id '\($0)'" }
        let data = part { try map.optional("data").map(dataSpec) ?? DataSpec() }
        let workflows = each(map.optional("workflows"), workflow)
        let rateLimits = part { () throws -> [EndpointFamily: RateLimit] in
            var rateLimits: [EndpointFamily: RateLimit] = [:]
            guard let limitsValue = map.optional("rate_limits") else { return [:] }
            var limits = try limitsValue.mapping()
            for family in EndpointFamily.allCases {
                guard let value = limits.optional(family.rawValue) else { continue }
                var inner = try value.mapping()
                let limit = try inner.required("limit").int(in: 0...10_000_000)
                let window = try inner.optional("window")?.number(min: 1) ?? 900
                try inner.finish()
                rateLimits[family] = RateLimit(limit: limit, window: window)
            }
            try limits.finish()
            return rateLimits
        }
        _ = part { try map.finish() }
        try gathered.throwIfAny(sorted: true)
        guard let region, let organization, let users, let keys, let data, let workflows, let rateLimits else {
            throw value.error("could not be read")
        }
        return TenantSpec(region: region, organization: organization, users: users, keys: keys, data: data,
                          workflows: workflows, rateLimits: rateLimits)
    }

    func dataSpec(_ dataValue: YAMLValue) throws -> DataSpec {
        var data = DataSpec()
        var inner = try dataValue.mapping()
        data.investigations = try inner.optional("investigations")?.int(in: 0...DataSpec.maxInvestigations) ?? 0
        data.alertsPerInvestigation = try inner.optional("alerts_per_investigation")?.int(in: 0...100) ?? 0
        data.logSources = try inner.optional("log_sources")?.int(in: 0...TenantLimits.maxLogSources) ?? 0
        if let sets = inner.optional("log_sets") { data.idrLogSets = try sets.choice(["generic", "idr"]) == "idr" }
        let eventsValue = inner.optional("events_per_log")
        data.eventsPerLog = try eventsValue?.int(in: 0...DataSpec.maxEvents) ?? 0
        if let audit = inner.optional("audit_events") {
            data.auditEvents = try audit.int(in: 0...DataSpec.maxEvents)
            data.auditLog = true
        }
        if let malformed = inner.optional("audit_malformed") {
            data.auditMalformed = try malformed.int(in: 0...100_000)
            if data.auditMalformed > data.auditEvents { throw malformed.error("more malformed records (\(data.auditMalformed)) than audit_events (\(data.auditEvents))") }
        }
        data.accounts = try inner.optional("accounts")?.int(in: 0...100_000) ?? 0
        data.spreadDays = try inner.optional("spread_days")?.number() ?? 7
        data.queryPolls = try inner.optional("query_polls")?.int(in: 0...100) ?? 1
        try inner.finish()
        if data.eventsPerLog > 0, data.logSources == 0 {
            throw dataValue.error("events_per_log needs log_sources")
        }
        if let eventsValue, data.logSources.multipliedReportingOverflow(by: data.eventsPerLog).partialValue > DataSpec.maxEvents {
            throw eventsValue.error("log_sources × events_per_log is \(data.logSources) × \(data.eventsPerLog); at most \(DataSpec.maxEvents) log events in all")
        }
        return data
    }

    /// A role or product name as the platform spells it, with the allowed list and the nearest.
    static func name(_ value: YAMLValue, in known: [String], what: String) throws -> String {
        let text = try value.nonEmptyString()
        guard let match = known.first(where: { $0.caseInsensitiveCompare(text) == .orderedSame }) else {
            throw value.error("'\(text)' is not a \(what) the platform knows: \(known.joined(separator: ", "))\(YAMLMapping.hint(text, known))")
        }
        return match
    }

    func workflow(_ value: YAMLValue) throws -> Workflow {
        var map = try value.mapping()
        let idValue = try map.required("id")
        let id = try idValue.nonEmptyString()
        // InsightConnect workflow ids are UUIDs (the trigger URL carries one).
        guard UUID(uuidString: id) != nil else {
            throw idValue.error("'\(id)' is not a workflow id: InsightConnect's are UUIDs, like 5e2b1c4d-6a7f-4b8c-9d0e-1f2a3b4c5d6e")
        }
        let name = try map.optional("name")?.string() ?? "Workflow \(id)"
        let active = try map.optional("active")?.bool() ?? true
        let requireKey = try map.optional("require_api_key")?.bool() ?? true
        try map.finish()
        return Workflow(id: id, name: name, active: active, requireAPIKey: requireKey)
    }

    func user(_ value: YAMLValue) throws -> User {
        var map = try value.mapping()
        let email = try map.required("email").nonEmptyString()
        guard email.contains("@") else { throw value.error("email '\(email)' has no @") }
        let status = try map.optional("status")?.choice(User.Status.allCases.map(\.rawValue)) ?? "active"
        // Each role and product on its own: two typos are two errors.
        let gathered = ScenarioError.Gathered(file: file)
        let roleValues = map.optional("roles"), productValues = map.optional("products")
        let roles = gathered.attempt { try roleValues?.list() ?? [] }?.compactMap { item in gathered.attempt { try Self.name(item, in: Roles.known, what: "role") } } ?? []
        let products = gathered.attempt { try productValues?.list() ?? [] }?.compactMap { item in gathered.attempt { try Self.name(item, in: Products.known, what: "product") } } ?? []
        try gathered.throwIfAny(sorted: true)
        let admin = try map.optional("platform_admin")?.bool() ?? false
        let first = try map.optional("first_name")?.string() ?? "Service"
        let last = try map.optional("last_name")?.string() ?? "User"
        try map.finish()
        return User(email: email, firstName: first, lastName: last, status: User.Status(rawValue: status)!,
                    roles: roles, products: products, platformAdmin: admin)
    }

    /// - Parameter users: the tenant's users, nil when they could not be read (owners unchecked).
    func key(_ value: YAMLValue, users: [User]?) throws -> KeySpec {
        var map = try value.mapping()
        let id = try map.required("id").nonEmptyString()
        let kind = APIKey.Kind(rawValue: try map.required("kind").choice(APIKey.Kind.allCases.map(\.rawValue)))!
        let ownerValue = map.optional("owner")
        let owner = try ownerValue?.nonEmptyString()
        if kind == .user {
            guard let owner, let ownerValue else { throw value.error("a user key needs an owner (a user's email)") }
            guard users?.contains(where: { $0.email.caseInsensitiveCompare(owner) == .orderedSame }) ?? true else {
                throw ownerValue.error("no user '\(owner)' in tenant.users")
            }
        } else if let ownerValue {
            throw ownerValue.error("an organization key has no owner; remove the field")
        }
        let status = APIKey.Status(rawValue: try map.optional("status")?.choice(APIKey.Status.allCases.map(\.rawValue)) ?? "active")!
        let expiresIn = try map.optional("expires_in")?.number()
        let createdAt = try map.optional("created_at")?.number()
        try map.finish()
        return KeySpec(id: id, kind: kind, owner: owner, status: status, expiresIn: expiresIn, createdAt: createdAt)
    }
}
