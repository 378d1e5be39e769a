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

    @Option(name: .long, help: "Write JUnit XML results to this file (also when a scenario file is bad: an <error> per file).")
    var junit: String?

    @Option(name: .long, help: "Write the run as JSON to this file (schema: docs/report.schema.json).")
    var json: String?

    @Option(name: .long, help: "Write a self-contained HTML report to this file: summary, diagnoses, and a timeline of each scenario's requests.")
    var html: String?

    @Option(name: .long, help: "Run only the scenarios with these names (repeatable).")
    var only: [String] = []

    @Option(name: .long, help: "Run only the scenarios whose name matches this glob (audit-*), or with this tag (tag:NAME); repeatable, any one selects.")
    var filter: [String] = []

    @Option(name: .long, help: "Run the I-th of N shards (I/N, in name order: every N-th scenario from the I-th), for a CI matrix whose JUnit files merge.")
    var shard: String?

    @Flag(name: .long, help: "After the run, list each documented behaviour (row) with the passing scenarios that cover it (covers:), and the rows none does.")
    var coverage = false

    @Flag(name: .long, help: "Like --coverage, and exit 1 when a documented row is uncovered.")
    var requireCoverage = false

    @Option(name: .long, parsing: .unconditional, help: "Scenarios run at once (each on its own emulator and virtual clock); default: the cores. Runs with a command client go one at a time.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var storeOption: StoreOption
    var store: String { storeOption.store }

    @Flag(name: .long, help: "Do not record this run in the store (recordings imported into it are still read).")
    var noStore = false

    @Flag(name: .shortAndLong, help: "Print each scenario's diagnosis, not only failures.")
    var verbose = false

    @Option(name: .long, help: "Recordings: none (only recordings answer; the default, and CI's), missing (the emulator answers and records what no recording matches), all (the emulator answers and records everything).")
    var recordMode: String = "none"

    /// What this run covers, for the history (runs are compared only with like runs):
    /// `Scenarios`, `Scenarios/seed-002 · filter tag:audit · shard 1/2 · client (audit)`.
    var coverageLabel: String {
        var parts = [(paths.isEmpty ? ["Scenarios"] : paths).joined(separator: " ")]
        if !filter.isEmpty { parts.append("filter \(filter.joined(separator: " "))") }
        if !only.isEmpty { parts.append("only \(only.joined(separator: " "))") }
        if let shard { parts.append("shard \(shard)") }
        if let client { parts.append("client \(client) (\(kind))") }
        return parts.joined(separator: " · ")
    }

    @Option(name: .long, help: "Folder of bundled recordings loaded before the run (default: the Recordings folder beside each scenario's folder, else ./Recordings).")
    var recordingsFolder: String?

    @Option(name: .long, help: "Your own client, a command run by /bin/sh -c, in place of the built-in client of each scenario of its --kind: it reaches the emulator at https://REGION.api.insight.rapid7.com through the proxy and gets its settings as R7_* variables (see docs/CLIENTS.md, \"The contract of each kind\"). Each scenario then reports what your client did differently from what the vendor documents require.")
    var client: String?

    @Option(name: .long, help: "With --client: the integration it is: siem (a SIEM connector's URL + token, the default), audit (an audit-log pull), notifier (an InsightConnect trigger), or several with commas, or all.")
    var kind: String = "siem"

    @Option(name: .long, help: "With --client: virtual (its clock, sleeps and timeouts run on the emulator's clock: exact, no waiting) or scaled (the wall clock at --time-scale).")
    var time: String = "virtual"

    @Option(name: .long, parsing: .unconditional, help: "With --client --time scaled: virtual seconds per wall second (default 60).")
    var timeScale: Double = 60

    @Option(name: .long, help: "With --client --time scaled: run it under libfaketime so its own sleeps follow the time scale: auto (when installed), on, off.")
    var faketime: String = "auto"

    @Option(name: .long, parsing: .unconditional, help: "With --client: wall seconds each run of it may take.")
    var clientTimeout: Double = 120

    @OptionGroup var common: CommonOptions

    func validate() throws {
        var named: [String: String] = [:]
        for (option, path) in [("--junit", junit), ("--json", json), ("--html", html)] {
            guard let path else { continue }
            if let problem = ReportPath.problem(path, option: option) { throw ValidationError(problem) }
            let target = path == "-" ? "-" : URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            if let other = named[target] { throw ValidationError("\(other) and \(option) both name \(path): give each report a file of its own") }
            named[target] = option
        }
        if let shard { _ = try Self.shard(shard) }
        try OptionRange.check("--jobs", jobs, 1...256, example: 4)
        if requireCoverage, shard != nil {
            throw ValidationError("--require-coverage is about the whole catalogue; run it without --shard (one job of the matrix)")
        }
        if client != nil {
            guard timeScale > 0, timeScale <= 1_000_000, timeScale.isFinite else {
                throw ValidationError("--time-scale must be above 0 and at most 1000000 (e.g. --time-scale 60), not \(timeScale)")
            }
            try OptionRange.seconds("--client-timeout", clientTimeout, maximum: 86_400, example: 120)
            guard ["auto", "on", "off"].contains(faketime) else { throw ValidationError("--faketime must be auto, on or off") }
            guard CommandTime(rawValue: time) != nil else { throw ValidationError("--time must be virtual or scaled, not '\(time)' (e.g. --time scaled --time-scale 60)") }
            _ = try Self.kinds(kind)
        }
    }

    func run() async throws {
        // Scenario outcomes are reported as diagnoses; logs are for digging deeper (--log-level debug).
        try common.bootstrap(fallback: .error)
        let started = Date()
        var catalogue = CatalogueRun(store: store, jobs: jobs, coverageLabel: coverageLabel)
        catalogue.paths = paths
        catalogue.filters = filter
        catalogue.shard = try shard.map(Self.shard)
        catalogue.only = only
        catalogue.noStore = noStore
        catalogue.recordingsFolder = recordingsFolder
        catalogue.commit = Self.commit
        do {
            catalogue.recordMode = try RecordMode.parse(recordMode)
        } catch {
            throw refuse(error, context: "--record-mode: ")
        }
        catalogue.client = try clientOverride()
        let scenarios: [Scenario]
        let results: [ScenarioResult]
        do {
            let selected = try catalogue.select()
            scenarios = selected.scenarios
            if let shard, scenarios.isEmpty {
                print("shard \(shard) holds none of the selected scenarios (more jobs than scenarios): nothing to run")
            }
            for note in selected.notes { printError(note) }
            let width = min(48, scenarios.map(\.name.count).max() ?? 20)
            let terminal = Terminal()
            var progress = Progress(total: scenarios.count, enabled: terminal.stderrIsTerminal, started: started)
            // Results come in the scenarios' order; each is reported as it is ready.
            progress.show(next: scenarios.first?.name ?? "")
            results = try await catalogue.run(scenarios) { index, result, notes in
                progress.clear()
                if index + 1 < scenarios.count { progress.show(next: scenarios[index + 1].name) }
                for note in notes { printError(note) }
                print(ConsoleReport.line(result, nameWidth: width, colour: terminal.colour))
                if verbose, let text = result.diagnosisText ?? result.clientOutput {
                    print(text.split(separator: "\n").map { "      \($0)" }.joined(separator: "\n"))
                }
            }
        } catch {
            let exit = refuse(error)
            if !error.badFiles.isEmpty { writeReports([], errors: error.badFiles, started: started) }
            throw exit
        }
        print(ConsoleReport.summary(results, wallSeconds: Date().timeIntervalSince(started)))
        if !writeReports(results, errors: [], started: started) { throw ExitCode(2) }
        if let warning = catalogue.keep(results, startedAt: started) { printError(warning) }
        var uncovered = false
        if coverage || requireCoverage {
            let table = Coverage(zip(scenarios, results).map { ($0, $1.passed) })
            print(table.text())
            uncovered = requireCoverage && !table.uncovered.isEmpty
            if uncovered { printError("--require-coverage: \(table.uncovered.count) documented row(s) have no passing scenario; add one naming the row in covers:") }
        }
        if uncovered || results.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }

    /// `--client` and its options as the driver takes them.
    func clientOverride() throws -> ClientOverride? {
        guard let client else { return nil }
        var command = CommandSpec(arguments: ["/bin/sh", "-c", client])
        command.timeout = clientTimeout
        let mode = CommandTime(rawValue: time) ?? .virtual
        command.time = mode
        command.faketime = mode == .scaled && (faketime == "on" || (faketime == "auto" && FakeTime.isInstalled))
        if mode == .scaled, faketime == "on", !FakeTime.isInstalled {
            printError("--faketime on: libfaketime is not installed (Debian: apt-get install faketime)")
            throw ExitCode(2)
        }
        return ClientOverride(command: command, time: mode, timeScale: timeScale, kinds: try Self.kinds(kind))
    }

    static func shard(_ text: String) throws -> ScenarioSelection.Shard {
        do {
            return try ScenarioSelection.Shard(parsing: text)
        } catch {
            throw ValidationError(errorText(error))
        }
    }

    /// INSIGHT_REPLAY_COMMIT, else the working tree's git commit (so `history` can tell a flaky
    /// scenario: passed and failed at the same commit), else nil.
    static let commit: String? = {
        if let given = ProcessInfo.processInfo.environment["INSIGHT_REPLAY_COMMIT"], !given.isEmpty { return given }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "--short", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }()

    /// Writes the reports asked for (JUnit, JSON, HTML), each whole or not at all; false when one
    /// could not be written (said on standard error).
    @discardableResult
    func writeReports(_ results: [ScenarioResult], errors: [ScenarioError], started: Date) -> Bool {
        let wall = Date().timeIntervalSince(started)
        var written = true
        func write(_ text: @autoclosure () -> String, to path: String?, option: String) {
            guard let path else { return }
            do {
                try ReportPath.write(text(), to: path)
            } catch {
                printError(errorText(error, context: "\(option): "))
                written = false
            }
        }
        write(JUnitReport.xml(results, errors: errors, wallSeconds: wall, timestamp: started), to: junit, option: "--junit")
        if json != nil || html != nil {
            let report = RunReport(results: results, errors: errors, wallSeconds: wall, generatedAt: started, commit: Self.commit)
            write(String(decoding: report.json(), as: UTF8.self) + "\n", to: json, option: "--json")
            write(HTMLReport.page(report), to: html, option: "--html")
        }
        return written
    }
}
