import Foundation

/// The store's schema history: named, applied in order, never edited once released — add new
/// ones at the end. Run history and recordings share one database file.
enum SQLiteMigrations {
    static let all: [(name: String, sql: String)] = [
        ("001_runs", """
            CREATE TABLE runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                started_at REAL NOT NULL,
                commit_id TEXT
            );
            CREATE TABLE scenario_runs (
                run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                passed INTEGER NOT NULL,
                diagnosis TEXT,
                requests INTEGER NOT NULL,
                virtual_seconds REAL NOT NULL,
                wall_seconds REAL NOT NULL,
                failures TEXT NOT NULL
            );
            CREATE INDEX scenario_runs_by_name ON scenario_runs(name, run_id);
            """),
        ("002_recordings", """
            CREATE TABLE recordings (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                recorded_at REAL NOT NULL,
                region TEXT,
                source TEXT NOT NULL,
                product_version TEXT
            );
            CREATE TABLE exchanges (
                recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                method TEXT NOT NULL,
                host TEXT NOT NULL,
                path TEXT NOT NULL,
                status INTEGER NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (recording_id, position)
            );
            CREATE INDEX exchanges_by_request ON exchanges(recording_id, method, host, path);
            """),
        // The request side in columns, so replay can index 100k exchanges without decoding (and
        // holding) every response; responses are read when matched.
        ("003_exchange_request_columns", """
            ALTER TABLE exchanges ADD COLUMN query TEXT NOT NULL DEFAULT '[]';
            ALTER TABLE exchanges ADD COLUMN request_body TEXT NOT NULL DEFAULT '';
            UPDATE exchanges SET query = json_extract(body, '$.query'), request_body = json_extract(body, '$.requestBody');
            """),
        // What each run covered, so history compares like with like.
        ("004_run_coverage", """
            ALTER TABLE runs ADD COLUMN coverage TEXT NOT NULL DEFAULT '';
            """),
    ]

    /// WAL, foreign keys, and every migration not yet applied, each in its own transaction.
    static func prepare(_ database: SQLiteDatabase, path: String) throws {
        if path != ":memory:" { try database.execute("PRAGMA journal_mode=WAL") }
        try database.execute("PRAGMA foreign_keys=ON")
        try database.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        let done = Set(try applied(database))
        for migration in all where !done.contains(migration.name) {
            try database.transaction {
                try database.execute(migration.sql)
                try database.run("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                                 [.text(migration.name), .double(Date().timeIntervalSince1970)])
            }
        }
    }

    static func applied(_ database: SQLiteDatabase) throws -> [String] {
        var names: [String] = []
        try database.run("SELECT name FROM schema_migrations ORDER BY rowid") { names.append($0.text(0) ?? "") }
        return names
    }
}
