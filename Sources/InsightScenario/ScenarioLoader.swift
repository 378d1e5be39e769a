import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Yams

/// Reads scenario files strictly: unknown fields, wrong types, missing fields and dangling
/// references are errors naming file, line and field.
public enum ScenarioLoader {
    /// Loads every `.yaml`/`.yml` file under the paths (files or folders), sorted by path.
    /// Throws a `ScenarioError` listing every problem in every file; then nothing may run.
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
        if !errors.isEmpty { throw ScenarioError.several(errors) }
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
        case .failure(let bad): throw ScenarioError(file: file, line: bad.textPosition?.line, column: bad.textPosition?.column, field: "", message: bad.description)
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
    /// together: each field's, each fault's, each step's, thrown as one `ScenarioError` (in file order).
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
}
