import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import InsightEmulator
import InsightRecordings
import InsightServer
import Logging

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List scenarios: name, steps, expected diagnosis and provenance.")

    @Argument(help: "Scenario files or folders (default: ./Scenarios).")
    var paths: [String] = []

    func run() async throws {
        let scenarios: [Scenario]
        do {
            scenarios = try ScenarioLoader.load(paths: paths.isEmpty ? ["Scenarios"] : paths)
        } catch {
            throw refuse(error)
        }
        let width = scenarios.map(\.name.count).max() ?? 20
        for scenario in scenarios {
            let name = scenario.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let expect = scenario.expect.diagnosis?.rawValue ?? "none"
            // Wide enough for every category: padding never cuts one.
            print("\(name)  \(expect.padding(toLength: max(ConsoleReport.outcomeWidth, expect.count), withPad: " ", startingAt: 0)) \(scenario.steps.map(\.description).joined(separator: ", "))")
            print("\(String(repeating: " ", count: width))  ↳ \(scenario.provenance)")
        }
        print("\(scenarios.count) scenario(s)")
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what changed across recent runs (newly failing, fixed, flaky, slower), then the runs; or one scenario's runs.")

    @OptionGroup var storeOption: StoreOption
    var store: String { storeOption.store }

    @Option(name: .long, parsing: .unconditional, help: "How many runs to show and compare.")
    var limit: Int = 10

    @Option(name: .long, help: "Show one scenario's outcomes across runs instead.")
    var scenario: String?

    func validate() throws {
        try OptionRange.check("--limit", limit, 1...10_000, example: 10)
    }

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
                print("run \(row.run)  \(row.startedAt.iso8601)  \(row.record.passed ? "PASS" : "FAIL")  \(row.record.diagnosis ?? "none")  \(row.record.requests) req  \(String(format: "%.3f", row.record.wallSeconds)) s")
                for failure in row.record.failures { print("    - \(failure)") }
            }
            return
        }
        let runs = try history.recentRuns(limit: limit)
        let changes = HistoryChanges(runs: runs)
        if let newest = runs.first {
            let like = "runs of \(newest.coverage.isEmpty ? "the same coverage" : newest.coverage)"
            if changes.compared > 1 {
                print(changes.isEmpty ? "no change across the last \(changes.compared) \(like)" : "changes in the last \(changes.compared) \(like):")
                for line in changes.lines { print("  \(line)") }
            } else if runs.count > 1 {
                print("nothing to compare: no earlier run among the last \(runs.count) covered what the newest did (\(newest.coverage))")
            }
        }
        for run in runs {
            print("run \(run.id ?? 0)  \(run.startedAt.iso8601)  \(run.passed) passed, \(run.failed) failed\(run.commit.map { "  commit \($0)" } ?? "")\(run.coverage.isEmpty ? "" : "  (\(run.coverage))")")
            for failed in run.scenarios where !failed.passed { print("    FAIL \(failed.name)") }
        }
    }
}
