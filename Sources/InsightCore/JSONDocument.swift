import Foundation

/// A JSON text read once into a flat index of its values (a "tape", as simdjson calls it),
/// for readers that want a few fields of a large answer: a page of 500 log events is checked
/// whole and indexed in one pass with two allocations, and only the strings and numbers that
/// are asked for are ever decoded. Building the `JSON` tree of the same page makes a `String`
/// per key and value and a `Dictionary` per object, and freeing it costs as much again; a sync
/// that reads a million events through trees spends most of its time there (`bench-scale`).
///
/// It accepts exactly what `JSON.parse` accepts (same grammar, same depth limit, same UTF-8
/// check), and a value's `json` is what `JSON.parse` gives for it (`JSONDocumentTests`).
public final class JSONDocument: Sendable {
    /// One value, in document order; an object's members are its key (a string) then its value.
    struct Node {
        enum Kind: UInt8 { case null, bool, number, string, array, object }
        /// Where the value starts in `bytes` (a string: at its opening quote).
        var start: UInt32
        /// The index of the node after this value and everything inside it.
        var next: UInt32
        /// Items of an array, members of an object; a string's bytes between its quotes.
        var count: UInt32
        var kind: Kind
        /// A string holding `\` escapes; a number with a fraction or exponent; `true`.
        var flag: Bool
    }

    let bytes: [UInt8]
    let nodes: [Node]

    /// Indexes `bytes`; nil when they are not JSON as `JSON.parse` has it, or 4 GB or more.
    public init?<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        let bytes = Array(bytes)
        guard bytes.count < Int(UInt32.max) else { return nil }
        let nodes: [Node]? = bytes.withUnsafeBufferPointer { buffer in
            var builder = Builder(buffer)
            return builder.document()
        }
        guard let nodes else { return nil }
        self.bytes = bytes
        self.nodes = nodes
    }

    /// The value at the top.
    public var root: Value { Value(document: self, node: 0) }

    /// One value of the document; cheap to copy (a reference and an index).
    public struct Value: Sendable {
        let document: JSONDocument
        let node: Int

        private var entry: Node { document.nodes[node] }

        /// The member named `key` of an object (the last, when a name repeats, as in `JSON`).
        public subscript(key: String) -> Value? {
            let entry = entry
            guard entry.kind == .object else { return nil }
            var key = key
            return key.withUTF8 { wanted in
                var found: Value?
                var member = node + 1
                for _ in 0..<entry.count {
                    let name = document.nodes[member]
                    let value = member + 1
                    if document.keyEquals(name, wanted) { found = Value(document: document, node: value) }
                    member = Int(document.nodes[value].next)
                }
                return found
            }
        }

        public var stringValue: String? {
            let entry = entry
            guard entry.kind == .string else { return nil }
            return document.string(entry)
        }

        public var intValue: Int? {
            let entry = entry
            guard entry.kind == .number else { return nil }
            if !entry.flag, let whole = document.smallInteger(entry) { return whole }
            return json.intValue
        }

        public var boolValue: Bool? {
            let entry = entry
            return entry.kind == .bool ? entry.flag : nil
        }

        public var isNull: Bool { entry.kind == .null }
        public var isObject: Bool { entry.kind == .object }

        /// An array's items, in order; nil for any other value.
        public var items: Items? {
            let entry = entry
            guard entry.kind == .array else { return nil }
            return Items(document: document, first: node + 1, count: Int(entry.count))
        }

        /// The value as a `JSON` tree (what `JSON.parse` gives for its text).
        public var json: JSON {
            document.bytes.withUnsafeBufferPointer { buffer in
                var parser = JSONParser(buffer)
                parser.position = Int(entry.start)
                return parser.value() ?? .null
            }
        }
    }

    /// An array's items as values, without copying them out.
    public struct Items: Sequence, Sendable {
        let document: JSONDocument
        let first: Int
        public let count: Int

        public var isEmpty: Bool { count == 0 }

        public struct Iterator: IteratorProtocol {
            let document: JSONDocument
            var node: Int
            var left: Int
            public mutating func next() -> Value? {
                guard left > 0 else { return nil }
                left -= 1
                defer { node = Int(document.nodes[node].next) }
                return Value(document: document, node: node)
            }
        }

        public func makeIterator() -> Iterator { Iterator(document: document, node: first, left: count) }
    }

    /// Whether a key node spells `wanted`: compared as bytes unless the key holds escapes.
    private func keyEquals(_ name: Node, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !name.flag else { return string(name).map { $0.utf8.elementsEqual(wanted) } ?? false }
        guard Int(name.count) == wanted.count else { return false }
        guard !wanted.isEmpty else { return true }
        return bytes.withUnsafeBufferPointer { buffer in
            memcmp(buffer.baseAddress! + Int(name.start) + 1, wanted.baseAddress!, wanted.count) == 0
        }
    }

    private func string(_ entry: Node) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer)
            parser.position = Int(entry.start)
            return parser.string()
        }
    }

    /// An integer of at most 18 digits (which cannot overflow), read from its digits.
    private func smallInteger(_ entry: Node) -> Int? {
        var position = Int(entry.start)
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var value = 0
        var digits = 0
        while position < bytes.count, case let digit = bytes[position] &- UInt8(ascii: "0"), digit < 10 {
            value = value &* 10 &+ Int(digit)
            digits += 1
            position += 1
        }
        guard digits <= 18 else { return nil }
        return negative ? -value : value
    }
}

extension JSONDocument {
    /// One pass over the text: checks it as `JSONParser` does and records each value's node.
    struct Builder {
        let input: UnsafeBufferPointer<UInt8>
        var position = 0
        var depth = 0
        var nodes: [Node] = []

        init(_ input: UnsafeBufferPointer<UInt8>) {
            self.input = input
            // About one value per 12 bytes in the answers this reads; grown as needed.
            nodes.reserveCapacity(input.count / 12 + 4)
        }

        mutating func document() -> [Node]? {
            guard value() else { return nil }
            skipSpace()
            guard position == input.count else { return nil }
            return nodes
        }

        private mutating func skipSpace() {
            position = input.skippingJSONSpace(from: position)
        }

        private mutating func add(_ kind: Node.Kind, flag: Bool = false) -> Int {
            nodes.append(Node(start: UInt32(position), next: 0, count: 0, kind: kind, flag: flag))
            return nodes.count - 1
        }

        private mutating func close(_ index: Int, count: Int) {
            nodes[index].next = UInt32(nodes.count)
            nodes[index].count = UInt32(count)
        }

        private mutating func value() -> Bool {
            skipSpace()
            guard position < input.count else { return false }
            switch input[position] {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true", .bool, flag: true)
            case UInt8(ascii: "f"): return literal("false", .bool)
            case UInt8(ascii: "n"): return literal("null", .null)
            default:
                let node = add(.number)
                var parser = JSONParser(input)
                parser.position = position
                guard let isInteger = parser.scanNumber() else { return false }
                // A fraction, an exponent or a long integer is converted once, as the parser
                // would, to refuse what no Double holds (1e999).
                if !isInteger || parser.position - position > 18 {
                    parser.position = position
                    guard parser.number() != nil else { return false }
                }
                position = parser.position
                nodes[node].flag = !isInteger
                close(node, count: 0)
                return true
            }
        }

        private mutating func literal(_ word: StaticString, _ kind: Node.Kind, flag: Bool = false) -> Bool {
            guard input.holds(word, at: position) else { return false }
            close(add(kind, flag: flag), count: 0)
            position += word.utf8CodeUnitCount
            return true
        }

        private mutating func object() -> Bool {
            container(.object, closer: UInt8(ascii: "}")) { builder in
                builder.skipSpace()
                guard builder.position < builder.input.count, builder.input[builder.position] == UInt8(ascii: "\""),
                      builder.string() else { return false }
                builder.skipSpace()
                guard builder.position < builder.input.count, builder.input[builder.position] == UInt8(ascii: ":") else { return false }
                builder.position += 1
                return builder.value()
            }
        }

        private mutating func array() -> Bool {
            container(.array, closer: UInt8(ascii: "]")) { $0.value() }
        }

        /// An object or array at its opening bracket: `member`s separated by commas up to `closer`.
        private mutating func container(_ kind: Node.Kind, closer: UInt8, member: (inout Builder) -> Bool) -> Bool {
            depth += 1
            defer { depth -= 1 }
            guard depth <= JSONParser.maxDepth else { return false }
            let node = add(kind)
            position += 1
            var members = 0
            skipSpace()
            if position < input.count, input[position] == closer {
                position += 1
                close(node, count: 0)
                return true
            }
            while true {
                guard member(&self) else { return false }
                members += 1
                skipSpace()
                guard position < input.count else { return false }
                let next = input[position]
                position += 1
                if next == closer { close(node, count: members); return true }
                guard next == UInt8(ascii: ",") else { return false }
            }
        }

        /// A string at its opening quote. Without escapes it is only scanned (and, when not
        /// ASCII, checked as UTF-8); with them the parser decodes it once to check them.
        private mutating func string() -> Bool {
            let node = add(.string)
            let start = position
            let (end, ascii) = input.plainStringRun(from: start + 1)
            guard end < input.count else { return false }
            switch input[end] {
            case UInt8(ascii: "\""):
                if !ascii, String(bytes: UnsafeBufferPointer(rebasing: input[(start + 1)..<end]), encoding: .utf8) == nil {
                    return false
                }
                // A string's count is its length between the quotes, as written.
                close(node, count: end - start - 1)
                position = end + 1
                return true
            case UInt8(ascii: "\\"):
                var parser = JSONParser(input)
                parser.position = start
                guard parser.string() != nil else { return false }
                position = parser.position
                nodes[node].flag = true
                close(node, count: position - start - 2)
                return true
            default:
                return false  // a control byte
            }
        }
    }
}
