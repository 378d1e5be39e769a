import Foundation
@testable import InsightCore
import Testing

/// The indexed reader against the tree parser it stands in for: the same texts accepted, the
/// same values read, field by field.
@Suite struct JSONDocumentTests {
    /// Every accessor of `value` agrees with the tree `expected`, all the way down.
    static func agree(_ value: JSONDocument.Value, _ expected: JSON, path: String = "$") {
        #expect(value.json == expected, "\(path)")
        #expect(value.stringValue == expected.stringValue, "\(path)")
        #expect(value.intValue == expected.intValue, "\(path)")
        #expect(value.boolValue == expected.boolValue, "\(path)")
        #expect(value.isNull == (expected == .null), "\(path)")
        if case .object = expected { #expect(value.isObject, "\(path)") } else { #expect(!value.isObject, "\(path)") }
        #expect(value.items?.count == expected.arrayValue?.count, "\(path)")
        switch expected {
        case .array(let items):
            guard let read = value.items else { Issue.record("\(path) is not an array"); return }
            for (offset, (item, want)) in zip(read, items).enumerated() { agree(item, want, path: "\(path)[\(offset)]") }
        case .object(let members):
            for (key, want) in members {
                guard let member = value[key] else { Issue.record("\(path).\(key) missing"); continue }
                agree(member, want, path: "\(path).\(key)")
            }
            #expect(value["no such member"] == nil)
        default:
            #expect(value["a"] == nil)
        }
    }

    static let texts: [String] = JSONBytesTests.values.map { String(decoding: $0.encoded(), as: UTF8.self) }
        + JSONBytesTests.decodings.map(\.0)
        + [#"{"a":1,"a":2}"#, #"{"a\u0062":1,"ab":2,"b":3}"#, #"{"":1,"a":{"":[]}}"#, #"{"abc":1,"ab":2,"a\"":3}"#,
           "-0", "[-12345678901234567, 123456789012345678, 1234567890123456789, -9223372036854775808, 9223372036854775808]",
           "[1.0, 2.50, 1e2, -1E-2, 0.0, 1e300, -1e300]", #"{"k":"é😀","\u00e9":"x"}"#, " [ ] ", "{ }"]

    @Test(arguments: texts) func readsWhatTheTreeParserReads(text: String) throws {
        let expected = try #require(JSON.parse(Data(text.utf8)))
        let document = try #require(JSONDocument(Data(text.utf8)), "\(text)")
        Self.agree(document.root, expected)
    }

    @Test func membersByName() throws {
        let document = try #require(JSONDocument(Data(#"{"a":1,"a":2,"a\u0062":"escaped","abc":3,"":"empty","q\"":4}"#.utf8)))
        #expect(document.root["a"]?.intValue == 2, "the last of a repeated name, as the tree keeps it")
        #expect(document.root["ab"]?.stringValue == "escaped")
        #expect(document.root["abc"]?.intValue == 3)
        #expect(document.root[""]?.stringValue == "empty")
        #expect(document.root["q\""]?.intValue == 4)
        #expect(document.root["abcd"] == nil)
        #expect(document.root["b"] == nil)
    }

    @Test(arguments: ["", " ", "[1,2", "{\"a\":1", "{\"a\" 1}", "01", "-", "1.", ".5", "\"a\u{01}\"", "tru", "nul", "1e400",
                      "[1]x", "{} {}", #""\ud83d""#, #""\ud83d\u0041""#, #""\x""#, #""\u12g4""#, "[1,]", "{,}", "\"open",
                      "{1:2}", "nan", "Infinity", "+1", "[1e999]", #"{"a":-}"#, "[\"\u{7f}\",\"\u{1f}\"]"])
    func refusesWhatTheTreeParserRefuses(text: String) {
        #expect(JSON.parse(Data(text.utf8)) == nil)
        #expect(JSONDocument(Data(text.utf8)) == nil, "\(text.debugDescription) is not JSON")
    }

    @Test func refusesBytesThatAreNotUTF8() {
        #expect(JSONDocument([0x22, 0xFF, 0xFE, 0x22]) == nil)
        #expect(JSONDocument([0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22]) == nil, "invalid UTF-8 after an escape")
        #expect(JSONDocument([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D]) == nil, "invalid UTF-8 in a name")
    }

    @Test func nestingIsBoundedNotAStackOverflow() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(JSONDocument(Data(deep.utf8)) == nil)
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(JSONDocument(Data(fine.utf8)) != nil)
    }

    /// Thousands of near-JSON texts (bytes deleted, doubled, swapped for the grammar's own
    /// characters): the reader accepts exactly the ones the tree parser accepts, and reads them
    /// the same.
    @Test func mutantsAreAcceptedAndReadAsTheTreeParserDoes() {
        let seeds = Self.texts.map { Array($0.utf8) } + [Array(#"{"events":[{"timestamp":1700000000123,"sequence_number":42,"log_id":"a-b","message":"{\"k\":\"v\"}","links":[{"rel":"Next","href":"https://x/y?z=1"}]}],"statistics":null,"partial":false}"#.utf8)]
        let alphabet = Array(#"{}[]":,\-+.0123456789eEtrufalsn u"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF]
        var random = SeededRandom(seed: 2026, label: "json-mutants")
        var accepted = 0
        for round in 0..<6_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0...(random.next() % 3) where !bytes.isEmpty {
                let at = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 4 {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(bytes[at], at: at)
                case 2: bytes[at] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                default: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: at)
                }
            }
            let tree = JSON.parse(bytes)
            let document = JSONDocument(bytes)
            #expect((tree == nil) == (document == nil), "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            if let tree, let document {
                accepted += 1
                Self.agree(document.root, tree)
            }
        }
        #expect(accepted > 500, "the mutants exercise reading, not only refusing")
    }
}
