import Foundation
@testable import InsightCore
import Testing

/// The byte-level JSON writer and parser against Foundation's Codable path, which they replace
/// for speed: the same bytes out, the same values in.
@Suite struct JSONBytesTests {
    static func foundationBytes(_ value: JSON) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static let values: [JSON] = [
        ["a/b": "x/y", "quote\"": "back\\slash", "control": .string("a\u{01}b\u{1f}c\n\t\r\u{08}\u{0c}"),
         "unicode": "héllo 😀 \u{2028}", "null": .null, "true": true, "false": false],
        [1, -5, .int(Int64.max), .int(Int64.min), 1.5, -0.25, 1e20, 1.0e-7, 123_456.789, 2.0, 3.14159, 0],
        ["nested": ["deep": [["x": []], [:]]], "B": 1, "a": 2, "Z": 3, "_": 4, "é": 5, "": 6],
        "a bare string", 42, .null, [],
    ]

    @Test(arguments: values) func writesWhatJSONEncoderWrites(value: JSON) throws {
        #expect(String(decoding: value.encoded(), as: UTF8.self) == String(decoding: try Self.foundationBytes(value), as: UTF8.self))
    }

    /// Read back and written again, the bytes are the same (a whole double such as 2.0 reads
    /// back as the integer 2, as with JSONDecoder, and is written the same way).
    @Test(arguments: values) func readsBackWhatItWrote(value: JSON) throws {
        let bytes = value.encoded()
        let again = try #require(JSON(data: bytes))
        #expect(again.encoded() == bytes)
        #expect(again == (try JSONDecoder().decode(JSON.self, from: bytes)))
    }

    static let decodings: [(String, JSON)] = [
        ("1.0", JSON.int(1)), ("1e3", .int(1000)), ("-0", .int(0)), ("0.5", .double(0.5)),
        ("18446744073709551615", .double(18_446_744_073_709_551_616)), (#""\ud83d\ude00""#, .string("😀")),
        (#""\u00e9\/\"\\\b\f\n\r\t""#, .string("é/\"\\\u{08}\u{0c}\n\r\t")), ("  { \"a\" : [ true , false , null ] }  ", ["a": [true, false, .null]]),
        ("123456789012345678901234567890", .double(123_456_789_012_345_678_901_234_567_890.0)),
    ]

    @Test(arguments: decodings)
    func readsWhatJSONDecoderReads(text: String, expected: JSON) throws {
        #expect(JSON(data: Data(text.utf8)) == expected)
        #expect(try JSONDecoder().decode(JSON.self, from: Data(text.utf8)) == expected)
    }

    @Test(arguments: ["", " ", "[1,2", "{\"a\":1", "{\"a\" 1}", "01", "-", "1.", ".5", "\"a\u{01}\"", "tru", "nul", "1e400",
                      "[1]x", "{} {}", #""\ud83d""#, #""\ud83d\u0041""#, #""\x""#, #""\u12g4""#, "[1,]", "{,}", "\"open",
                      "{1:2}", "nan", "Infinity", "+1"])
    func rejectsWhatIsNotJSON(text: String) {
        #expect(JSON(data: Data(text.utf8)) == nil, "\(text.debugDescription) is not JSON")
    }

    /// A whole double beyond Int's range has no Int (it trapped once: `1e300` in any field read
    /// as a number crashed the reader).
    @Test func aHugeWholeNumberIsNotAnInt() {
        #expect(JSON(data: Data("1e300".utf8))?.intValue == nil)
        #expect(JSON.double(-1e300).intValue == nil)
        #expect(JSON.double(4096).intValue == 4096)
        #expect(JSON.double(1.5).intValue == nil)
    }

    @Test func rejectsBytesThatAreNotUTF8() {
        #expect(JSON(data: Data([0x22, 0xFF, 0xFE, 0x22])) == nil)
        #expect(JSON(data: Data([0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22])) == nil, "invalid UTF-8 after an escape")
    }

    @Test func nestingIsBoundedNotAStackOverflow() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(JSON(data: Data(deep.utf8)) == nil)
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(JSON(data: Data(fine.utf8)) != nil)
    }
}

/// The case folding authentication uses for emails, roles and products.
@Suite struct CaseFoldingTests {
    @Test(arguments: [("svc@Example.COM", "SVC@example.com", true), ("Insight IDR Analyst", "insight idr analyst", true),
                      ("Log Search View Only", "Log Search View Onl", false), ("a@x", "b@x", false), ("", "", true),
                      ("ÉLISE@example.com", "élise@example.com", true), ("Straße", "STRASSE", true), ("[", "{", false)])
    func equalsIgnoringCase(left: String, right: String, equal: Bool) {
        #expect(left.equalsIgnoringCase(right) == equal)
        #expect(right.equalsIgnoringCase(left) == equal)
    }

    /// Folding only when there is something to fold gives what `lowercased()`/`uppercased()` give.
    @Test(arguments: ["us.api.insight.rapid7.com", "US2.Api.insight.rapid7.com", "x-api-key", "X-Api-Key", "", "ÉLISE", "straße", "GET", "get", "PaTcH"])
    func foldingWhenNeededIsFolding(text: String) {
        #expect(text.lowercasedIfNeeded() == text.lowercased())
        #expect(text.uppercasedIfNeeded() == text.uppercased())
    }
}

/// Header names: the well-known ones come back as literals, every other one folded; a field is
/// found by its name in any case.
@Suite struct HeaderNameTests {
    static let wellKnown = ["host", "accept", "x-api-key", "user-agent", "connection", "content-type", "authorization",
                            "cache-control", "content-length", "accept-encoding", "accept-language"]

    @Test func aNameInAnyCaseIsItsLowerCase() {
        var names = Self.wellKnown.flatMap { [$0, $0.uppercased(), $0.capitalized] }
        // The same lengths as well-known names but other letters, and names near them.
        names += ["hosT", "hoST", "hist", "accepT", "acceps", "x-api-kez", "x_api_key", "X-API-KEY-", "user_agent", "USER-AGENTS",
                  "content-typf", "authorizatioN", "cache-controm", "content-lengtH", "accept-encodinG", "accept-languagf",
                  "X-Request-Id", "ÉLISE-X", "", "A", "Ａccept", "acc\u{0130}pt"]
        for name in names {
            #expect(HTTPHeaders.lowercasedName(name) == name.lowercased(), "\(name)")
        }
    }

    @Test func aFieldIsFoundByItsNameInAnyCase() {
        let headers: HTTPHeaders = ["X-Api-Key": "k", "Retry-After": "30", "X-Custom": "c"]
        #expect(headers.fields.map(\.name) == ["retry-after", "x-api-key", "x-custom"])
        #expect(headers["x-api-key"] == "k" && headers["X-API-KEY"] == "k" && headers["Retry-after"] == "30")
        #expect(headers["x-custom"] == "c" && headers["X-CUSTOM"] == "c")
        #expect(headers["content-type"] == nil && headers["Content-Type"] == nil && headers[""] == nil)
    }
}

/// Where bytes stop being what a reader needs, for errors that name a line and column.
@Suite struct TextLocationTests {
    @Test func theFirstByteThatIsNotUTF8IsPlaced() {
        #expect(TextBytes.decode(Array("name: x\n".utf8)) == .success("name: x\n"))
        let bad = Array("name: x\nsteps: é".utf8) + [0xFF, 0x41]
        #expect(TextBytes.decode(bad) == .failure(CoreError.notUTF8(offset: 17, line: 2, column: 10, byte: 0xFF)))
        // A sequence cut short is the error at its first byte.
        #expect(TextBytes.decode([0x41, 0xE2, 0x82]) == .failure(CoreError.notUTF8(offset: 1, line: 1, column: 2, byte: 0xE2)))
        #expect("\(CoreError.notUTF8(offset: 0, line: 1, column: 1, byte: 0xC3))" == "byte 0xC3 at line 1, column 1 is not UTF-8; save the file as UTF-8 text")
    }

    @Test func jsonErrorsArePlacedWhereTheParserStopped() {
        #expect(JSON.errorLocation(Array(#"{"a": [1, 2]}"#.utf8)) == nil)
        #expect(JSON.errorLocation(Array("{\n  \"a\": tru\n}".utf8)).map { [$0.line, $0.column] } == [2, 8])
        #expect(JSON.errorLocation(Array("".utf8)).map { [$0.line, $0.column] } == [1, 1])
        #expect(JSON.errorLocation(Array("[1]\n\n x".utf8)).map { [$0.line, $0.column] } == [3, 2])
    }
}
