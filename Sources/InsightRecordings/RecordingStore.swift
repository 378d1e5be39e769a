import Foundation
import InsightCore

/// Where recordings live: SQLite on disk, or memory for tests.
public protocol RecordingStore: Sendable {
    /// Saves a whole recording in one transaction, replacing one of the same name.
    func saveRecording(_ recording: Recording) throws
    /// Appends one exchange to a recording (created if new), committed on its own, so an
    /// exchange is either wholly stored or not at all — whenever the recorder is stopped.
    func appendExchange(_ exchange: RecordedExchange, to name: String, provenance: Provenance) throws
    func recording(named name: String) throws -> Recording?
    /// Names and exchange counts, by name.
    func recordings() throws -> [(name: String, exchanges: Int)]
    func deleteRecording(named name: String) throws
}

public final class InMemoryRecordingStore: RecordingStore, @unchecked Sendable {
    private let lock = NSLock()
    private var all: [String: Recording] = [:]
    public init() {}

    public func saveRecording(_ recording: Recording) throws { lock.withLock { all[recording.name] = recording } }
    public func appendExchange(_ exchange: RecordedExchange, to name: String, provenance: Provenance) throws {
        lock.withLock { all[name, default: Recording(name: name, provenance: provenance, exchanges: [])].exchanges.append(exchange) }
    }
    public func recording(named name: String) throws -> Recording? { lock.withLock { all[name] } }
    public func recordings() throws -> [(name: String, exchanges: Int)] {
        lock.withLock { all.values.map { ($0.name, $0.exchanges.count) }.sorted { $0.name < $1.name } }
    }
    public func deleteRecording(named name: String) throws { _ = lock.withLock { all.removeValue(forKey: name) } }
}

/// A recording's requests in memory and its responses on demand.
public struct ReplayIndex: Sendable {
    /// Request sides only (responses empty), in recorded order.
    public let requests: [RecordedExchange]
    /// The response of the exchange at a position.
    public let response: @Sendable (Int) -> HTTPResponse?
}

/// Recordings in SQLite (the same file as run history): WAL, one transaction per import,
/// one per appended exchange.
public final class SQLiteRecordingStore: RecordingStore, @unchecked Sendable {
    private let database: SQLiteDatabase
    private let lock = NSLock()

    public init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        try SQLiteMigrations.prepare(database, path: path)
    }

    public func saveRecording(_ recording: Recording) throws {
        try lock.withLock {
            try database.transaction {
                try database.run("DELETE FROM recordings WHERE name = ?", [.text(recording.name)])
                let id = try insertRecording(recording.name, recording.provenance)
                for (position, exchange) in recording.exchanges.enumerated() { try insert(exchange, recording: id, position: position) }
            }
        }
    }

    public func appendExchange(_ exchange: RecordedExchange, to name: String, provenance: Provenance) throws {
        try lock.withLock {
            try database.transaction {
                var id: Int64?
                try database.run("SELECT id FROM recordings WHERE name = ?", [.text(name)]) { id = $0.int(0) }
                let recording = try id ?? insertRecording(name, provenance)
                var position: Int64 = 0
                try database.run("SELECT COALESCE(MAX(position) + 1, 0) FROM exchanges WHERE recording_id = ?", [.int(recording)]) { position = $0.int(0) }
                try insert(exchange, recording: recording, position: Int(position))
            }
        }
    }

    public func recording(named name: String) throws -> Recording? {
        try lock.withLock {
            var header: (Int64, Provenance)?
            try database.run("SELECT id, recorded_at, region, source, product_version FROM recordings WHERE name = ?", [.text(name)]) { row in
                header = (row.int(0), Provenance(recordedAt: Date(timeIntervalSince1970: row.double(1)), region: row.text(2),
                                                 source: row.text(3) ?? "", productVersion: row.text(4)))
            }
            guard let (id, provenance) = header else { return nil }
            var exchanges: [RecordedExchange] = []
            let decoder = JSONDecoder()
            try database.run("SELECT body FROM exchanges WHERE recording_id = ? ORDER BY position", [.int(id)]) { row in
                exchanges.append(try decoder.decode(RecordedExchange.self, from: Data((row.text(0) ?? "").utf8)))
            }
            return Recording(name: name, provenance: provenance, exchanges: exchanges)
        }
    }

    public func recordings() throws -> [(name: String, exchanges: Int)] {
        try lock.withLock {
            var rows: [(String, Int)] = []
            try database.run("SELECT r.name, COUNT(e.recording_id) FROM recordings r LEFT JOIN exchanges e ON e.recording_id = r.id GROUP BY r.id ORDER BY r.name") {
                rows.append(($0.text(0) ?? "", Int($0.int(1))))
            }
            return rows.map { (name: $0.0, exchanges: $0.1) }
        }
    }

    public func deleteRecording(named name: String) throws {
        try lock.withLock { try database.run("DELETE FROM recordings WHERE name = ?", [.text(name)]) }
    }

    /// `PRAGMA integrity_check`: "ok" for a sound database.
    public func integrityCheck() throws -> String {
        try lock.withLock {
            var result = ""
            try database.run("PRAGMA integrity_check") { result = $0.text(0) ?? "" }
            return result
        }
    }

    private func insertRecording(_ name: String, _ provenance: Provenance) throws -> Int64 {
        try database.run("INSERT INTO recordings (name, recorded_at, region, source, product_version) VALUES (?, ?, ?, ?, ?)",
                         [.text(name), .double(provenance.recordedAt.timeIntervalSince1970), .text(provenance.region),
                          .text(provenance.source), .text(provenance.productVersion)])
        return database.lastInsertID
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    private func insert(_ exchange: RecordedExchange, recording: Int64, position: Int) throws {
        let body = String(decoding: try Self.encoder.encode(exchange), as: UTF8.self)
        let query = String(decoding: try Self.encoder.encode(exchange.query), as: UTF8.self)
        try database.run(
            "INSERT INTO exchanges (recording_id, position, method, host, path, status, body, query, request_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [.int(recording), .int(Int64(position)), .text(exchange.method), .text(exchange.host), .text(exchange.path),
             .int(Int64(exchange.status)), .text(body), .text(query), .text(exchange.requestBody)])
    }

    /// The request side of every exchange of a recording (what matching needs), in order, and a
    /// way to read one exchange's response when it is matched. Keeps 100k exchanges small in memory.
    public func replayIndex(named name: String) throws -> ReplayIndex? {
        try lock.withLock {
            var id: Int64?
            var recordedAt = Date()
            try database.run("SELECT id, recorded_at FROM recordings WHERE name = ?", [.text(name)]) {
                id = $0.int(0)
                recordedAt = Date(timeIntervalSince1970: $0.double(1))
            }
            guard let id else { return nil }
            var requests: [RecordedExchange] = []
            let decoder = JSONDecoder()
            try database.run("SELECT method, host, path, query, request_body FROM exchanges WHERE recording_id = ? ORDER BY position", [.int(id)]) { row in
                let query = try decoder.decode([RecordedExchange.QueryPair].self, from: Data((row.text(3) ?? "[]").utf8))
                requests.append(RecordedExchange(method: row.text(0) ?? "", host: row.text(1) ?? "", path: row.text(2) ?? "", query: query,
                                                 requestHeaders: [], requestBody: row.text(4) ?? "", status: 0, responseHeaders: [],
                                                 responseBody: "", durationMillis: 0, recordedAt: recordedAt))
            }
            return ReplayIndex(requests: requests) { [self] position in try? self.exchange(recording: id, position: position)?.response }
        }
    }

    private func exchange(recording: Int64, position: Int) throws -> RecordedExchange? {
        try lock.withLock {
            var found: RecordedExchange?
            try database.run("SELECT body FROM exchanges WHERE recording_id = ? AND position = ?", [.int(recording), .int(Int64(position))]) {
                found = try JSONDecoder().decode(RecordedExchange.self, from: Data(($0.text(0) ?? "").utf8))
            }
            return found
        }
    }
}
