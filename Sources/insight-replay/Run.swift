import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import InsightEmulator
import InsightRecordings
import InsightServer
import Logging

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay scenarios on the embedded emulator and check their expectations.",
        discussion: "Exit code 0 when every scenario passes, 1 when any fails, 2 on bad input (a scenario file, an option).")

    @Argument(help: "Scenario files or folders (default: ./Scenarios).")
    var paths: [String] = []

    @Option(name: .long, help: "Write JUnit XML results to this file.")
    var junit: String?

    @Option(name: .long, help: "Run only the scenarios with these names (repeatable).")
    var only: [String] = []

    @Option(name: .long, help: "SQLite store for run history.")
    var store: String = ".insight-replay/store.sqlite"

    @Flag(name: .long, help: "Do not record this run in the store.")
    var noStore = false

    @Flag(name: .shortAndLong, help: "Print each scenario's diagnosis, not only failures.")
    var verbose = false

    @Option(name: .long, help: "Recordings: none (only recordings answer; the default, and CI's), missing (the emulator answers and records what no recording matches), all (the emulator answers and records everything).")
    var recordMode: String = "none"

    @Option(name: .long, help: "Folder of bundled recordings loaded into the store before the run.")
    var recordingsFolder: String = "Recordings"

    @Option(name: .long, help: "Your own client, a command run by /bin/sh -c, in place of every seeds/000 scenario's client: it reaches the emulator at https://REGION.api.insight.rapid7.com through the proxy and gets R7_BASE_URL, R7_API_KEY … (see README). Each scenario then reports what your client did differently from what the seed requires.")
    var client: String?

    @Option(name: .long, help: "With --client: virtual seconds per wall second (default 60).")
    var timeScale: Double = 60

    @Option(name: .long, help: "With --client: run it under libfaketime so its own sleeps follow the time scale: auto (when installed), on, off.")
    var faketime: String = "auto"

    @Option(name: .long, help: "With --client: wall seconds each run of it may take.")
    var clientTimeout: Double = 120

    @OptionGroup var common: CommonOptions

    func run() async throws {
        // Scenario outcomes are reported as diagnoses; logs are for digging deeper (--log-level debug).
        try common.bootstrap(fallback: .error)
        var scenarios: [Scenario]
        do {
            scenarios = try ScenarioLoader.load(paths: paths.isEmpty ? ["Scenarios"] : paths)
        } catch {
            printError("\(error)")
            printError("no scenario was run: fix the files above (see README, \"Scenario format\").")
            throw ExitCode(2)
        }
        if !only.isEmpty {
            let unknown = only.filter { name in !scenarios.contains { $0.name == name } }
            if !unknown.isEmpty {
                printError("--only: no scenario named \(unknown.joined(separator: ", ")); `insight-replay list` shows the names")
                throw ExitCode(2)
            }
            scenarios = scenarios.filter { only.contains($0.name) }
        }
        var override: ClientOverride?
        if let client {
            guard timeScale > 0, timeScale <= 1_000_000 else { throw ValidationError("--time-scale must be above 0 and at most 1000000") }
            guard clientTimeout > 0 else { throw ValidationError("--client-timeout must be above 0") }
            guard ["auto", "on", "off"].contains(faketime) else { throw ValidationError("--faketime must be auto, on or off") }
            var command = CommandSpec(arguments: ["/bin/sh", "-c", client])
            command.timeout = clientTimeout
            command.faketime = faketime == "on" || (faketime == "auto" && FakeTime.isInstalled)
            if faketime == "on", !FakeTime.isInstalled {
                printError("--faketime on: libfaketime is not installed (Debian: apt-get install faketime)")
                throw ExitCode(2)
            }
            override = ClientOverride(command: command, timeScale: timeScale)
            let applicable = scenarios.filter(ClientOverride.applies)
            let skipped = scenarios.count - applicable.count
            if applicable.isEmpty {
                printError("--client: none of these scenarios has a seeds/000 client (url + token) answered by the emulator")
                throw ExitCode(2)
            }
            if skipped > 0 { printError("--client: \(skipped) scenario(s) without a seeds/000 client (audit, notifier, recordings) are not run") }
            printError("--client: \(applicable.count) scenario(s), time scale \(timeScale)×\(command.faketime ? ", under libfaketime" : " (its own sleeps are real: --faketime on, or install faketime)")")
            scenarios = applicable
        }
        let mode: RecordMode
        do {
            mode = try RecordMode.parse(recordMode)
        } catch {
            printError("--record-mode: \(error)")
            throw ExitCode(2)
        }
        // The bundled recordings go into the store (memory with --no-store) with no manual step.
        let recordingStore: any RecordingStore
        do {
            recordingStore = noStore ? InMemoryRecordingStore() : try SQLiteRecordingStore(path: store)
            for recording in try RecordingFile.loadFolder(recordingsFolder) { try recordingStore.saveRecording(recording) }
        } catch {
            printError("\(error)")
            printError("no scenario was run: fix the recordings above")
            throw ExitCode(2)
        }
        let started = Date()
        let width = min(48, scenarios.map(\.name.count).max() ?? 20)
        var results: [ScenarioResult] = []
        let runner = ScenarioRunner(logger: Logger(label: "insight-replay.client"),
                                    recordings: { try recordingStore.recording(named: $0) }, recordMode: mode,
                                    caDirectory: CertificateAuthority.directory(besideStore: store), clientOverride: override)
        for scenario in scenarios {
            let result = await runner.run(scenario)
            results.append(result)
            if !result.captured.isEmpty {
                let name = scenario.recordings.first ?? scenario.name
                do {
                    var redactor = Redactor()
                    for exchange in result.captured {
                        try recordingStore.appendExchange(try redactor.redact(exchange), to: name,
                                                          provenance: Provenance(recordedAt: Date(), region: scenario.tenant.region.code, source: "emulator (run --record-mode \(mode.rawValue))", productVersion: nil))
                    }
                    printError("recorded \(result.captured.count) exchange(s) into '\(name)'; `insight-replay export \(name)` writes Recordings/\(name).json")
                } catch {
                    printError("not recorded: \(error)")
                }
            }
            print(ConsoleReport.line(result, nameWidth: width))
            if verbose, let text = result.diagnosisText ?? result.clientOutput {
                print(text.split(separator: "\n").map { "      \($0)" }.joined(separator: "\n"))
            }
        }
        let wall = Date().timeIntervalSince(started)
        print(ConsoleReport.summary(results, wallSeconds: wall))

        if let junit {
            do {
                try JUnitReport.xml(results, wallSeconds: wall).write(toFile: junit, atomically: true, encoding: .utf8)
            } catch {
                printError("cannot write JUnit XML to \(junit): \(error.localizedDescription)")
                throw ExitCode(2)
            }
        }
        if !noStore {
            do {
                let history = try SQLiteRunHistory(path: store)
                _ = try history.recordRun(RunHistoryRecord.make(results, startedAt: started,
                                                            commit: ProcessInfo.processInfo.environment["INSIGHT_REPLAY_COMMIT"]))
            } catch {
                printError("warning: results not recorded in \(store): \(error) (use --no-store to skip)")
            }
        }
        if results.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List scenarios: name, steps, expected diagnosis and provenance.")

    @Argument(help: "Scenario files or folders (default: ./Scenarios).")
    var paths: [String] = []

    func run() async throws {
        let scenarios: [Scenario]
        do {
            scenarios = try ScenarioLoader.load(paths: paths.isEmpty ? ["Scenarios"] : paths)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let width = scenarios.map(\.name.count).max() ?? 20
        for scenario in scenarios {
            let name = scenario.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let expect = scenario.expect.diagnosis?.rawValue ?? "none"
            print("\(name)  \(expect.padding(toLength: 30, withPad: " ", startingAt: 0)) \(scenario.steps.map(\.description).joined(separator: ", "))")
            print("\(String(repeating: " ", count: width))  ↳ \(scenario.provenance)")
        }
        print("\(scenarios.count) scenario(s)")
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show recent runs recorded in the store.")

    @Option(name: .long, help: "SQLite store for run history.")
    var store: String = ".insight-replay/store.sqlite"

    @Option(name: .long, help: "How many runs to show.")
    var limit: Int = 10

    @Option(name: .long, help: "Show one scenario's outcomes across runs instead.")
    var scenario: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: store) else {
            printError("no store at \(store): `insight-replay run` creates it")
            throw ExitCode(2)
        }
        let history = try SQLiteRunHistory(path: store)
        if let scenario {
            let rows = try history.history(ofScenario: scenario, limit: limit)
            if rows.isEmpty { print("no recorded run of \(scenario)") }
            for row in rows {
                print("run \(row.run)  \(row.startedAt.iso8601)  \(row.record.passed ? "PASS" : "FAIL")  \(row.record.diagnosis ?? "none")  \(row.record.requests) req")
            }
            return
        }
        for run in try history.recentRuns(limit: limit) {
            print("run \(run.id ?? 0)  \(run.startedAt.iso8601)  \(run.passed) passed, \(run.failed) failed\(run.commit.map { "  commit \($0)" } ?? "")")
            for failed in run.scenarios where !failed.passed { print("    FAIL \(failed.name)") }
        }
    }
}
