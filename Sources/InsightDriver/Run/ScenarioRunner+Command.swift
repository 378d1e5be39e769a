import Foundation
import InsightCore
import InsightEmulator
import InsightServer

extension ScenarioRunner {
    /// Runs a scenario whose client is a command: the emulator holds the scenario's tenant,
    /// faults and timeline, served on a free loopback port as HTTPS proxy and TLS port; the
    /// command runs with the environment that points it there and the interposer preloaded;
    /// what the emulator saw and what the process did are then checked.
    ///
    /// On virtual time (the default) the process's clock is the emulator's, and a
    /// `TimeCoordinator` moves it to the next wake-up when nothing else can happen: request
    /// times are exact. On scaled time (asked for, or forced by a program the interposer cannot
    /// reach, which the result says) the emulator follows the wall clock at the time scale.
    func runCommand(_ scenario: Scenario, override: ClientOverride?) async -> ScenarioResult {
        let wallStart = Date()
        let command = override?.command ?? scenario.client.command!
        var mode = override?.time ?? command.time
        let scale = override?.timeScale ?? scenario.timeScale
        var timeNote: String?
        var failures: [String] = []
        if mode == .virtual,
           case .unreachable(let reason) = ProgramKind.of(arguments: command.arguments, path: ProcessInfo.processInfo.environment["PATH"],
                                                          directory: command.directory)
        {
            mode = .scaled
            timeNote = Self.scaledNote(scale) + ", not virtual: \(reason)"
        }
        let shared: SharedClock?
        let scaled: ScaledClock?
        let world: ScenarioWorld
        do {
            if mode == .virtual {
                shared = try SharedClock(start: scenario.start)
                scaled = nil
                world = ScenarioWorld(scenario, start: scenario.start)
            } else {
                // The client's clock is the wall clock: the tenant's data and expiries count from now.
                shared = nil
                scaled = ScaledClock(start: wallStart, scale: scale)
                world = ScenarioWorld(scenario, start: wallStart)
            }
        } catch {
            return ScenarioResult(name: scenario.name, provenance: scenario.provenance, file: scenario.file,
                                  failures: ["cannot run the client: \(error)"], diagnosis: nil, diagnosisText: nil, journal: [],
                                  syncedInvestigations: nil, syncedLogSources: nil, virtualSeconds: 0,
                                  wallSeconds: Date().timeIntervalSince(wallStart))
        }
        let clock: any InsightClock = shared ?? scaled!
        let emulator = world.makeEmulator(clock: clock)
        var observed = Observed()
        // Exact to the millisecond on virtual time; on scaled time half a wall second late, a
        // twentieth of one early.
        observed.defaultTolerance = mode == .virtual ? 0.0005 : max(0.0005, 0.5 * scale)
        observed.earlyTolerance = mode == .virtual ? 0.0005 : max(0.0005, 0.05 * scale)
        var outcome = CommandObservation()
        var unreached: [String] = []
        var runs: [CommandRun] = []
        var workspace: ClientWorkspace?
        defer { workspace?.remove() }

        do {
            let folder = try ClientWorkspace()
            workspace = folder
            guard let library = Interposer.library else { throw DriverError.commandSetup(Interposer.missing) }
            let authority = try authorities.load(caDirectory)
            if authority.validFrom > world.clock.start {
                throw DriverError.commandSetup("""
                    the local CA in \(caDirectory) is valid from \(authority.validFrom.iso8601), after the scenario's start \
                    \(world.clock.start.iso8601), so a client on virtual time would find its certificates not yet valid
                    """, remedy: "replace it with `insight-replay ca --reset` (new CAs are valid from 2000)")
            }
            let environment = try clientEnvironment(scenario, world: world, command: command, authority: authority, workspace: folder)
            try await withServer(emulator, authority: authority) { server in
                var environment = environment
                for (name, value) in ClientEnvironment.proxy(server.baseURL, authority: authority).variables { environment[name] = value }
                for (name, value) in Interposer.environment(library: library, plainPort: server.port, tlsPort: server.tlsPort,
                                                            clock: shared?.path, preload: environment["LD_PRELOAD"]) {
                    environment[name] = value
                }
                environment["JAVA_TOOL_OPTIONS"] = try ExecSession.javaToolOptions(command.arguments, authority: authority, proxyPort: server.port,
                                                                                  existing: environment["JAVA_TOOL_OPTIONS"])
                environment["INSIGHT_REPLAY_BASE"] = server.baseURL
                environment["INSIGHT_REPLAY_TLS_BASE"] = server.tlsBaseURL
                environment["INSIGHT_REPLAY_ADMIN"] = server.baseURL + "/_admin"
                environment["INSIGHT_REPLAY_TIME"] = mode.rawValue
                environment["INSIGHT_REPLAY_TIME_SCALE"] = mode == .virtual ? nil : "\(scale)"
                let threads = shared == nil ? [] : try await server.eventLoopThreadIDs()
                let coordinator = shared.map { TimeCoordinator(clock: $0, ports: server.ports, serverThreads: threads) }
                coordinator?.start()
                defer {
                    coordinator?.stop()
                    unreached = coordinator?.uncontrolled ?? []
                }
                let plan: [RunStep]
                if override == nil {
                    plan = scenario.steps.map { step in step == .run ? RunStep.run("run") : RunStep(step) }
                } else if scenario.clientKind == .siem {
                    plan = RunStep.collapse(scenario.steps)
                } else {
                    plan = RunStep.each(scenario.steps)
                }
                let marked = plan.filter(\.isRun).count > 1
                /// One run of the command with `variables` added; false when it could not start, or failed
                /// in a scenario that stops on failure.
                func launch(_ label: String, step: Step?, variables: [String: String], events: [String]) async throws -> Bool {
                    var run = CommandRun(step: step, number: runs.count + 1, startedAt: shared?.elapsed ?? scaled?.elapsed ?? 0,
                                         journalStart: emulator.journal.total, deliveriesStart: emulator.deliveries.count, events: events)
                    for (name, value) in variables { environment[name] = value }
                    if let scaled, command.faketime {
                        guard let library = FakeTime.library else { throw FakeTime.missing }
                        for (name, value) in FakeTime.environment(library: library, start: scaled.now(), scale: scale,
                                                                  preload: environment["LD_PRELOAD"]) {
                            environment[name] = value
                        }
                    }
                    let result = await CommandProcess(arguments: command.arguments, environment: environment,
                                                      directory: command.directory, timeout: command.timeout)
                        .run { pid in coordinator?.track(root: pid) }
                    for name in variables.keys where name != "R7_STEPS" { environment[name] = nil }
                    let marker = marked ? "--- run \(run.number) (\(label)) ---\n" : ""
                    outcome.stdout += marker + result.stdout
                    outcome.stderr += marker + result.stderr
                    outcome.exitCode = result.exitCode
                    outcome.timedOut = outcome.timedOut || result.timedOut
                    run.exitCode = result.exitCode
                    run.report = result.reported
                    run.records = folder.records()
                    runs.append(run)
                    if let error = result.launchError {
                        outcome.launchError = error
                        return false
                    }
                    // stop_on_failure: a run that reports a failure is where the user gives up.
                    return !(scenario.stopOnFailure && result.exitCode != 0)
                }
                var events = 0
                for step in plan {
                    switch step {
                    case .wait(let seconds):
                        shared?.advance(seconds: seconds)
                        scaled?.advance(seconds: seconds)
                    case .token(let token):
                        environment["R7_API_KEY"] = world.resolve(token)
                    case .run(let steps):
                        guard try await launch(steps, step: nil, variables: ["R7_STEPS": steps], events: []) else { return }
                    case .step(let step):
                        let (variables, given) = try folder.prepare(step, scenario: scenario, firstEvent: events + 1)
                        events += given.count
                        guard try await launch(step.description, step: step, variables: variables, events: given) else { return }
                    }
                }
            }
        } catch {
            failures.append("cannot run the client: \(error)")
        }
        for program in unreached {
            failures.append("time was not under control: \(program) runs without the C library's clock (a static or Go program), so its sleeps took real time while the emulator's clock jumped; give the scenario client.time: scaled")
        }
        observed.journal = emulator.journal.ordered
        observed.deliveries = emulator.deliveries
        // A key in the client's output is a failure on its own: the seeds never show one.
        for (stream, text) in [("stdout", outcome.stdout), ("stderr", outcome.stderr)] {
            if let leaked = world.keyIDs.first(where: { id, secret in text.contains(secret) }) {
                failures.append("the client printed an API key (key '\(leaked.key)') on \(stream); a key must never be shown")
            }
        }
        outcome.stdout = Redaction.scrub(outcome.stdout, secrets: world.secrets)
        outcome.stderr = Redaction.scrub(outcome.stderr, secrets: world.secrets)
        observed.command = outcome
        observed.timeOrigin = observed.journal.first?.elapsed ?? 0
        observed.runStarts = runs.map(\.journalStart)
        observed.runs = runs
        observed.clockStart = world.clock.start
        if scenario.clientKind == .audit, let tenant = emulator.tenant(scenario.tenant.region) { observed.auditLog = Array(tenant.auditEvents) }
        let rules = SeedRules(scenario: scenario, tolerance: observed.earlyTolerance, lateTolerance: observed.defaultTolerance)
        if override != nil {
            failures += rules.judge(observed)
        } else {
            // A 429's Retry-After binds every client (reference §3): checked whatever the scenario says.
            failures += scenario.expect.check(observed) + rules.retryAfter(observed.journal)
        }
        // What the client did wrong, in the seed's terms, as a built-in client's failure reads.
        let conduct = rules.diagnosis(observed, failures: failures)
        var result = ScenarioResult(
            name: scenario.name, provenance: scenario.provenance, file: scenario.file,
            failures: failures.map { Redaction.scrub($0, secrets: world.secrets) }, diagnosis: conduct,
            diagnosisText: conduct.map { Redaction.scrub($0.description, secrets: world.secrets) },
            journal: observed.journal, syncedInvestigations: nil, syncedLogSources: nil,
            virtualSeconds: shared?.elapsed ?? scaled?.elapsed ?? 0, wallSeconds: Date().timeIntervalSince(wallStart))
        result.clientOutput = Self.outputText(outcome)
        result.exitCode = outcome.exitCode
        result.timeNote = timeNote ?? (mode == .virtual ? nil : Self.scaledNote(scale))
        return result
    }

    /// `scaled time (60×, tolerance −3s +30s)`: how a result on scaled time says so.
    static func scaledNote(_ scale: Double) -> String {
        "scaled time (\(Scenario.plainNumber(scale))×, tolerance −\(seconds(0.05 * scale)) +\(seconds(0.5 * scale)))"
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))s" : String(format: "%.3gs", value)
    }

    /// The process's own environment without the variables the driver sets, then the
    /// scenario's client settings as `R7_*` variables, every key as `R7_KEY_<ID>`, and the
    /// scenario's own `env` last.
    func clientEnvironment(_ scenario: Scenario, world: ScenarioWorld, command: CommandSpec,
                           authority: CertificateAuthority, workspace: ClientWorkspace) throws -> [String: String]
    {
        var environment = ProcessInfo.processInfo.environment.filter { name, _ in
            !(name.hasPrefix("R7_") || name.hasPrefix("INSIGHT_REPLAY_") || name.hasPrefix("FAKETIME")
              || ClientEnvironment.proxy("", authority: authority).dictionary.keys.contains(name))
        }
        let spec = scenario.client
        let region = spec.url.flatMap { URL(string: $0.trimmingCharacters(in: .whitespaces))?.host }.flatMap { Region(host: $0) }
            ?? scenario.tenant.region
        environment["R7_BASE_URL"] = spec.url ?? region.platformBaseURL
        environment["R7_REGION"] = region.code
        environment["R7_LOG_SEARCH_URL"] = "https://\(region.logSearchHost)"
        if let token = spec.token { environment["R7_API_KEY"] = world.resolve(token) }
        if let admin = spec.adminToken { environment["R7_ADMIN_API_KEY"] = world.resolve(admin) }
        if let user = spec.serviceUser { environment["R7_SERVICE_USER"] = user }
        environment["R7_STATE_DIR"] = workspace.stateDirectory
        if let audit = spec.audit {
            environment["R7_STORAGE_REGION"] = audit.storageRegion
            environment["R7_AUDIT_API_KEY"] = world.resolve(audit.token)
            environment["R7_PER_PAGE"] = String(audit.perPage)
            environment["R7_ALERT_AFTER"] = Scenario.plainNumber(audit.alertAfter)
        }
        if let notifier = spec.notifier {
            environment["R7_TRIGGER_URL"] = notifier.url
            environment["R7_TRIGGER_API_KEY"] = world.resolve(notifier.token)
            environment["R7_DISABLE_PERCENT"] = Scenario.plainNumber(notifier.disableThreshold * 100)
            environment["R7_DISABLE_WINDOW"] = Scenario.plainNumber(notifier.disableWindow)
            environment["R7_DISABLE_MINIMUM"] = String(notifier.minimumRequests)
            environment["R7_DISABLE_COUNTS"] = notifier.disableCounts.rawValue
            environment["R7_WHILE_DISABLED"] = notifier.whileDisabled.rawValue
        }
        for (id, secret) in world.keyIDs { environment["R7_KEY_\(ClientEnvironment.variableName(id))"] = secret }
        environment["INSIGHT_REPLAY_SCENARIO"] = scenario.name
        for (name, value) in command.environment {
            switch value {
            case .text(let text): environment[name] = text
            case .token(let token): environment[name] = world.resolve(token)
            }
        }
        return environment
    }

    /// What the client printed, for reports: each stream's last 40 lines, each line cut at 240
    /// characters.
    static func outputText(_ outcome: CommandObservation) -> String {
        var text = ""
        for (name, stream) in [("stdout", outcome.stdout), ("stderr", outcome.stderr)] where !stream.isEmpty {
            let lines = stream.trimmingCharacters(in: .newlines).split(separator: "\n", omittingEmptySubsequences: false)
            text += "\(name):\n"
            if lines.count > 40 { text += "[\(lines.count - 40) earlier lines]\n" }
            for line in lines.suffix(40) { text += (line.count > 240 ? line.prefix(240) + "…" : line) + "\n" }
        }
        return text
    }
}

/// What a command scenario does, in order: run the command (naming the steps it stands for),
/// or move time on.
enum RunStep: Equatable {
    case run(String)
    case wait(Double)
    /// The user pastes another key into the client's settings: later runs get it as `R7_API_KEY`.
    case token(TokenSpec)
    /// A run standing for one audit or notifier step (`R7_STEPS=audit_pull`, `notify` …).
    case step(Step)

    /// Whether it runs the command.
    var isRun: Bool {
        switch self {
        case .run, .step: return true
        case .wait, .token: return false
        }
    }

    init(_ step: Step) {
        switch step {
        case .wait(let seconds): self = .wait(seconds)
        case .setToken(let token): self = .token(token)
        default: self = .run(step.description)
        }
    }

    /// An audit-log pull's or a notifier's steps: each its own run, so a pull is a restart and
    /// a notifier keeps its queue and state in `R7_STATE_DIR` between steps.
    static func each(_ steps: [Step]) -> [RunStep] {
        steps.map { step in
            switch step {
            case .wait(let seconds): return .wait(seconds)
            case .setToken(let token): return .token(token)
            default: return .step(step)
            }
        }
    }

    /// Built-in steps as runs of a command: steps between two waits or key changes are one run
    /// (`validate, sync, wait 7200, sync` → run "validate,sync", wait 7200, run "sync").
    static func collapse(_ steps: [Step]) -> [RunStep] {
        var plan: [RunStep] = []
        var pending: [String] = []
        for step in steps {
            switch RunStep(step) {
            case .run(let name):
                pending.append(name)
            case let boundary:
                if !pending.isEmpty { plan.append(.run(pending.joined(separator: ","))) }
                pending = []
                plan.append(boundary)
            }
        }
        if !pending.isEmpty { plan.append(.run(pending.joined(separator: ","))) }
        return plan
    }
}

/// The local CA of a runner's command scenarios, loaded at first use.
final class AuthorityCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [String: CertificateAuthority] = [:]

    func load(_ directory: String) throws -> CertificateAuthority {
        try lock.withLock {
            if let authority = loaded[directory] { return authority }
            let authority = try CertificateAuthority.loadOrCreate(directory: directory)
            loaded[directory] = authority
            return authority
        }
    }
}

/// libfaketime (Debian's `faketime` package): preloaded into the client, it makes the process's
/// clock start at the emulator's now and run `scale` times as fast, sleeps included. It works
/// for programs that read time and sleep through the C library (Python, Node, curl, shells);
/// Go calls the kernel directly and is not affected (see docs/CLIENTS.md, "Time for an external client").
public enum FakeTime {
    static let candidates = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1", "/usr/local/lib/faketime/libfaketime.so.1",
    ]
    static var library: String? { candidates.first { FileManager.default.fileExists(atPath: $0) } }
    public static var isInstalled: Bool { library != nil }
    static let missing = DriverError.commandSetup("faketime: true needs libfaketime, which is not installed",
                                                  remedy: "install it (Debian: apt-get install faketime), or give the scenario client.time: virtual")

    static func environment(library: String, start: Date, scale: Double, preload: String?) -> [(String, String)] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let rate = scale == scale.rounded() ? String(Int(scale)) : String(scale)
        return [("LD_PRELOAD", preload.map { "\(library):\($0)" } ?? library),
                ("FAKETIME", "@\(formatter.string(from: start)) x\(rate)"),
                ("FAKETIME_NO_CACHE", "1")]
    }
}
