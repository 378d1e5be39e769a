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
            try store.recordRun(run)
            #expect(try store.appliedMigrations() == ["001_runs", "002_recordings", "003_exchange_request_columns"])
        }
        let reopened = try SQLiteRunHistory(path: path)
        #expect(try reopened.appliedMigrations() == ["001_runs", "002_recordings", "003_exchange_request_columns"])
        #expect(try reopened.recentRuns(limit: 10).count == 1)
    }

    @Test func anUnopenableStoreNamesItsPath() {
        #expect(throws: StoreError.self) { try SQLiteRunHistory(path: "/proc/forbidden/store.sqlite") }
        do {
            _ = try SQLiteRunHistory(path: "/proc/forbidden/store.sqlite")
        } catch {
            #expect("\(error)".hasPrefix("/proc/forbidden/store.sqlite: cannot open the store"))
        }
    }
}
