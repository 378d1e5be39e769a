import Foundation

/// Run history in SQLite: WAL journal, named forward-only migrations, one transaction per run.
public final class SQLiteRunHistory: RunHistoryStore, @unchecked Sendable {
    private let database: SQLiteDatabase
    private let lock = NSLock()

    /// Opens or creates the store at `path` (`:memory:` for a private in-memory database).
    public init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        try SQLiteMigrations.prepare(database, path: path)
    }

    /// Names of the migrations applied so far, in order.
    public func appliedMigrations() throws -> [String] {
        try SQLiteMigrations.applied(database)
    }

    public func recordRun(_ run: RunRecord) throws -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        return try database.transaction {
            try database.run("INSERT INTO runs (started_at, commit_id, coverage) VALUES (?, ?, ?)",
                             [.double(run.startedAt.timeIntervalSince1970), .text(run.commit), .text(run.coverage)])
            let id = database.lastInsertID
            for scenario in run.scenarios {
                try database.run(
                    """
                    INSERT INTO scenario_runs (run_id, name, passed, diagnosis, requests, virtual_seconds, wall_seconds, failures)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.int(id), .text(scenario.name), .int(scenario.passed ? 1 : 0), .text(scenario.diagnosis),
                     .int(Int64(scenario.requests)), .double(scenario.virtualSeconds), .double(scenario.wallSeconds),
                     .text(Self.encode(scenario.failures))])
            }
            return id
        }
    }

    public func recentRuns(limit: Int) throws -> [RunRecord] {
        lock.lock()
        defer { lock.unlock() }
        var runs: [RunRecord] = []
        try database.run("SELECT id, started_at, commit_id, coverage FROM runs ORDER BY id DESC LIMIT ?", [.int(Int64(limit))]) { row in
            runs.append(RunRecord(id: row.int(0), startedAt: Date(timeIntervalSince1970: row.double(1)),
                                  commit: row.text(2), scenarios: [], coverage: row.text(3) ?? ""))
        }
        for index in runs.indices {
            try database.run(
                "SELECT name, passed, diagnosis, requests, virtual_seconds, wall_seconds, failures FROM scenario_runs WHERE run_id = ? ORDER BY rowid",
                [.int(runs[index].id!)]) { row in
                runs[index].scenarios.append(Self.scenario(row, from: 0))
            }
        }
        return runs
    }

    public func history(ofScenario name: String, limit: Int) throws -> [(run: Int64, startedAt: Date, record: ScenarioRunRecord)] {
        lock.lock()
        defer { lock.unlock() }
        var rows: [(Int64, Date, ScenarioRunRecord)] = []
        try database.run(
            """
            SELECT s.run_id, r.started_at, s.name, s.passed, s.diagnosis, s.requests, s.virtual_seconds, s.wall_seconds, s.failures
            FROM scenario_runs s JOIN runs r ON r.id = s.run_id WHERE s.name = ? ORDER BY s.run_id DESC LIMIT ?
            """, [.text(name), .int(Int64(limit))]) { row in
            rows.append((row.int(0), Date(timeIntervalSince1970: row.double(1)), Self.scenario(row, from: 2)))
        }
        return rows.map { (run: $0.0, startedAt: $0.1, record: $0.2) }
    }

    private static func scenario(_ row: SQLiteDatabase.Row, from start: Int32) -> ScenarioRunRecord {
        return ScenarioRunRecord(
            name: row.text(start) ?? "", passed: row.int(start + 1) != 0, diagnosis: row.text(start + 2),
            requests: Int(row.int(start + 3)), virtualSeconds: row.double(start + 4), wallSeconds: row.double(start + 5),
            failures: decode(row.text(start + 6)))
    }

    /// Failures are kept as a JSON array so a message may hold any character.
    private static func encode(_ failures: [String]) -> String {
        (try? String(decoding: JSONEncoder().encode(failures), as: UTF8.self)) ?? "[]"
    }

    private static func decode(_ text: String?) -> [String] {
        guard let text else { return [] }
        return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? [text]
    }
}
