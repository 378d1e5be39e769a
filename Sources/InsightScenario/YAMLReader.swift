import Foundation
import Yams

/// A strict view of a YAML node: every read names the field, and a mapping refuses keys it
/// was not asked for, so a typo is an error with its line rather than a silent default.
struct YAMLValue {
    let node: Node
    let field: String
    let file: String

    func error(_ message: String) -> ScenarioError {
        ScenarioError(file: file, line: node.mark?.line, column: node.mark?.column, field: field, message: message)
    }

    private var kind: String {
        switch node {
        case .scalar(let scalar): return scalar.string.isEmpty && scalar.style == .plain ? "nothing" : "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func string() throws -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string, found \(kind)") }
        return scalar.string
    }

    func nonEmptyString() throws -> String {
        let value = try string()
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else { throw error("must not be empty") }
        return value
    }

    func int(in range: ClosedRange<Int>? = nil) throws -> Int {
        guard case .scalar = node, let value = node.int else {
            throw error("expected a whole number, found \(describe())")
        }
        if let range, !range.contains(value) {
            throw error("must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
        }
        return value
    }

    func number(min: Double = 0) throws -> Double {
        guard case .scalar = node, let value = node.int.map(Double.init) ?? node.float, value.isFinite else {
            throw error("expected a number, found \(describe())")
        }
        guard value >= min else { throw error("must be \(min) or more, found \(value)") }
        return value
    }

    func bool() throws -> Bool {
        guard case .scalar = node, let value = node.bool else {
            throw error("expected true or false, found \(describe())")
        }
        return value
    }

    /// One of `allowed`, case-insensitively; the error lists them.
    func choice(_ allowed: [String]) throws -> String {
        let value = try string()
        guard let match = allowed.first(where: { $0.caseInsensitiveCompare(value) == .orderedSame }) else {
            throw error("'\(value)' is not one of: \(allowed.joined(separator: ", "))\(YAMLMapping.hint(value, allowed))")
        }
        return match
    }

    func list() throws -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw error("expected a list, found \(kind)") }
        return sequence.enumerated().map { YAMLValue(node: $1, field: "\(field)[\($0)]", file: file) }
    }

    /// A list of strings; a single string is accepted as a list of one.
    func strings() throws -> [String] {
        if case .scalar = node { return [try string()] }
        return try list().map { try $0.string() }
    }

    func mapping() throws -> YAMLMapping {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping, found \(kind)") }
        var entries: [(String, YAMLValue, Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                throw YAMLValue(node: key, field: field, file: file).error("keys must be plain names")
            }
            let name = scalar.string
            if entries.contains(where: { $0.0 == name }) {
                throw YAMLValue(node: key, field: join(name), file: file).error("duplicate key")
            }
            entries.append((name, YAMLValue(node: value, field: join(name), file: file), key))
        }
        return YAMLMapping(value: self, entries: entries)
    }

    func join(_ name: String) -> String { field.isEmpty ? name : "\(field).\(name)" }

    private func describe() -> String {
        if case .scalar(let scalar) = node { return "'\(scalar.string)'" }
        return kind
    }
}

/// A mapping whose keys are checked against the ones the reader asked for.
struct YAMLMapping {
    let value: YAMLValue
    let entries: [(String, YAMLValue, Node)]
    private(set) var asked: [String] = []

    init(value: YAMLValue, entries: [(String, YAMLValue, Node)]) {
        self.value = value
        self.entries = entries
    }

    var keys: [String] { entries.map(\.0) }

    mutating func optional(_ key: String) -> YAMLValue? {
        if !asked.contains(key) { asked.append(key) }
        return entries.first(where: { $0.0 == key })?.1
    }

    mutating func required(_ key: String) throws -> YAMLValue {
        guard let found = optional(key) else {
            // A misspelt required field is reported where the typo is, not as a missing field.
            if let (name, _, keyNode) = entries.first(where: { Self.distance($0.0, key) <= 2 }) {
                asked.append(name)  // said here, not again as an unknown field
                throw YAMLValue(node: keyNode, field: value.join(name), file: value.file)
                    .error("unknown field; did you mean '\(key)'? (\(key) is required here)")
            }
            throw value.error("missing required field '\(key)'")
        }
        return found
    }

    /// Fails on every key nobody asked for, naming the keys that are allowed (one error as
    /// itself, several as one `ScenarioError`: two typos in one mapping are both reported).
    func finish() throws {
        var errors: [ScenarioError] = []
        let unknown = entries.filter { !asked.contains($0.0) }
        for (name, _, keyNode) in unknown.prefix(20) {
            let near = asked.first { Self.distance($0, name) <= 2 }
            let hint = near.map { "did you mean '\($0)'? " } ?? ""
            errors.append(YAMLValue(node: keyNode, field: value.join(String(name.prefix(80))), file: value.file)
                .error("unknown field; \(hint)allowed here: \(asked.joined(separator: ", "))"))
        }
        if unknown.count > 20 {
            errors.append(value.error("\(unknown.count - 20) more unknown field(s) here"))
        }
        if errors.count == 1 { throw errors[0] }
        if !errors.isEmpty { throw ScenarioError.several(errors) }
    }

    /// `; did you mean 'validate'?` when one of `allowed` is near `value`, else "".
    static func hint(_ value: String, _ allowed: [String]) -> String {
        // A hint is for a typo: a long value (a mutant's megabyte) is not measured at all.
        guard value.count <= 64 else { return "" }
        let folded = value.lowercased()
        guard let near = allowed.min(by: { distance($0.lowercased(), folded) < distance($1.lowercased(), folded) }),
              distance(near.lowercased(), folded) <= max(2, folded.count / 4) else { return "" }
        return "; did you mean '\(near)'?"
    }

    /// Levenshtein distance, for "did you mean" hints. Names are short: past 64 characters
    /// nothing is measured (a hostile file's megabyte key is no typo), and the answer is "far".
    static func distance(_ a: String, _ b: String) -> Int {
        if a.utf8.count > 64 || b.utf8.count > 64 { return Int.max / 2 }
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
