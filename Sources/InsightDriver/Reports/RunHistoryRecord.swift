import Foundation
import InsightRecordings

/// Turns a run's results into what the run history stores.
public enum RunHistoryRecord {
    public static func make(_ results: [ScenarioResult], startedAt: Date, commit: String?, coverage: String = "") -> RunRecord {
        RunRecord(startedAt: startedAt, commit: commit, scenarios: results.map { result in
            ScenarioRunRecord(name: result.name, passed: result.passed, diagnosis: result.diagnosis?.category.rawValue,
                              requests: result.journal.count, virtualSeconds: result.virtualSeconds,
                              wallSeconds: result.wallSeconds, failures: result.failures)
        }, coverage: coverage)
    }
}
