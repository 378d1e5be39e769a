import Foundation
import InsightRecordings
import Testing

@Suite struct RunHistoryTests {
    let run = RunRecord(startedAt: Date(timeIntervalSince1970: 1_767_225_600), commit: "8a8ca44", scenarios: [
        ScenarioRunRecord(name: "a", passed: true, diagnosis: nil, requests: 4, virtualSeconds: 0, wallSeconds: 0.01, failures: []),
        ScenarioRunRecord(name: "b", passed: false, diagnosis: "wrong_regional_url", requests: 3, virtualSeconds: 60,
                          wallSeconds: 0.02, failures: ["expected 4 request(s)\nsecond line", "expected diagnosis none"]),
    ])

    func stores() throws -> [any RunHistoryStore] {
        [InMemoryRunHistory(), try SQLiteRunHistory(path: ":memory:")]
    }

    @Test func aRunRoundTripsWithEveryField() throws {
        for store in try stores() {
            let id = try store.recordRun(run)
            let back = try #require(try store.recentRuns(limit: 5).first)
            #expect(back.id == id)
            #expect(back.startedAt == run.startedAt)
            #expect(back.commit == "8a8ca44")
            #expect(back.scenarios == run.scenarios, "\(type(of: store))")
            #expect(back.passed == 1 && back.failed == 1)
        }
    }

    @Test func newestRunsComeFirstAndScenarioHistorySpansRuns() throws {
        for store in try stores() {
            try store.recordRun(run)
            var second = run
            second.scenarios[1].passed = true
            second.scenarios[1].failures = []
            try store.recordRun(second)
            #expect(try store.recentRuns(limit: 1).first?.scenarios[1].passed == true)
            let history = try store.history(ofScenario: "b", limit: 10)
            #expect(history.map(\.record.passed) == [true, false])
            #expect(history.map(\.run) == [2, 1])
        }
    }

    @Test func aFileStoreKeepsItsRunsAndMigratesOnce() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("history-\(UUID().uuidString)/store.sqlite").path
        do {
            let store = try SQLiteRunHistory(path: path)
            _ = try store.recordRun(run)
            #expect(try store.appliedMigrations() == ["001_runs", "002_recordings", "003_exchange_request_columns", "004_run_coverage"])
        }
        let reopened = try SQLiteRunHistory(path: path)
        #expect(try reopened.appliedMigrations() == ["001_runs", "002_recordings", "003_exchange_request_columns", "004_run_coverage"])
        #expect(try reopened.recentRuns(limit: 10).count == 1)
    }

    @Test func anUnopenableStoreNamesItsPath() {
        #expect(throws: RecordingError.self) { try SQLiteRunHistory(path: "/proc/forbidden/store.sqlite") }
        do {
            _ = try SQLiteRunHistory(path: "/proc/forbidden/store.sqlite")
        } catch {
            #expect("\(error)".hasPrefix("/proc/forbidden/store.sqlite: cannot open the store"))
        }
    }
}

@Suite struct HistoryChangesTests {
    static func record(_ name: String, _ passed: Bool, wall: Double = 0.01) -> ScenarioRunRecord {
        ScenarioRunRecord(name: name, passed: passed, diagnosis: nil, requests: 1, virtualSeconds: 0, wallSeconds: wall, failures: [])
    }

    @Test func newlyFailingFixedFlakyAndSlower() {
        // Newest first.
        let runs = [
            RunRecord(id: 3, startedAt: Date(timeIntervalSince1970: 3), commit: "b2", scenarios: [
                Self.record("a", false), Self.record("b", true), Self.record("c", true, wall: 0.5), Self.record("d", false)]),
            RunRecord(id: 2, startedAt: Date(timeIntervalSince1970: 2), commit: "b2", scenarios: [
                Self.record("a", true), Self.record("b", false), Self.record("c", true), Self.record("d", false)]),
            RunRecord(id: 1, startedAt: Date(timeIntervalSince1970: 1), commit: "a1", scenarios: [
                Self.record("a", true), Self.record("b", false), Self.record("c", true, wall: 0.02)]),
        ]
        let changes = HistoryChanges(runs: runs)
        #expect(changes.newlyFailing == ["a"])
        #expect(changes.fixed == ["b"])
        #expect(changes.flaky.map(\.name) == ["a", "b"])
        #expect(changes.slower.map(\.name) == ["c"])
        #expect(changes.lines == [
            "newly failing: a", "fixed: b", "flaky (passed and failed at the same commit): a @ b2, b @ b2",
            "slower: c (0.020 s → 0.500 s)",
        ])
        #expect(HistoryChanges(runs: [runs[2]]).isEmpty)
        #expect(HistoryChanges(runs: []).isEmpty)
    }

    /// A scenario that fails on its first appearance is newly failing; runs of other coverage
    /// (one file against the catalogue) are not compared.
    @Test func aNewFailingScenarioCountsAndOnlyLikeRunsAreCompared() {
        let catalogue = "Scenarios", one = "Scenarios/seed-000/happy-path-us2-sync.yaml"
        let runs = [
            RunRecord(id: 3, startedAt: Date(timeIntervalSince1970: 3), commit: nil, scenarios: [Self.record("a", true), Self.record("new", false)], coverage: catalogue),
            RunRecord(id: 2, startedAt: Date(timeIntervalSince1970: 2), commit: nil, scenarios: [Self.record("a", false)], coverage: one),
            RunRecord(id: 1, startedAt: Date(timeIntervalSince1970: 1), commit: nil, scenarios: [Self.record("a", true)], coverage: catalogue),
        ]
        let changes = HistoryChanges(runs: runs)
        #expect(changes.newlyFailing == ["new (new)"])
        #expect(changes.fixed.isEmpty, "run 2 covered one file: a's failure there is not the catalogue's")
        #expect(changes.compared == 2)
    }
}
