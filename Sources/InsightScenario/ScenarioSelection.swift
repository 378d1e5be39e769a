import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which scenarios of a catalogue a run takes: `--filter` (name globs, or `tag:GLOB`; any one
/// selects) and `--shard I/N` (deterministic: the I-th of every N in name order, so N CI jobs run
/// the catalogue once between them, and their JUnit files merge).
public struct ScenarioSelection: Sendable {
    public var filters: [String] = []
    public var shard: Shard?

    public struct Shard: Sendable, Equatable {
        /// From 1.
        public let index: Int
        public let count: Int

        /// `I/N` with 1 ≤ I ≤ N ≤ 1000.
        public init(parsing text: String) throws {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), (1...1000).contains(count), (1...count).contains(index) else {
                throw ScenarioError.selection("--shard \(text): expected I/N with 1 ≤ I ≤ N ≤ 1000", remedy: "give it like 2/4 (the second of four jobs)")
            }
            self.index = index
            self.count = count
        }
    }

    public init(filters: [String] = [], shard: Shard? = nil) {
        self.filters = filters
        self.shard = shard
    }

    /// Whether `scenario` passes the filters (every scenario when there are none).
    public func matches(_ scenario: Scenario) -> Bool {
        filters.isEmpty || filters.contains { filter in
            if filter.hasPrefix("tag:") {
                let pattern = String(filter.dropFirst(4))
                return scenario.tags.contains { fnmatch(pattern, $0, 0) == 0 }
            }
            return fnmatch(filter, scenario.name, 0) == 0
        }
    }

    /// The name of `candidates` a typo of `name` most likely meant, if one is near (globs have
    /// none: `audit-*` is not a typo).
    public static func nearest(_ name: String, among candidates: [String]) -> String? {
        guard !name.contains(where: { "*?[".contains($0) }) else { return nil }
        let hint = YAMLMapping.hint(name, candidates)
        guard !hint.isEmpty else { return nil }
        return candidates.min { YAMLMapping.distance($0.lowercased(), name.lowercased()) < YAMLMapping.distance($1.lowercased(), name.lowercased()) }
    }

    /// The selected scenarios, in name order. Throws when the filters select nothing (a typo
    /// must not pass as an empty, green run); an empty shard is fine (more jobs than scenarios).
    public func apply(_ scenarios: [Scenario]) throws -> [Scenario] {
        var selected = scenarios.filter(matches).sorted { $0.name < $1.name }
        if selected.isEmpty, !filters.isEmpty {
            let tags = Set(scenarios.flatMap(\.tags)).sorted()
            let hints = filters.compactMap { filter -> String? in
                let near = filter.hasPrefix("tag:") ? Self.nearest(String(filter.dropFirst(4)), among: tags).map { "tag:" + $0 }
                    : Self.nearest(filter, among: scenarios.map(\.name))
                return near.map { "did you mean '\($0)' for '\(filter)'?" }
            }
            throw ScenarioError.selection("--filter \(filters.joined(separator: " ")) selects no scenario",
                                          remedy: "\(hints.isEmpty ? "" : hints.joined(separator: " ") + " ")names are globs (audit-*), tags are tag:NAME (tags in use: \(tags.isEmpty ? "none" : tags.joined(separator: ", ")))")
        }
        if let shard {
            selected = selected.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.map(\.element)
        }
        return selected
    }
}

/// Which seed rows a run's scenarios reproduce: each row of `SeedRows` with the scenarios that
/// name it in `covers:` and passed; a row named only by failing scenarios is not covered.
public struct Coverage: Sendable {
    public struct Line: Sendable {
        public let row: SeedRow
        public let passing: [String]
        public let failing: [String]
        public var covered: Bool { !passing.isEmpty }
    }

    public let lines: [Line]

    public init(_ results: [(scenario: Scenario, passed: Bool)]) {
        lines = SeedRows.all.map { row in
            let naming = results.filter { $0.scenario.covers.contains(row.id) }
            return Line(row: row, passing: naming.filter(\.passed).map(\.scenario.name).sorted(),
                        failing: naming.filter { !$0.passed }.map(\.scenario.name).sorted())
        }
    }

    public var uncovered: [SeedRow] { lines.filter { !$0.covered }.map(\.row) }

    /// The table as text: a line per row, then the count and the uncovered rows.
    public func text() -> String {
        let width = lines.map(\.row.id.count).max() ?? 30
        var out = ["coverage of the documented behaviours (covers: in each scenario; rows: SeedRows.swift, from the vendor documents)"]
        for line in lines {
            let id = line.row.id.padding(toLength: width, withPad: " ", startingAt: 0)
            var by = line.passing.joined(separator: ", ")
            if !line.failing.isEmpty { by += (by.isEmpty ? "" : "; ") + "failing: " + line.failing.joined(separator: ", ") }
            out.append("  \(line.covered ? "✓" : "✗") \(id)  \(by.isEmpty ? "UNCOVERED — \(line.row.text)" : by)")
        }
        let covered = lines.filter(\.covered).count
        out.append("\(covered) of \(lines.count) documented rows covered" + (uncovered.isEmpty ? "" : "; uncovered: \(uncovered.map(\.id).joined(separator: ", "))"))
        return out.joined(separator: "\n")
    }
}
