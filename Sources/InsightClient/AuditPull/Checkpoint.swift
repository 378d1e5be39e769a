import Foundation

/// Where an incremental pull stands: the last record handed on (time and sequence number) and
/// when records last arrived. Holds no secret.
public struct PullCheckpoint: Codable, Sendable, Equatable {
    /// Unix ms of the last record handed on.
    public var timestamp: Int64
    public var sequenceNumber: Int64
    /// When the first pull ran; the no-events alert counts from here until a record arrives.
    public var firstRunAt: Date
    /// When a record was last handed on.
    public var lastRecordAt: Date?

    public init(timestamp: Int64, sequenceNumber: Int64, firstRunAt: Date, lastRecordAt: Date?) {
        self.timestamp = timestamp
        self.sequenceNumber = sequenceNumber
        self.firstRunAt = firstRunAt
        self.lastRecordAt = lastRecordAt
    }

    /// Whether an event comes strictly after this point.
    func isBefore(timestamp other: Int64, sequence: Int64) -> Bool {
        (timestamp, sequenceNumber) < (other, sequence)
    }
}

/// Where checkpoints live between runs.
public protocol CheckpointStore: Sendable {
    func load() throws -> PullCheckpoint?
    func save(_ checkpoint: PullCheckpoint) throws
}

public final class InMemoryCheckpointStore: CheckpointStore, @unchecked Sendable {
    private let lock = NSLock()
    private var value: PullCheckpoint?
    public init(_ value: PullCheckpoint? = nil) { self.value = value }
    public func load() throws -> PullCheckpoint? { lock.withLock { value } }
    public func save(_ checkpoint: PullCheckpoint) throws { lock.withLock { value = checkpoint } }
}

/// A checkpoint in a JSON file, replaced atomically (write a temporary file, fsync, rename), so
/// a process killed at any moment leaves the old checkpoint or the new one, never half of one.
public final class FileCheckpointStore: CheckpointStore, @unchecked Sendable {
    public let path: String
    private let lock = NSLock()

    public init(path: String) {
        self.path = path
    }

    static let writable = "check that this user can write the checkpoint's folder, and that the disk is not full"

    public func load() throws -> PullCheckpoint? {
        try lock.withLock {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            do {
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .secondsSince1970
                return try decoder.decode(PullCheckpoint.self, from: data)
            } catch {
                throw ClientError.checkpoint(path, "the checkpoint file is not a checkpoint (\(error))", remedy: "move it aside to start over (the pull then starts from its first window)")
            }
        }
    }

    public func save(_ checkpoint: PullCheckpoint) throws {
        try lock.withLock {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.dateEncodingStrategy = .secondsSince1970
            let data = try encoder.encode(checkpoint)
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let temporary = "\(path).tmp-\(getpid())"
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw ClientError.checkpoint(path, "cannot write \(temporary)", remedy: Self.writable)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            try handle.synchronize()
            try handle.close()
            guard rename(temporary, path) == 0 else {
                throw ClientError.checkpoint(path, "cannot replace the checkpoint: \(String(cString: strerror(errno)))", remedy: Self.writable)
            }
        }
    }
}
