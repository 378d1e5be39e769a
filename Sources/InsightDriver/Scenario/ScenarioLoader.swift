import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import InsightServer
import Yams

/// Reads scenario files strictly: unknown fields, wrong types, missing fields and dangling
/// references are errors naming file, line and field.
public enum ScenarioLoader {
    /// Loads every `.yaml`/`.yml` file under the paths (files or folders), sorted by path.
    /// Throws `ScenarioErrors` listing every problem in every file; then nothing may run.
    public static func load(paths: [String]) throws -> [Scenario] {
        var files: [String] = []
        var errors: [ScenarioError] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                errors.append(ScenarioError(file: path, line: nil, column: nil, field: "",
                                            message: "no such file or folder; give a scenario file or a folder of them"))
                continue
            }
            if isDirectory.boolValue {
                // A symlink to a folder is read through; the files keep the path as given.
                let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                let found = (FileManager.default.enumerator(atPath: real)?.compactMap { $0 as? String } ?? [])
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                    .sorted()
                    .map { (path as NSString).appendingPathComponent($0) }
                if found.isEmpty {
                    errors.append(ScenarioError(file: path, line: nil, column: nil, field: "",
                                                message: "folder holds no .yaml scenario files"))
                }
                files += found
            } else {
                files.append(path)
            }
        }
        // A file reached twice (a symlink beside its target, a folder and a file in it) is read once.
        var seen = Set<String>()
        files = files.filter { seen.insert(URL(fileURLWithPath: $0).resolvingSymlinksInPath().standardizedFileURL.path).inserted }
        var scenarios: [Scenario] = []
        for file in files {
            let gathered = ScenarioError.Gathered(file: file)
            if let scenario = gathered.attempt({ try loadFile(file) }) { scenarios.append(scenario) }
            errors += gathered.errors
        }
        var firstFile: [String: String] = [:]
        for scenario in scenarios {
            if let other = firstFile[scenario.name] {
                errors.append(ScenarioError(file: scenario.file, line: nil, column: nil, field: "name",
                                            message: "'\(scenario.name)' is already the name of \(other); names must be unique"))
            } else {
                firstFile[scenario.name] = scenario.file
            }
        }
        if !errors.isEmpty { throw ScenarioErrors(errors: errors) }
        return scenarios
    }

    public static func loadFile(_ file: String) throws -> Scenario {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ScenarioError(file: file, line: nil, column: nil, field: "",
                                message: "is a folder; give one scenario file (e.g. \((file as NSString).appendingPathComponent("name.yaml")))")
        }
        guard let bytes = FileManager.default.contents(atPath: file) else {
            throw ScenarioError(file: file, line: nil, column: nil, field: "", message: "cannot read the file; check that it exists and is readable")
        }
        return try parse(bytes: bytes, file: file)
    }

    /// Parses one scenario from bytes that must be UTF-8 (a file, an upload); a byte that is not
    /// is an error at its line and column.
    public static func parse(bytes: Data, file: String) throws -> Scenario {
        switch TextBytes.decode(bytes) {
        case .success(let text): return try parse(text, file: file)
        case .failure(let bad): throw ScenarioError(file: file, line: bad.line, column: bad.column, field: "", message: bad.description)
        }
    }

    /// Parses one scenario from YAML text.
    public static func parse(_ text: String, file: String) throws -> Scenario {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: file, line: nil, column: nil, field: "", message: "the file is empty; a scenario needs name, provenance, tenant, client, steps and expect")
            }
            node = composed
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        }
        return try ScenarioParser(file: file).scenario(YAMLValue(node: node, field: "", file: file))
    }

    /// What the admin API's `POST /_admin/scenario` loads: the scenario's tenant, faults and
    /// timeline; its errors name the upload and the line.
    public static let upload: ScenarioLoading = { yaml, start in
        let scenario = try parse(yaml, file: "POST /_admin/scenario")
        let world = ScenarioWorld(scenario, start: start)
        return LoadedWorld(name: scenario.name, tenants: [world.tenant], faults: scenario.faults,
                           timeline: world.timeline, seed: scenario.seed)
    }

    static func yamlError(_ error: YamlError, file: String) -> ScenarioError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ScenarioError(file: file, line: mark.line, column: mark.column, field: "", message: "invalid YAML: \(problem)")
        case .reader(let problem, let offset?, let value, let yaml):
            // A character YAML does not allow (a NUL, a control byte): placed by its offset.
            let before = yaml.utf8.prefix(offset)
            let lineStart = before.lastIndex(of: 10).map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0
            return ScenarioError(file: file, line: before.count(where: { $0 == 10 }) + 1, column: before.count - lineStart + 1, field: "",
                                 message: "invalid YAML: \(problem) (character 0x\(String(value, radix: 16, uppercase: true))); remove it")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ScenarioError(file: file, line: context.mark.line, column: context.mark.column, field: "",
                                 message: "duplicate key \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) in this mapping; each field may appear once")
        default:
            return ScenarioError(file: file, line: nil, column: nil, field: "", message: "invalid YAML: \(error)")
        }
    }
}

/// The field-by-field reading of one scenario.
struct ScenarioParser {
    let file: String

    /// Reads every part that does not depend on a broken one, so a file's errors are reported
    /// together: each field's, each fault's, each step's. One error is thrown as itself, more as
    /// `ScenarioErrors` (in file order).
    func scenario(_ root: YAMLValue) throws -> Scenario {
        var map = try root.mapping()
        let gathered = ScenarioError.Gathered(file: file)
        func part<T>(_ body: () throws -> T) -> T? { gathered.attempt(body) }
        /// Each item of an optional list on its own.
        func items<T>(_ key: String, _ read: (YAMLValue) throws -> T) -> [T]? {
            guard let value = map.optional(key) else { return [] }
            guard let list = part({ try value.list() }) else { return nil }
            let read = list.map { item in part { try read(item) } }
            return read.contains { $0 == nil } ? nil : read.compactMap { $0 }
        }
        let name = part { () throws -> String in
            let nameValue = try map.required("name")
            let name = try nameValue.nonEmptyString()
            guard name.range(of: "^[a-z0-9][a-z0-9-]*$", options: .regularExpression) != nil else {
                throw nameValue.error("'\(name)' must be lowercase letters, digits and dashes")
            }
            return name
        }
        let provenance = part { try map.required("provenance").nonEmptyString() }
        let description = part { try map.optional("description")?.string() } ?? nil
        let seed = part { try map.optional("seed").map { UInt64(try $0.int(in: 0...Int.max)) } } ?? nil
        let start = part { () throws -> Date in
            guard let value = map.optional("start") else { return VirtualClock.defaultStart }
            guard let date = RFC3339.parse(try value.string()) else {
                throw value.error("expected an RFC 3339 time like 2026-01-01T00:00:00Z")
            }
            return date
        }
        let tenant = part { try tenantSpec(try map.required("tenant")) }
        let faults = items("faults", fault)
        // What refers to the tenant (keys, users) is read once the tenant is.
        _ = (map.optional("timeline"), map.optional("client"))  // asked, so a broken tenant does not make them unknown
        let timeline = tenant.map { tenant in items("timeline") { try event($0, tenant) } } ?? nil
        // The client and the steps are read whatever became of the tenant: their own mistakes
        // come with the tenant's; only the key ids they name wait for it.
        let client = part { try clientSpec(try map.required("client"), tenant) }
        var steps: [Step]? = [.run]
        let stepsValue = map.optional("steps")
        if let client, client.command == nil, stepsValue == nil { _ = part { try map.required("steps") } }
        if let stepsValue {
            steps = part { try stepsValue.list() }.map { list in list.map { item in part { try step(item, client, tenant) } } }
                .flatMap { read in read.contains { $0 == nil } ? nil : read.compactMap { $0 } }
            if steps?.isEmpty == true {
                _ = part { throw stepsValue.error("needs at least one step (validate, sync, run or wait)") }
                steps = nil
            }
        }
        var timeScale = 1.0
        if let value = map.optional("time_scale"), let client {
            timeScale = part { () throws -> Double in
                guard let command = client.command else {
                    throw value.error("time_scale applies to a command client; the built-in clients run on virtual time")
                }
                if command.time == .virtual {
                    throw value.error("time_scale goes with client.time: scaled; on virtual time (the default) a command client's time is exact")
                }
                let scale = try value.number(min: 0.001)
                if scale > 1_000_000 { throw value.error("must be 1000000 or less, found \(scale)") }
                return scale
            } ?? 1
        }
        var expectNode: YAMLValue?
        let expect = part { () throws -> Expectations in
            let expectValue = try map.required("expect")
            expectNode = expectValue
            let expect = try expectations(expectValue)
            if client?.command != nil {
                try Self.commandExpectations(expect, expectValue)
            } else if client != nil, let field = Self.commandOnlyFields(expect) {
                throw expectValue.error("\(field) applies to a command client (client.command)")
            }
            return expect
        }
        let recordings = part { () throws -> [String] in
            guard let value = map.optional("recordings") else { return [] }
            let recordings = try value.strings()
            if let bad = recordings.first(where: { $0.range(of: "^[A-Za-z0-9._-]+$", options: .regularExpression) == nil }) {
                throw value.error("'\(bad)' is not a recording name (letters, digits, dot, dash, underscore)")
            }
            return recordings
        }
        let recordedAuth = part { () throws -> Bool in
            guard let value = map.optional("recorded_auth") else { return false }
            let recordedAuth = try value.bool()
            if recordedAuth, recordings?.isEmpty ?? false { throw value.error("recorded_auth needs recordings to answer from") }
            return recordedAuth
        }
        let stopOnFailure = part { try map.optional("stop_on_failure")?.bool() ?? false }
        let assumed = items("assumed", Self.assumption)
        if let expectValue = expectNode, let stepDiagnoses = expect?.stepDiagnoses, let steps, client != nil {
            _ = part { () throws -> Void in
                if client?.command != nil {
                    throw expectValue.error("step_diagnoses lists the built-in clients' step outcomes; a command client's runs are judged by exit_code and reported")
                }
                let counted = steps.filter(\.hasOutcome)
                if counted.count != stepDiagnoses.count {
                    throw expectValue.error("step_diagnoses has \(stepDiagnoses.count) entr\(stepDiagnoses.count == 1 ? "y" : "ies"), the steps have \(counted.count) outcome(s): one per \(counted.map(\.description).joined(separator: ", ")) (wait, set_token and notifier steps have none)")
                }
                if stopOnFailure == true {
                    throw expectValue.error("step_diagnoses describes every step; with stop_on_failure the steps after a failure do not run (use diagnosis)")
                }
            }
        }
        let tags = part { try map.optional("tags").map(Self.tags) ?? [] }
        let covers = part { try map.optional("covers").map(Self.covers) ?? [] }
        _ = part { try map.finish() }
        try gathered.throwIfAny(sorted: true)
        guard let name, let provenance, let start, let tenant, let faults, let timeline, let client, let steps, let expect,
              let recordings, let recordedAuth, let tags, let covers
        else { throw ScenarioError(file: file, line: nil, column: nil, field: "", message: "could not be read") }
        let seedValue = seed ?? Self.seed(for: name)
        var scenario = Scenario(name: name, provenance: provenance, description: description, file: file, seed: seedValue,
                                start: start, tenant: tenant, faults: faults, timeline: timeline, client: client,
                                steps: steps, expect: expect)
        scenario.recordings = recordings
        scenario.recordedAuth = recordedAuth
        scenario.tags = tags
        scenario.covers = covers
        scenario.timeScale = timeScale
        scenario.stopOnFailure = stopOnFailure ?? false
        scenario.assumed = assumed ?? []
        return scenario
    }

    /// `{ cause: TEXT, because: TEXT }`: TEXT a substring of a troubleshooting cause.
    static func assumption(_ value: YAMLValue) throws -> (cause: String, because: String) {
        var map = try value.mapping()
        let causeValue = try map.required("cause")
        let cause = try causeValue.nonEmptyString()
        let because = try map.required("because").nonEmptyString()
        try map.finish()
        let known = Set(DiagnosisCategory.allCases.flatMap { category in Product.allCases.flatMap { category.entry.causes(for: $0) } })
        guard known.contains(where: { $0.localizedCaseInsensitiveContains(cause) }) else {
            let near = cause.count > 64 ? nil
                : known.min { YAMLMapping.distance($0.lowercased(), cause.lowercased()) < YAMLMapping.distance($1.lowercased(), cause.lowercased()) }
            throw causeValue.error("'\(cause.prefix(80))' is not part of any cause of the troubleshooting table\(near.map { "; did you mean '\($0)'?" } ?? "")")
        }
        return (cause, because)
    }

    /// `tags: [audit, slow]`: lowercase words and dashes, each once.
    static func tags(_ value: YAMLValue) throws -> [String] {
        var tags: [String] = []
        for item in try Self.items(value) {
            let tag = try item.nonEmptyString()
            guard tag.range(of: "^[a-z0-9][a-z0-9-]*$", options: .regularExpression) != nil else {
                throw item.error("'\(tag)' must be lowercase letters, digits and dashes (run --filter tag:\(tag.lowercased()) selects by it)")
            }
            guard !tags.contains(tag) else { throw item.error("'\(tag)' is listed twice") }
            tags.append(tag)
        }
        return tags
    }

    /// `covers: [000/no-data/initial-sync]`: rows of the seed table (`SeedRows`), each once.
    static func covers(_ value: YAMLValue) throws -> [String] {
        var rows: [String] = []
        for item in try Self.items(value) {
            let id = try item.nonEmptyString()
            guard SeedRows.row(id) != nil else {
                let near = SeedRows.all.map(\.id).min { YAMLMapping.distance($0, id) < YAMLMapping.distance($1, id) }
                let hint = near.flatMap { YAMLMapping.distance($0, id) <= max(3, id.count / 4) ? "did you mean '\($0)'? " : nil } ?? ""
                throw item.error("'\(id)' is not a documented row; \(hint)`insight-replay run --coverage` lists the rows")
            }
            guard !rows.contains(id) else { throw item.error("'\(id)' is listed twice") }
            rows.append(id)
        }
        return rows
    }

    /// The items of a list, or a single scalar as a list of one.
    static func items(_ value: YAMLValue) throws -> [YAMLValue] {
        if case .scalar = value.node { return [value] }
        return try value.list()
    }

    /// Expectations about the built-in clients' own reports cannot be checked on a command.
    static func commandExpectations(_ expect: Expectations, _ value: YAMLValue) throws {
        let builtIn: [(String, Bool)] = [
            ("summary_mentions", !expect.summaryMentions.isEmpty), ("evidence", !expect.evidence.isEmpty),
            ("top_cause", expect.topCause != nil), ("remedy_mentions", !expect.remedyMentions.isEmpty),
            ("causes", !expect.causes.isEmpty || !expect.notCauses.isEmpty || expect.ranked != nil),
            ("evidence_lines", expect.evidenceLines != nil),
            ("log_mentions", !expect.logMentions.isEmpty || !expect.logNotMentions.isEmpty),
            ("not_mentions", !expect.notMentions.isEmpty),
            ("synced", expect.syncedInvestigations != nil || expect.syncedAlerts != nil || expect.syncedLogEvents != nil
                || expect.syncedDuplicates != nil || expect.syncedMissed != nil || !expect.syncedFromLogSets.isEmpty
                || expect.syncedLogSources != nil),
            ("audit", expect.auditProcessed != nil || expect.auditRejected != nil || expect.auditDuplicates != nil || !expect.auditWithFields.isEmpty || expect.auditAlertAt != nil),
            ("notifications", expect.notificationsDelivered != nil || expect.notificationsUndelivered != nil || expect.notifierDisabled != nil
                || expect.notificationsNotSent != nil),
        ]
        if let (field, _) = builtIn.first(where: \.1) {
            throw value.error("\(field) describes the built-in clients' reports; for a command use output_mentions, reported or requests")
        }
    }

    static func commandOnlyFields(_ expect: Expectations) -> String? {
        [("exit_code", expect.exitCode != nil), ("output_mentions", !expect.outputMentions.isEmpty),
         ("stdout_mentions", !expect.stdoutMentions.isEmpty), ("stderr_mentions", !expect.stderrMentions.isEmpty),
         ("output_not_mentions", !expect.outputNotMentions.isEmpty), ("reported", !expect.reported.isEmpty)]
            .first(where: \.1)?.0
    }

    /// A stable seed from the name, so a scenario gives the same data everywhere.
    static func seed(for name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

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

    /// `{ cause: TEXT, rank: N, likelihood: L }`, or just the text.
    func causeExpectation(_ value: YAMLValue) throws -> CauseExpectation {
        if case .scalar = value.node { return CauseExpectation(cause: try value.nonEmptyString()) }
        var map = try value.mapping()
        var expectation = CauseExpectation(cause: try map.required("cause").nonEmptyString())
        expectation.rank = try map.optional("rank")?.int(in: 1...20)
        if let likelihood = map.optional("likelihood") {
            let names = Likelihood.allCases.map { $0.description.replacingOccurrences(of: " ", with: "_") }
            let name = try likelihood.choice(names)
            expectation.likelihood = Likelihood.allCases.first { $0.description.replacingOccurrences(of: " ", with: "_") == name }
        }
        try map.finish()
        return expectation
    }

    func expectations(_ value: YAMLValue) throws -> Expectations {
        var map = try value.mapping()
        // Each field on its own, so every error of the expectations is reported together.
        let gathered = ScenarioError.Gathered(file: file)
        func collect(_ body: () throws -> Void) { _ = gathered.attempt(body) }
        var expect = Expectations()
        collect {
            let diagnosis = try map.required("diagnosis").choice(["none"] + DiagnosisCategory.allCases.map(\.rawValue))
            expect.diagnosis = DiagnosisCategory(rawValue: diagnosis)
        }
        collect {
            expect.stepDiagnoses = try map.optional("step_diagnoses")?.list().map { item in
                DiagnosisCategory(rawValue: try item.choice(["none"] + DiagnosisCategory.allCases.map(\.rawValue)))
            }
        }
        collect { expect.summaryMentions = try map.optional("summary_mentions")?.strings() ?? [] }
        collect { expect.evidence = try map.optional("evidence")?.strings() ?? [] }
        collect { expect.topCause = try map.optional("top_cause")?.nonEmptyString() }
        collect { expect.remedyMentions = try map.optional("remedy_mentions")?.strings() ?? [] }
        collect { expect.causes = try map.optional("causes")?.list().map(causeExpectation) ?? [] }
        collect { expect.notCauses = try map.optional("not_causes")?.strings() ?? [] }
        collect {
            if let ranked = map.optional("ranked") {
                expect.ranked = try ranked.strings()
                if expect.ranked?.isEmpty == true { throw ranked.error("needs the causes in order, most likely first") }
            }
        }
        collect { expect.notMentions = try map.optional("not_mentions")?.strings() ?? [] }
        collect { expect.evidenceLines = try map.optional("evidence_lines")?.list().map { try $0.string() } }
        collect { expect.logMentions = try map.optional("log_mentions")?.strings() ?? [] }
        collect { expect.logNotMentions = try map.optional("log_not_mentions")?.strings() ?? [] }
        collect {
            if let requests = map.optional("requests") {
                switch requests.node {
                case .scalar: expect.requests = try requests.int(in: 0...1_000_000)
                case .mapping: expect.requestFilters = [try requestFilter(requests)]
                default: expect.requestFilters = try requests.list().map(requestFilter)
                }
            }
        }
        collect { expect.timeTolerance = try map.optional("time_tolerance")?.number() }
        collect {
            if let exit = map.optional("exit_code") {
                if case .scalar(let scalar) = exit.node, scalar.string == "nonzero" {
                    expect.exitCode = .nonzero
                } else {
                    expect.exitCode = .code(Int32(try exit.int(in: 0...255)))
                }
            }
        }
        collect { expect.outputMentions = try map.optional("output_mentions")?.strings() ?? [] }
        collect { expect.stdoutMentions = try map.optional("stdout_mentions")?.strings() ?? [] }
        collect { expect.stderrMentions = try map.optional("stderr_mentions")?.strings() ?? [] }
        collect { expect.outputNotMentions = try map.optional("output_not_mentions")?.strings() ?? [] }
        collect {
            if let reported = map.optional("reported") {
                var inner = try reported.mapping()
                for name in inner.keys {
                    let value = inner.optional(name)!
                    guard case .scalar(let scalar) = value.node else { throw value.error("expected a number, text or true/false") }
                    if let number = value.node.int { expect.reported.append((name, .int(Int64(number)))) }
                    else if let flag = value.node.bool, scalar.style == .plain { expect.reported.append((name, .bool(flag))) }
                    else if let number = value.node.float, scalar.style == .plain { expect.reported.append((name, .double(number))) }
                    else { expect.reported.append((name, .string(scalar.string))) }
                }
                try inner.finish()
            }
        }
        collect { expect.requestTimes = try map.optional("request_times")?.list().map { try $0.number() } }
        collect { expect.statuses = try map.optional("statuses")?.list().map { try $0.int(in: 100...599) } }
        collect {
            if let audit = map.optional("audit") {
                var inner = try audit.mapping()
                expect.auditProcessed = try inner.optional("processed")?.int(in: 0...100_000_000)
                expect.auditRejected = try inner.optional("rejected")?.int(in: 0...100_000_000)
                expect.auditDuplicates = try inner.optional("duplicates")?.int(in: 0...100_000_000)
                expect.auditRejectedMentions = try inner.optional("rejected_mentions")?.strings() ?? []
                if let alert = inner.optional("alert_at") {
                    if case .scalar(let scalar) = alert.node, scalar.string == "never" {
                        expect.auditAlertAt = .never
                    } else {
                        expect.auditAlertAt = .at(try alert.number())
                    }
                }
                if let fields = inner.optional("with_fields") {
                    for item in try Self.items(fields) {
                        let name = try item.nonEmptyString()
                        guard AuditRecord.schemaFields.contains(name) else {
                            throw item.error("'\(name)' is not a Rapid7.AuditLog field; the fields: \(AuditRecord.schemaFields.joined(separator: ", "))")
                        }
                        expect.auditWithFields.append(name)
                    }
                }
                try inner.finish()
            }
        }
        collect {
            if let notifications = map.optional("notifications") {
                var inner = try notifications.mapping()
                expect.notificationsDelivered = try inner.optional("delivered")?.int(in: 0...100_000_000)
                expect.notificationsUndelivered = try inner.optional("undelivered")?.int(in: 0...100_000_000)
                expect.notificationsNotSent = try inner.optional("not_sent")?.int(in: 0...100_000_000)
                expect.notifierDisabled = try inner.optional("disabled")?.bool()
                expect.notifierState = try inner.optional("state")?.choice(["enabled", "disabled", "deleted"])
                try inner.finish()
            }
        }
        collect { expect.deliveries = try map.optional("deliveries")?.int(in: 0...100_000_000) }
        collect { expect.deliveryMentions = try map.optional("delivery_mentions")?.strings() ?? [] }
        collect { expect.systemMessages = try map.optional("system_messages")?.strings() ?? [] }
        collect { expect.deliveryNotMentions = try map.optional("delivery_not_mentions")?.strings() ?? [] }
        collect {
            if let synced = map.optional("synced") {
                var inner = try synced.mapping()
                expect.syncedInvestigations = try inner.optional("investigations")?.int(in: 0...1_000_000)
                expect.syncedAlerts = try inner.optional("alerts")?.int(in: 0...1_000_000)
                expect.syncedLogEvents = try inner.optional("log_events")?.int(in: 0...100_000_000)
                expect.syncedLogSources = try inner.optional("log_sources")?.int(in: 0...1_000_000)
                expect.syncedDuplicates = try inner.optional("duplicates")?.int(in: 0...1_000_000)
                expect.syncedMissed = try inner.optional("missed")?.int(in: 0...1_000_000)
                expect.syncedFromLogSets = try inner.optional("from_log_sets")?.strings() ?? []
                try inner.finish()
            }
        }
        collect { try map.finish() }
        try gathered.throwIfAny(sorted: false)
        if expect.diagnosis == nil, !(expect.summaryMentions.isEmpty && expect.evidence.isEmpty
                                      && expect.topCause == nil && expect.remedyMentions.isEmpty) {
            throw value.error("diagnosis is none, so summary_mentions, evidence, top_cause and remedy_mentions cannot apply")
        }
        return expect
    }
}
