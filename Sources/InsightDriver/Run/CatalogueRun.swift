import Foundation
import InsightCore
import InsightEmulator
import InsightRecordings
import InsightServer
import Logging

/// What `insight-replay run` does, apart from parsing its options and printing: the scenarios
/// chosen (files, filters, shard, names, the kinds a user's client stands in for), run with
/// their recordings, the exchanges they captured redacted into the store, the run kept in the
/// history, and the coverage of the documented rows.
public struct CatalogueRun {
    /// Scenario files or folders (`Scenarios` when empty).
    public var paths: [String] = []
    /// Globs and `tag:NAME`s, any one selects (`--filter`).
    public var filters: [String] = []
    public var shard: ScenarioSelection.Shard?
    /// Scenario names (`--only`); a name that is not there is refused, with the nearest one.
    public var only: [String] = []
    /// A user's client in place of the built-in one of each scenario of its kinds.
    public var client: ClientOverride?
    public var recordMode: RecordMode = .none
    public var store: String
    /// Nothing is written to the store (recordings already in it are still read).
    public var noStore = false
    /// Bundled recordings (default: the `Recordings` folder beside the scenarios).
    public var recordingsFolder: String?
    public var jobs: Int
    /// The commit the run is of, and what it covers: the history compares only like runs.
    public var commit: String?
    public var coverageLabel: String
    public var logger = Logger(label: "insight-replay.client")

    public init(store: String, jobs: Int, coverageLabel: String) {
        self.store = store
        self.jobs = jobs
        self.coverageLabel = coverageLabel
    }

    /// The scenarios to run, with notes for the user (what a `--client` leaves out).
    public func select() throws(DriverError) -> (scenarios: [Scenario], notes: [String]) {
        var scenarios: [Scenario]
        do {
            scenarios = try ScenarioLoader.load(paths: paths.isEmpty ? ["Scenarios"] : paths)
        } catch let error as ScenarioError {
            // CI shows the bad files in its test results rather than nothing at all.
            throw .nothingRun(error)
        } catch {
            throw .nothingRun(ScenarioError(file: paths.first ?? "Scenarios", line: nil, column: nil, field: "", message: "\(error)"))
        }
        do {
            scenarios = try ScenarioSelection(filters: filters, shard: shard).apply(scenarios)
        } catch {
            throw .nothingRun(error)
        }
        var notes: [String] = []
        if !only.isEmpty {
            let unknown = only.filter { name in !scenarios.contains { $0.name == name } }
            if !unknown.isEmpty {
                let names = scenarios.map(\.name)
                let said = unknown.map { name in ScenarioSelection.nearest(name, among: names).map { "\(name) (did you mean '\($0)'?)" } ?? name }
                throw .nothingRun("--only: no scenario named \(said.joined(separator: ", "))", remedy: "`insight-replay list` shows the names")
            }
            scenarios = scenarios.filter { only.contains($0.name) }
        }
        if let client {
            let applicable = scenarios.filter { client.applies(to: $0) }
            let skipped = scenarios.count - applicable.count
            let named = client.kinds.sorted().map(\.title).joined(separator: ", ")
            if applicable.isEmpty {
                throw .nothingRun("--client: none of these scenarios has a client of kind \(named) answered by the emulator",
                                  remedy: "choose another with --kind siem, audit or notifier")
            }
            if skipped > 0 { notes.append("--client: \(skipped) scenario(s) of another kind than \(named), or answered by recordings, are not run (--kind all runs every kind)") }
            notes.append(client.time == .virtual
                ? "--client: \(applicable.count) scenario(s), on the emulator's virtual clock (exact times; its sleeps take no wall time)"
                : "--client: \(applicable.count) scenario(s), time scale \(client.timeScale)×\(client.command.faketime ? ", under libfaketime" : " (its own sleeps are real: --faketime on, or install faketime)")")
            scenarios = applicable
        }
        return (scenarios, notes)
    }

    /// Runs `scenarios` (`jobs` at once), handing each result on in the scenarios' order, with
    /// what became of its captured exchanges (recorded into the store, or why not).
    public func run(_ scenarios: [Scenario], each: (Int, ScenarioResult, _ notes: [String]) async -> Void) async throws(DriverError) -> [ScenarioResult] {
        let recordings: RunRecordings
        do {
            recordings = try RunRecordings(store: store, noStore: noStore,
                                           folders: recordingsFolder.map { [$0] } ?? RunRecordings.folders(besideScenarioFiles: scenarios.map(\.file)))
        } catch {
            throw .nothingRun(error, more: "no scenario runs until the recordings load")
        }
        let runner = ScenarioRunner(logger: logger, recordings: recordings.source, recordMode: recordMode,
                                    caDirectory: CertificateAuthority.directory(besideStore: store), clientOverride: client)
        var results: [ScenarioResult] = []
        await runner.run(scenarios, jobs: jobs) { index, result in
            results.append(result)
            let notes = result.captured.isEmpty ? [] : [record(result, of: scenarios[index], into: recordings.writable)]
            await each(index, result, notes)
        }
        return results
    }

    /// Redacts a scenario's captured exchanges into its recording; what happened, in a line.
    func record(_ result: ScenarioResult, of scenario: Scenario, into store: any RecordingStore) -> String {
        let name = scenario.recordings.first ?? scenario.name
        do {
            var redactor = Redactor()
            let provenance = Provenance(recordedAt: Date(), region: scenario.tenant.region.code,
                                        source: "emulator (run --record-mode \(recordMode.rawValue))", productVersion: nil)
            for exchange in result.captured {
                try store.appendExchange(try redactor.redact(exchange), to: name, provenance: provenance)
            }
            return "recorded \(result.captured.count) exchange(s) into '\(name)'; `insight-replay export \(name)` writes Recordings/\(name).json"
        } catch {
            return "not recorded: \(error)"
        }
    }

    /// Keeps the run in the store's history, unless `noStore`; a warning when it could not.
    public func keep(_ results: [ScenarioResult], startedAt: Date) -> String? {
        guard !noStore else { return nil }
        do {
            let history = try SQLiteRunHistory(path: store)
            _ = try history.recordRun(RunHistoryRecord.make(results, startedAt: startedAt, commit: commit, coverage: coverageLabel))
            return nil
        } catch {
            return "warning: results not recorded in \(store): \(error) (use --no-store to skip)"
        }
    }
}

/// Where a run's recordings come from: the bundled folders (in memory), then the store's
/// imported ones — read with `--no-store` too, which only stops the run from writing.
public struct RunRecordings {
    let bundled = InMemoryRecordingStore()
    let stored: SQLiteRecordingStore?
    let noStore: Bool
    /// Where `--record-mode` captures go: the store, or memory with --no-store.
    public var writable: any RecordingStore {
        if !noStore, let stored { return stored }
        return bundled
    }

    public init(store: String, noStore: Bool, folders: [String]) throws {
        self.noStore = noStore
        stored = !noStore || FileManager.default.fileExists(atPath: store) ? try SQLiteRecordingStore(path: store) : nil
        for folder in folders {
            for recording in try RecordingFile.loadFolder(folder) {
                try bundled.saveRecording(recording)
                // Without --no-store the bundled recordings go into the store too (`recordings` lists them).
                if !noStore { try stored?.saveRecording(recording) }
            }
        }
    }

    public var source: RecordingSource {
        let bundled = bundled, stored = stored
        return { name in try bundled.recording(named: name) ?? stored?.recording(named: name) }
    }

    /// The `Recordings` folders of these scenarios: beside each scenario's folder (in it, or in
    /// its parent: `Scenarios/x.yaml` finds `Recordings/`), else `./Recordings`.
    public static func folders(besideScenarioFiles files: [String]) -> [String] {
        var found: [String] = []
        // Absolute first: `run .` and `run x.yaml` name files whose folder is "." or "", which
        // have no parent to take; a URL made against the working folder always does.
        let folders = Set(files.map { URL(fileURLWithPath: $0).standardizedFileURL.deletingLastPathComponent().path })
        for folder in folders.sorted() {
            // The scenario's own folder, then up to two above it (Scenarios/seed-000/x.yaml finds ./Recordings).
            var base = URL(fileURLWithPath: folder)
            for _ in 0..<3 {
                let path = base.appendingPathComponent("Recordings").path
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    if !found.contains(path) { found.append(path) }
                    break
                }
                guard base.path != "/" else { break }
                base.deleteLastPathComponent()
            }
        }
        return found.isEmpty ? ["Recordings"] : found
    }
}
