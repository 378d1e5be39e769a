import Foundation
import InsightCore

/// A useful subset of LEQL: free text (`"failed login"`, `error`), comparisons on JSON or
/// `key=value` fields (`user=alice`, `bytes>=800`, `result!=SUCCESS`), `AND`/`OR`/`NOT`,
/// parentheses, and an optional `where( … )` around it all. Anything else is a parse error.
indirect enum LEQL: Sendable, Equatable {
    case all
    case text(String)
    case compare(key: String, op: String, value: String)
    case and(LEQL, LEQL)
    case or(LEQL, LEQL)
    case not(LEQL)

    static func parse(_ statement: String) throws -> LEQL {
        try parseQuery(statement).filter
    }

    /// A statement with its statistical clauses: `where(…) groupby(field) calculate(fn[:field])
    /// limit(n)` in that order, each optional (LSO docs, "LEQL"; the IDR plugin's recorded
    /// `groupby(r7_context.asset.name)` answers, log_id7/log_id8.json.resp).
    static func parseQuery(_ statement: String) throws -> LEQLQuery {
        var chars = Array(statement)
        var query = LEQLQuery(filter: .all)
        // The clauses sit at the end: take them off from the right, last first.
        while let (name, argument, start) = Self.trailingClause(chars) {
            switch name {
            case "limit":
                guard let number = Int(argument), (1...10_000).contains(number) else {
                    throw EmulatorError.query("limit takes a whole number of 1 to 10000, found '\(argument)'", at: start)
                }
                guard query.limit == nil, query.calculate == nil, query.groupBy == nil else {
                    throw EmulatorError.query("limit comes last", at: start)
                }
                query.limit = number
            case "calculate":
                guard query.calculate == nil, query.groupBy == nil else { throw EmulatorError.query("calculate comes after groupby", at: start) }
                let parts = argument.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                let function = parts[0].lowercased()
                guard LEQLQuery.functions.contains(function) else {
                    throw EmulatorError.query("calculate(\(argument)): the function must be one of \(LEQLQuery.functions.joined(separator: ", "))", at: start)
                }
                let field = parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil
                if function != "count", field == nil { throw EmulatorError.query("calculate(\(function)) needs a field: calculate(\(function):FIELD)", at: start) }
                query.calculate = (function, field)
            case "groupby":
                guard query.groupBy == nil, !argument.isEmpty else { throw EmulatorError.query("groupby needs one field", at: start) }
                query.groupBy = argument
            default:
                throw EmulatorError.query("\(name)() is not understood by this emulator; it knows where, groupby, calculate and limit", at: start)
            }
            chars = Array(chars[..<start])
            while let last = chars.last, last.isWhitespace { chars.removeLast() }
        }
        var parser = Parser(chars)
        query.filter = try parser.statement()
        return query
    }

    /// The last `name(argument)` of a statement when it is a statistical clause, with where it starts.
    private static func trailingClause(_ chars: [Character]) -> (String, String, Int)? {
        var end = chars.count
        while end > 0, chars[end - 1].isWhitespace { end -= 1 }
        guard end > 0, chars[end - 1] == ")", let open = chars[..<end].lastIndex(of: "(") else { return nil }
        var start = open
        while start > 0, chars[start - 1].isLetter { start -= 1 }
        let name = String(chars[start..<open]).lowercased()
        guard ["groupby", "calculate", "limit", "timeslice", "sort", "select"].contains(name) else { return nil }
        return (name, String(chars[(open + 1)..<(end - 1)]).trimmingCharacters(in: .whitespaces), start)
    }

    func matches(_ event: LogSearchEvent) -> Bool {
        switch self {
        case .all: return true
        case .text(let text): return event.message.contains(text)
        case .and(let a, let b): return a.matches(event) && b.matches(event)
        case .or(let a, let b): return a.matches(event) || b.matches(event)
        case .not(let a): return !a.matches(event)
        case .compare(let key, let op, let value):
            guard let actual = Self.field(key, in: event.message) else { return op == "!=" }
            // Numbers compare as numbers, anything else as text.
            if let lhs = Double(actual), let rhs = Double(value) { return Self.compare(lhs, op, rhs) }
            return Self.compare(actual, op, value)
        }
    }

    static func compare<T: Comparable>(_ lhs: T, _ op: String, _ rhs: T) -> Bool {
        switch op {
        case "=": return lhs == rhs
        case "!=": return lhs != rhs
        case ">": return lhs > rhs
        case ">=": return lhs >= rhs
        case "<": return lhs < rhs
        default: return lhs <= rhs
        }
    }

    /// A field of a JSON message (dotted keys reach into objects), else `key=value` in plain text.
    static func field(_ key: String, in message: String) -> String? {
        if message.hasPrefix("{"), let json = JSON(data: Data(message.utf8)) {
            var node: JSON? = json
            for part in key.split(separator: ".") { node = node?[String(part)] }
            switch node {
            case .string(let text)?: return text
            case .int(let number)?: return String(number)
            case .double(let number)?: return String(number)
            case .bool(let flag)?: return String(flag)
            default: return nil
            }
        }
        guard let range = message.range(of: "\(key)=") else { return nil }
        return String(message[range.upperBound...].prefix { !$0.isWhitespace && $0 != "," })
    }

    private struct Parser {
        let chars: [Character]
        var index = 0

        init(_ chars: [Character]) { self.chars = chars }

        mutating func statement() throws -> LEQL {
            skipSpace()
            if atEnd { return .all }
            var result: LEQL
            if peekWord()?.lowercased() == "where", lookahead("(") {
                _ = word()
                skipSpace()
                index += 1
                skipSpace()
                result = peek == ")" ? .all : try expression()
                try expect(")")
            } else {
                result = try expression()
            }
            skipSpace()
            guard atEnd else { throw fail("unexpected '\(chars[index])'; this emulator understands where(…), AND, OR, NOT, key=value and text") }
            return result
        }

        mutating func expression() throws -> LEQL {
            var left = try conjunction()
            while consumeKeyword("or") { left = .or(left, try conjunction()) }
            return left
        }

        mutating func conjunction() throws -> LEQL {
            var left = try negation()
            while consumeKeyword("and") { left = .and(left, try negation()) }
            return left
        }

        mutating func negation() throws -> LEQL {
            if consumeKeyword("not") { return .not(try negation()) }
            return try primary()
        }

        mutating func primary() throws -> LEQL {
            skipSpace()
            guard !atEnd else { throw fail("expected a term, found the end of the statement") }
            if peek == "(" {
                index += 1
                let inner = try expression()
                try expect(")")
                return inner
            }
            if peek == "\"" || peek == "'" { return .text(try quoted()) }
            guard let key = word() else { throw fail("expected a term, found '\(chars[index])'") }
            skipSpace()
            for op in [">=", "<=", "!=", "=", ">", "<"] where matchesAhead(op) {
                index += op.count
                skipSpace()
                if peek == "\"" || peek == "'" { return .compare(key: key, op: op, value: try quoted()) }
                guard let value = word() else { throw fail("expected a value after \(key)\(op)") }
                return .compare(key: key, op: op, value: value)
            }
            return .text(key)
        }

        var atEnd: Bool { index >= chars.count }
        var peek: Character? { atEnd ? nil : chars[index] }

        mutating func skipSpace() { while let c = peek, c.isWhitespace { index += 1 } }

        func matchesAhead(_ text: String) -> Bool {
            let wanted = Array(text)
            return index + wanted.count <= chars.count && Array(chars[index..<index + wanted.count]) == wanted
        }

        func lookahead(_ c: Character) -> Bool {
            var i = index
            while i < chars.count, chars[i].isLetter { i += 1 }
            while i < chars.count, chars[i].isWhitespace { i += 1 }
            return i < chars.count && chars[i] == c
        }

        func peekWord() -> String? {
            var copy = self
            return copy.word()
        }

        mutating func word() -> String? {
            skipSpace()
            let start = index
            while let c = peek, c.isLetter || c.isNumber || "_.-:@/*".contains(c) { index += 1 }
            return index > start ? String(chars[start..<index]) : nil
        }

        mutating func consumeKeyword(_ keyword: String) -> Bool {
            skipSpace()
            let saved = index
            if let found = word(), found.lowercased() == keyword { return true }
            index = saved
            return false
        }

        mutating func quoted() throws -> String {
            let quote = chars[index]
            let start = index
            index += 1
            var text = ""
            while let c = peek, c != quote {
                text.append(c)
                index += 1
            }
            guard peek == quote else { throw EmulatorError.query("unterminated string", at: start) }
            index += 1
            return text
        }

        mutating func expect(_ c: Character) throws {
            skipSpace()
            guard peek == c else { throw fail("expected '\(c)'") }
            index += 1
        }

        func fail(_ message: String) -> EmulatorError { .query(message, at: index) }
    }
}

/// A LEQL statement: which events, and what to compute of them.
struct LEQLQuery {
    static let functions = ["count", "sum", "average", "min", "max", "unique"]
    var filter: LEQL
    var groupBy: String?
    var calculate: (function: String, field: String?)?
    var limit: Int?
    /// A statistical query answers `statistics` instead of `events`.
    var isStatistical: Bool { groupBy != nil || calculate != nil }
}
