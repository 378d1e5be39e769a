import Foundation

// Encoding and decoding `JSON` values directly, byte by byte.
//
// Why not JSONEncoder/JSONDecoder: `JSON` is an enum tree, which Codable can only decode by
// trying each case in turn (a thrown error per miss) and encode through a container per node.
// Measured on a Log Search page of 500 events (151 KB, release build): JSONEncoder 3.4 ms,
// JSONDecoder 10.1 ms, JSONSerialization plus conversion 3.8 ms. Every page the emulator answers
// is encoded once and every page a client reads is decoded once, so these set the speed of a
// sync. The output is byte for byte what JSONEncoder writes with `.sortedKeys` and
// `.withoutEscapingSlashes`, which `JSONBytesTests` checks against Foundation on many values.

extension JSON {
    /// Appends `text` as a JSON string, escaped as the canonical encoder escapes it: for
    /// writers that put an answer's bytes together themselves.
    public static func appendString(_ text: String, to bytes: inout [UInt8]) {
        var writer = JSONWriter(bytes: bytes)
        bytes = []
        writer.writeString(text)
        bytes = writer.bytes
    }

    /// Canonical bytes: sorted keys, no escaped slashes, no spaces.
    public func canonicalBytes() -> [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }

    /// Decodes JSON text (a value of any kind at the top); nil when it is not valid JSON, is
    /// nested deeper than 512, or holds a string that is not UTF-8.
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> JSON? {
        let parsed: JSON?? = bytes.withContiguousStorageIfAvailable { buffer in
            var parser = JSONParser(buffer)
            return parser.document()
        }
        if let parsed { return parsed }
        return Array(bytes).withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer)
            return parser.document()
        }
    }
}

extension JSON {
    /// Where `bytes` stop being a JSON document: the line and column (from 1, columns in bytes)
    /// the parser had reached when it gave up; nil when they are valid JSON.
    public static func errorLocation<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> (line: Int, column: Int)? {
        Array(bytes).withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer)
            guard parser.document() == nil else { return nil }
            let reached = buffer[..<min(parser.position, buffer.count)]
            let lineStart = reached.lastIndex(of: 10).map { $0 + 1 } ?? 0
            return (reached.count(where: { $0 == 10 }) + 1, reached.count - lineStart + 1)
        }
    }
}

struct JSONWriter {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1024) }
    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func write(_ value: JSON) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: flag ? "true".utf8 : "false".utf8)
        case .int(let number): bytes.append(contentsOf: String(number).utf8)
        case .double(let number): writeDouble(number)
        case .string(let text): writeString(text)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (offset, item) in items.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (offset, key) in members.keys.sorted().enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(key)
                bytes.append(UInt8(ascii: ":"))
                write(members[key].unsafelyUnwrapped)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// As JSONEncoder: whole numbers without a fraction, others in Swift's shortest form;
    /// non-finite numbers (which JSON cannot hold) as null.
    private mutating func writeDouble(_ number: Double) {
        guard number.isFinite else { bytes.append(contentsOf: "null".utf8); return }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: "u00".utf8)
                    bytes.append(Self.hex[Int(byte >> 4)])
                    bytes.append(Self.hex[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The first position at or after `position` that is not JSON white space.
    func skippingJSONSpace(from position: Int) -> Int {
        var position = position
        while position < count {
            switch self[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return position
            }
        }
        return position
    }

    /// Where a string's plain run from `position` stops (at its closing quote, a `\\`, a control
    /// byte, or the end), and whether the run is ASCII.
    func plainStringRun(from position: Int) -> (end: Int, ascii: Bool) {
        var position = position
        var ascii = true
        while position < count {
            let byte = self[position]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            ascii = ascii && byte < 0x80
            position += 1
        }
        return (position, ascii)
    }

    /// Whether `word` is spelled at `position`.
    func holds(_ word: StaticString, at position: Int) -> Bool {
        let length = word.utf8CodeUnitCount
        guard position + length <= count else { return false }
        for offset in 0..<length where self[position + offset] != word.utf8Start[offset] { return false }
        return true
    }
}

struct JSONParser {
    static let maxDepth = 512
    let input: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0

    init(_ input: UnsafeBufferPointer<UInt8>) { self.input = input }

    mutating func document() -> JSON? {
        guard let value = value() else { return nil }
        skipSpace()
        // Not a ternary: `JSON` is ExpressibleByNilLiteral, so `cond ? value : nil` would be `.null`.
        guard position == input.count else { return Optional.none }
        return value
    }

    private mutating func skipSpace() {
        position = input.skippingJSONSpace(from: position)
    }

    private mutating func literal(_ word: StaticString, _ value: JSON) -> JSON? {
        guard input.holds(word, at: position) else { return nil }
        position += word.utf8CodeUnitCount
        return value
    }

    mutating func value() -> JSON? {
        skipSpace()
        guard position < input.count else { return nil }
        switch input[position] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(JSON.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    private mutating func object() -> JSON? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { return nil }
        position += 1
        // Members are gathered first and the dictionary made once, at its size: growing it
        // member by member rehashes it several times per object.
        var members: [(String, JSON)] = []
        skipSpace()
        if position < input.count, input[position] == UInt8(ascii: "}") {
            position += 1
            return .object([:])
        }
        while true {
            skipSpace()
            guard position < input.count, input[position] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard position < input.count, input[position] == UInt8(ascii: ":") else { return nil }
            position += 1
            guard let item = value() else { return nil }
            members.append((key, item))
            skipSpace()
            guard position < input.count else { return nil }
            let next = input[position]
            position += 1
            if next == UInt8(ascii: "}") { return .object(Dictionary(members, uniquingKeysWith: { _, last in last })) }
            guard next == UInt8(ascii: ",") else { return nil }
        }
    }

    private mutating func array() -> JSON? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { return nil }
        position += 1
        var items: [JSON] = []
        skipSpace()
        if position < input.count, input[position] == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            guard let item = value() else { return nil }
            items.append(item)
            skipSpace()
            guard position < input.count else { return nil }
            let next = input[position]
            position += 1
            if next == UInt8(ascii: "]") { return .array(items) }
            guard next == UInt8(ascii: ",") else { return nil }
        }
    }

    /// A string starting at the opening quote.
    mutating func string() -> String? {
        position += 1
        let start = position
        // The common case: no escapes, one slice.
        var ascii: Bool
        (position, ascii) = input.plainStringRun(from: start)
        if position < input.count {
            if input[position] == UInt8(ascii: "\"") {
                let text = Self.text(UnsafeBufferPointer(rebasing: input[start..<position]), ascii: ascii)
                position += 1
                return text
            }
            if input[position] < 0x20 { return nil }
        }
        var bytes = Array(input[start..<position])
        while position < input.count {
            let byte = input[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return bytes.withUnsafeBufferPointer { Self.text($0, ascii: ascii) }
            case UInt8(ascii: "\\"):
                guard position < input.count else { return nil }
                let escape = input[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hexQuad() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard position + 1 < input.count, input[position] == UInt8(ascii: "\\"), input[position + 1] == UInt8(ascii: "u")
                        else { return nil }
                        position += 2
                        guard let low = hexQuad(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    bytes.append(contentsOf: String(Character(unicode)).utf8)
                    ascii = ascii && scalar < 0x80
                default: return nil
                }
            default:
                guard byte >= 0x20 else { return nil }
                ascii = ascii && byte < 0x80
                bytes.append(byte)
            }
        }
        return nil
    }

    /// UTF-8 bytes as a String; nil when they are not UTF-8. ASCII needs no validation;
    /// anything else goes through Foundation's (the generic `String(validating:)` is not
    /// specialised here and costs a metadata lookup per string).
    private static func text(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool) -> String? {
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        return String(bytes: bytes, encoding: .utf8)
    }

    private mutating func hexQuad() -> UInt32? {
        guard position + 4 <= input.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[position]
            position += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A number as JSON's grammar has it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    /// Whole numbers that fit are `.int` (as the Codable decoding tried Int64 before Double).
    mutating func number() -> JSON? {
        let start = position
        guard let isInteger = scanNumber() else { return nil }
        let text = String(decoding: UnsafeBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
        if isInteger, let whole = Int64(text) { return .int(whole) }
        guard let number = Double(text), number.isFinite else { return nil }
        if number == number.rounded(), abs(number) < 9.2e18 { return .int(Int64(number)) }
        return .double(number)
    }

    /// Moves past a number's text; whether it is whole (no fraction, no exponent), or nil when
    /// it breaks the grammar.
    mutating func scanNumber() -> Bool? {
        func digits() -> Int {
            let first = position
            while position < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[position]) { position += 1 }
            return position - first
        }
        if position < input.count, input[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        guard digits() > 0 else { return nil }
        if input[integerStart] == UInt8(ascii: "0"), position - integerStart > 1 { return nil }
        var isInteger = true
        if position < input.count, input[position] == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            guard digits() > 0 else { return nil }
        }
        if position < input.count, input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if position < input.count, input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { return nil }
        }
        return isInteger
    }
}
