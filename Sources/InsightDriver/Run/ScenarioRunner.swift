import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Logging

/// What one scenario did and whether it met its expectations. Holds no secret: every text
/// is scrubbed against the scenario's keys before it is stored here.
public struct ScenarioResult: Sendable {
    public let name: String
    public let provenance: String
    public let file: String
    /// Unmet expectations, each a sentence; empty when the scenario passed.
    public let failures: [String]
    public let diagnosis: Diagnosis?
    /// The diagnosis as text, scrubbed.
    public let diagnosisText: String?
    public let journal: [JournalEntry]
    public let syncedInvestigations: Int?
    public let syncedLogSources: Int?
    /// Recorded exchanges no request used (scenarios with recordings).
    public var unusedRecorded: [String] = []
    /// Exchanges the emulator answered in record modes missing and all, to be recorded.
    public var captured: [RecordedExchange] = []
    /// What a command client printed (keys scrubbed), and its last exit code.
    public var clientOutput: String?
    /// How a command client's time ran, when not on the exact virtual clock (scaled, and why).
    public var timeNote: String?
    public var exitCode: Int32?
    /// The scenario's timeline (key revoked, role removed …) and fault rules, for reports.
    public var timeline: [TimelineMark] = []
    public var faultRules: [String] = []
    /// The outcome of each step that talks to the platform, in order (built-in clients).
    public var steps: [StepOutcome] = []
    /// Virtual seconds the scenario spanned.
    public let virtualSeconds: Double
    /// Wall seconds it took to run.
    public let wallSeconds: Double

    public var passed: Bool { failures.isEmpty }
}

/// A timeline event at its virtual second, for reports.
public struct TimelineMark: Sendable, Hashable, Codable {
    public let at: Double
    public let text: String
}

/// Finds a recording by name for scenarios that replay one.
public typealias RecordingSource = @Sendable (String) throws -> Recording?

/// Runs scenarios, each on a fresh emulator and a fresh virtual clock, in process.
public struct ScenarioRunner: Sendable {
    public let logger: Logger
    public let recordings: RecordingSource
    public let recordMode: RecordMode
    /// Where the local CA of command clients lives (made there on first use).
    public let caDirectory: String
    /// The CA loaded once for every command scenario of this runner (its leaves are made once).
    let authorities = AuthorityCache()
    /// `run --client`: a command in place of every scenario's seeds/000 client.
    public let clientOverride: ClientOverride?

    public init(logger: Logger = Logger(label: "insight-replay.driver"), recordings: @escaping RecordingSource = { _ in nil },
                recordMode: RecordMode = .none, caDirectory: String = ".insight-replay/ca", clientOverride: ClientOverride? = nil)
    {
        self.logger = logger
        self.recordings = recordings
        self.recordMode = recordMode
        self.caDirectory = caDirectory
        self.clientOverride = clientOverride
    }

    public func run(_ scenarios: [Scenario]) async -> [ScenarioResult] {
        var results: [ScenarioResult] = []
        await run(scenarios, jobs: 1) { results.append($1) }
        return results
    }

    /// Runs the scenarios `jobs` at a time (each on its own emulator and virtual clock, so they
    /// are independent) and hands each result to `each` in the scenarios' order, as soon as it
    /// and all before it are done. Command clients on virtual time run in parallel too (their
    /// time moves only when they wait, so contention changes nothing); a run with one on
    /// scaled wall time goes one at a time, since contention would skew its times.
    public func run(_ scenarios: [Scenario], jobs: Int, each: (Int, ScenarioResult) async -> Void) async {
        let scaled = clientOverride.map { $0.time == .scaled } ?? scenarios.contains { $0.client.command?.time == .scaled }
        let parallel = scaled ? 1 : max(1, jobs)
        var pending: [Int: ScenarioResult] = [:]
        var next = 0
        await withTaskGroup(of: (Int, ScenarioResult).self) { group in
            var started = 0
            func startNext() {
                guard started < scenarios.count else { return }
                let index = started, scenario = scenarios[index]
                started += 1
                group.addTask { (index, await self.run(scenario)) }
            }
            for _ in 0..<min(parallel, scenarios.count) { startNext() }
            while let (index, result) = await group.next() {
                pending[index] = result
                while let ready = pending.removeValue(forKey: next) {
                    await each(next, ready)
                    next += 1
                }
                startNext()
            }
        }
    }

    public func run(_ scenario: Scenario) async -> ScenarioResult {
        var result = scenario.client.command != nil || clientOverride != nil
            ? await runCommand(scenario, override: clientOverride) : await runBuiltIn(scenario)
        let created = scenario.tenant.keys.compactMap { key in key.createdAt.map { (at: $0, text: "key \(key.id) created") } }
        result.timeline = (scenario.timeline.map { (at: $0.at, text: $0.action.description) } + created)
            .sorted { $0.at < $1.at }.map { TimelineMark(at: $0.at, text: $0.text) }
        result.faultRules = scenario.faults.map(\.description)
        return result
    }

    func runBuiltIn(_ scenario: Scenario) async -> ScenarioResult {
        let wallStart = Date()
        let world = ScenarioWorld(scenario)
        // The clients' log, kept for log_mentions / log_not_mentions (in memory only; what the
        // clients log is redacted already, and the lines are scrubbed again before any report).
        let capture = LogCapture()
        let wantsLog = !scenario.expect.logMentions.isEmpty || !scenario.expect.logNotMentions.isEmpty
        let logger = wantsLog ? capture.logger(forwardingTo: self.logger) : self.logger
        let emulator = world.makeEmulator(clock: world.clock)
        var setupFailures: [String] = []
        if !scenario.recordings.isEmpty || recordMode != .none {
            var exchanges: [RecordedExchange] = []
            for name in scenario.recordings {
                do {
                    guard let recording = try recordings(name) else {
                        setupFailures.append("recording '\(name)' is not in the store; import it (insight-replay import FILE) or add Recordings/\(name).json")
                        continue
                    }
                    exchanges += recording.exchanges
                } catch {
                    setupFailures.append("recording '\(name)' cannot be read: \(error)")
                }
            }
            emulator.loadReplay(exchanges, mode: recordMode, beforeAuthentication: scenario.recordedAuth)
        }
        let spec = scenario.client
        var client = spec.url.map { url in
            InsightClient(
                settings: IntegrationSettings(url: url, token: spec.token.map(world.resolve) ?? ""),
                transport: emulator, clock: world.clock, retry: RetryPolicy(maxAttempts: spec.maxAttempts ?? 4),
                admin: spec.adminToken.map { AdminCheck(token: world.resolve($0), serviceUser: spec.serviceUser) }, logger: logger)
        }
        let notifier = spec.notifier.map { notifier in
            Notifier(settings: TriggerSettings(url: notifier.url, apiKey: world.resolve(notifier.token)), transport: emulator,
                     clock: world.clock, queueCapacity: notifier.queueCapacity, failureThreshold: notifier.disableThreshold,
                     window: notifier.disableWindow, minimumRequests: notifier.minimumRequests,
                     whileDisabled: notifier.whileDisabled, counting: notifier.disableCounts, logger: logger)
        }
        // One checkpoint store for the whole scenario: each audit_pull is a fresh puller (a restart).
        let auditStore = InMemoryCheckpointStore()
        var observed = Observed()

        var outcomes: [StepOutcome] = []
        /// Records what a step ended with; false when the run stops there (`stop_on_failure`).
        func ended(_ number: Int, _ step: Step, _ diagnosis: Diagnosis?, failed: Bool) -> Bool {
            outcomes.append(StepOutcome(number: number, step: step.description, at: world.clock.elapsed,
                                        diagnosis: diagnosis?.category.rawValue,
                                        summary: diagnosis.map { Redaction.scrub($0.summary, secrets: world.secrets) }, failed: failed))
            return !(failed && scenario.stopOnFailure)
        }

        steps: for (offset, step) in scenario.steps.enumerated() {
            let number = offset + 1
            switch step {
            case .wait(let seconds):
                try? await world.clock.sleep(seconds: seconds)
            case .validate:
                do {
                    _ = try await client!.validate()
                    observed.diagnosis = nil
                    _ = ended(number, step, nil, failed: false)
                } catch {
                    observed.diagnosis = error.diagnosis
                    if !ended(number, step, error.diagnosis, failed: true) { break steps }
                }
            case .sync:
                do {
                    if observed.firstSyncStarted == nil { observed.firstSyncStarted = world.clock.now() }
                    observed.lastSyncStarted = world.clock.now()
                    let report = try await client!.sync()
                    observed.syncedRRNs += report.investigationRRNs
                    observed.logEventsBySet.merge(report.logEventsBySet, uniquingKeysWith: +)
                    observed.sync = report
                    observed.syncTotals.investigations += report.investigations
                    observed.syncTotals.alerts += report.alerts
                    observed.syncTotals.logEvents += report.logEvents
                    observed.diagnosis = report.warning
                    _ = ended(number, step, report.warning, failed: false)
                } catch {
                    observed.diagnosis = error.diagnosis
                    if !ended(number, step, error.diagnosis, failed: true) { break steps }
                }
            case .auditPull(let stopAfter):
                let audit = spec.audit!
                let puller = AuditPuller(
                    settings: AuditSettings(storageRegion: audit.storageRegion, apiKey: world.resolve(audit.token)), transport: emulator,
                    clock: world.clock, store: auditStore, noEventsAlertAfter: audit.alertAfter, perPage: audit.perPage, logger: logger)
                let sink = AuditSink(stopAfter: stopAfter)
                do {
                    let report = try await puller.pull { try sink.take($0) }
                    observed.auditRejected += report.rejected.count
                    observed.auditRejectReasons += report.rejected.map(\.reason)
                    observed.diagnosis = report.alert
                    if report.alert != nil, observed.auditAlertAt == nil {
                        observed.auditAlertAt = world.clock.now().timeIntervalSince(scenario.start)
                    }
                    _ = ended(number, step, report.alert, failed: false)
                } catch let failure as ClientError {
                    observed.diagnosis = failure.diagnosis
                    observed.auditIDs += sink.ids
                    observed.auditFields.merge(sink.fieldCounts, uniquingKeysWith: +)
                    if !ended(number, step, failure.diagnosis, failed: true) { break steps }
                    continue steps
                } catch {
                    // The sink stopped on purpose (a simulated crash): the next pull resumes.
                    observed.diagnosis = nil
                    _ = ended(number, step, nil, failed: false)
                }
                observed.auditIDs += sink.ids
                observed.auditFields.merge(sink.fieldCounts, uniquingKeysWith: +)
            case .testNotification:
                if case .failure(let failure) = await notifier!.sendTest(name: scenario.name) {
                    observed.diagnosis = failure.diagnosis
                    if !ended(number, step, failure.diagnosis, failed: true) { break steps }
                } else {
                    observed.diagnosis = nil
                    _ = ended(number, step, nil, failed: false)
                }
            case .notify(let events):
                var notSent = 0
                for number in 1...events where await notifier!.enqueue(["title": .string("\(scenario.name) event \(number)")]) == .notSent {
                    notSent += 1
                }
                let report = await notifier!.deliver()
                observed.delivered += report.delivered.count
                observed.undelivered += report.undelivered.count
                observed.notSent += notSent + report.notSent
                let failed: Bool
                if let disabled = report.disabled {
                    // Later steps may re-enable it: the run goes on, the diagnosis stands until then.
                    observed.diagnosis = disabled
                    observed.disabled = true
                    failed = true
                } else if await notifier!.state == .disabled {
                    observed.diagnosis = await notifier!.disabledDiagnosis(notSent: notSent)
                    failed = false
                } else if await notifier!.state == .deleted {
                    observed.diagnosis = Notifier.deleted
                    failed = false
                } else {
                    observed.diagnosis = report.undelivered.last?.diagnosis
                    failed = !report.undelivered.isEmpty
                }
                if !ended(number, step, observed.diagnosis, failed: failed) { break steps }
            case .setToken(let token):
                client = await client!.replacingToken(world.resolve(token))
            case .notifier(let action):
                switch action {
                case .enable: await notifier!.enable()
                case .disable: await notifier!.disable()
                case .delete: await notifier!.delete()
                }
            case .run:
                break  // the loader allows run only with a command client
            }
        }
        observed.journal = emulator.journal.ordered
        if scenario.expect.syncedMissed != nil, let first = observed.firstSyncStarted, let last = observed.lastSyncStarted {
            // What the tenant holds now that the syncs should have handed on: created inside the
            // first sync's look-back and before the last sync began.
            let handed = Set(observed.syncedRRNs)
            let due = (emulator.tenant(scenario.tenant.region)?.investigations ?? [])
                .filter { $0.createdTime >= first.addingTimeInterval(-28 * 86_400) && $0.createdTime < last }
            observed.missedRRNs = due.map(\.rrn).filter { !handed.contains($0) }
        }
        if let notifier {
            switch await notifier.state {
            case .enabled: observed.notifierState = "enabled"
            case .disabled: observed.notifierState = "disabled"
            case .deleted: observed.notifierState = "deleted"
            }
            observed.systemNotices = await notifier.systemNotices
        }
        observed.deliveries = emulator.deliveries
        observed.steps = outcomes
        observed.diagnosis = observed.diagnosis?.notChecked(scenario.assumed)
        observed.diagnosisText = observed.diagnosis.map { Redaction.scrub($0.description, secrets: world.secrets) }
        observed.logLines = capture.lines.map { Redaction.scrub($0, secrets: world.secrets) }
        let misses = Self.missLines(emulator.replayMisses)
        var result = ScenarioResult(
            name: scenario.name, provenance: scenario.provenance, file: scenario.file,
            failures: (setupFailures + misses + scenario.expect.check(observed)).map { Redaction.scrub($0, secrets: world.secrets) },
            diagnosis: observed.diagnosis, diagnosisText: observed.diagnosisText, journal: observed.journal,
            syncedInvestigations: observed.sync.map { _ in observed.syncTotals.investigations }, syncedLogSources: observed.sync?.logSources,
            virtualSeconds: world.clock.elapsed, wallSeconds: Date().timeIntervalSince(wallStart))
        result.steps = outcomes
        result.unusedRecorded = emulator.unusedRecordedExchanges.map(\.summary)
        result.captured = emulator.capturedExchanges
        return result
    }
}
