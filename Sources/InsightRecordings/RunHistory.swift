import Foundation

/// One scenario's outcome in a run, as the history keeps it (no secrets: scrubbed upstream).
public struct ScenarioRunRecord: Sendable, Hashable {
    public var name: String
    public var passed: Bool
    public var diagnosis: String?
    public var requests: Int
    public var virtualSeconds: Double
    public var wallSeconds: Double
    public var failures: [String]

    public init(name: String, passed: Bool, diagnosis: String?, requests: Int, virtualSeconds: Double,
                wallSeconds: Double, failures: [String])
    {
        self.name = name
        self.passed = passed
        self.diagnosis = diagnosis
        self.requests = requests
        self.virtualSeconds = virtualSeconds
        self.wallSeconds = wallSeconds
        self.failures = failures
    }
}

/// One `run` of a catalogue.
public struct RunRecord: Sendable, Hashable {
    public var id: Int64?
    public var startedAt: Date
    public var commit: String?
    public var scenarios: [ScenarioRunRecord]

    public init(id: Int64? = nil, startedAt: Date, commit: String?, scenarios: [ScenarioRunRecord]) {
        self.id = id
        self.startedAt = startedAt
        self.commit = commit
        self.scenarios = scenarios
    }

    public var passed: Int { scenarios.filter(\.passed).count }
    public var failed: Int { scenarios.count - passed }
}

/// Where run history lives: SQLite on disk, or memory for tests.
public protocol RunHistoryStore: Sendable {
    /// Saves a run and all its scenarios at once; returns its id.
    @discardableResult func recordRun(_ run: RunRecord) throws -> Int64
    /// The newest runs first.
    func recentRuns(limit: Int) throws -> [RunRecord]
    /// Every recorded outcome of one scenario, newest first.
    func history(ofScenario name: String, limit: Int) throws -> [(run: Int64, startedAt: Date, record: ScenarioRunRecord)]
}

/// Run history in memory, for tests.
public final class InMemoryRunHistory: RunHistoryStore, @unchecked Sendable {
    private let lock = NSLock()
    private var runs: [RunRecord] = []

    public init() {}

    public func recordRun(_ run: RunRecord) throws -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        var stored = run
        stored.id = Int64(runs.count + 1)
        runs.append(stored)
        return stored.id!
    }

    public func recentRuns(limit: Int) throws -> [RunRecord] {
        lock.lock()
        defer { lock.unlock() }
        return Array(runs.reversed().prefix(limit))
    }

    public func history(ofScenario name: String, limit: Int) throws -> [(run: Int64, startedAt: Date, record: ScenarioRunRecord)] {
        try recentRuns(limit: Int.max).flatMap { run in
            run.scenarios.filter { $0.name == name }.map { (run.id!, run.startedAt, $0) }
        }.prefix(limit).map { $0 }
    }
}
