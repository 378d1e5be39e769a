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
    /// What the run covered, as `run` was asked (paths, filters, shard, a client): runs are
    /// compared only with runs that covered the same ("" for runs recorded before it was kept).
    public var coverage: String

    public init(id: Int64? = nil, startedAt: Date, commit: String?, scenarios: [ScenarioRunRecord], coverage: String = "") {
        self.id = id
        self.startedAt = startedAt
        self.commit = commit
        self.scenarios = scenarios
        self.coverage = coverage
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

/// What changed across runs, scenario by scenario: what `insight-replay history` leads with.
public struct HistoryChanges: Sendable, Hashable {
    /// Failing in the newest run, passing in the run before that had it.
    public var newlyFailing: [String] = []
    /// Passing in the newest run, failing in the run before.
    public var fixed: [String] = []
    /// Passed and failed at the same commit, with the commit.
    public var flaky: [(name: String, commit: String)] = []
    /// Wall time in the newest run at least twice the median of the earlier runs (and 50 ms more).
    public var slower: [(name: String, before: Double, now: Double)] = []

    public static func == (lhs: HistoryChanges, rhs: HistoryChanges) -> Bool { lhs.lines == rhs.lines }
    public func hash(into hasher: inout Hasher) { hasher.combine(lines) }

    /// The runs compared: those that covered what the newest did.
    public private(set) var compared = 0

    /// - Parameter runs: newest first, as `recentRuns` gives them. Only runs of the newest's
    ///   coverage are compared (one file's runs say nothing of the catalogue's).
    public init(runs all: [RunRecord]) {
        guard let newest = all.first else { return }
        let runs = all.filter { $0.coverage == newest.coverage }
        compared = runs.count
        for scenario in newest.scenarios {
            if let previous = runs.dropFirst().lazy.compactMap({ $0.scenarios.first { $0.name == scenario.name } }).first {
                if !scenario.passed, previous.passed { newlyFailing.append(scenario.name) }
                if scenario.passed, !previous.passed { fixed.append(scenario.name) }
            } else if !scenario.passed, runs.count > 1 {
                // New, and failing from its first run: newly failing too.
                newlyFailing.append("\(scenario.name) (new)")
            }
            let earlier = runs.dropFirst().compactMap { $0.scenarios.first { $0.name == scenario.name }?.wallSeconds }.sorted()
            if !earlier.isEmpty {
                let median = earlier[earlier.count / 2]
                if scenario.wallSeconds >= 2 * median, scenario.wallSeconds - median >= 0.05 {
                    slower.append((scenario.name, median, scenario.wallSeconds))
                }
            }
        }
        var outcomes: [String: [String: Set<Bool>]] = [:]  // commit → name → outcomes
        for run in runs {
            guard let commit = run.commit else { continue }
            for scenario in run.scenarios { outcomes[commit, default: [:]][scenario.name, default: []].insert(scenario.passed) }
        }
        for (commit, names) in outcomes.sorted(by: { $0.key < $1.key }) {
            for (name, seen) in names.sorted(by: { $0.key < $1.key }) where seen.count == 2 { flaky.append((name, commit)) }
        }
    }

    public var isEmpty: Bool { newlyFailing.isEmpty && fixed.isEmpty && flaky.isEmpty && slower.isEmpty }

    /// One line per kind of change, for a person.
    public var lines: [String] {
        var lines: [String] = []
        if !newlyFailing.isEmpty { lines.append("newly failing: \(newlyFailing.joined(separator: ", "))") }
        if !fixed.isEmpty { lines.append("fixed: \(fixed.joined(separator: ", "))") }
        if !flaky.isEmpty { lines.append("flaky (passed and failed at the same commit): " + flaky.map { "\($0.name) @ \($0.commit)" }.joined(separator: ", ")) }
        if !slower.isEmpty {
            lines.append("slower: " + slower.map { "\($0.name) (\(String(format: "%.3f", $0.before)) s → \(String(format: "%.3f", $0.now)) s)" }.joined(separator: ", "))
        }
        return lines
    }
}
