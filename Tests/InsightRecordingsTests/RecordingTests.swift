import Foundation
import InsightCore
import InsightRecordings
import Testing

enum RecordingFixture {
    static let canary = "c4a7c4a7-9999-4999-8999-c4a7c4a7c4a7"
    static let at = Date(timeIntervalSince1970: 1_767_225_600)

    static func exchange(_ method: String = "GET", path: String, query: [RecordedExchange.QueryPair] = [], key: String = canary,
                         requestBody: String = "", status: Int = 200, body: String = #"{"message":"Authorized"}"#) -> RecordedExchange
    {
        RecordedExchange(method: method, host: "us3.api.insight.rapid7.com", path: path, query: query,
                         requestHeaders: [.init("X-Api-Key", key), .init("Accept", "application/json"), .init("X-Custom-Trace", "t-1")],
                         requestBody: requestBody, status: status,
                         responseHeaders: [.init("Content-Type", "application/json"), .init("X-Amzn-Trace-Id", "Root=1")],
                         responseBody: body, durationMillis: 12, recordedAt: at)
    }

    static func recording(_ exchanges: [RecordedExchange], name: String = "sample") -> Recording {
        Recording(name: name, provenance: Provenance(recordedAt: at, region: "us3", source: "test", productVersion: "2026.11"), exchanges: exchanges)
    }
}

@Suite struct RedactorTests {
    @Test func keysAreReplacedEverywhereAndHeadersKeptByAllowList() throws {
        var redactor = Redactor()
        let raw = RecordingFixture.exchange(path: "/validate", query: [.init("echo", RecordingFixture.canary)],
                                            requestBody: #"{"note":"key \#(RecordingFixture.canary)"}"#)
        let safe = try redactor.redact(raw)
        let text = String(decoding: try JSONEncoder().encode(safe), as: UTF8.self)
        #expect(!text.contains(RecordingFixture.canary))
        #expect(safe.requestHeaders.map(\.name) == ["accept", "x-api-key"])
        #expect(safe.requestHeaders.first { $0.name == "x-api-key" }?.value == "<redacted-key-1>")
        #expect(safe.responseHeaders.map(\.name) == ["content-type"], "unlisted headers are dropped")
        #expect(safe.query == [.init("echo", "REDACTED-KEY-1")])
        #expect(safe.requestBody == #"{"note":"key REDACTED-KEY-1"}"#)
    }

    /// Each key its own number, in every header that carried it, so a reader can tell which
    /// requests went with the same key.
    @Test func authHeadersAreNumberedByTheirKey() throws {
        var redactor = Redactor()
        let other = "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4"
        let first = try redactor.redact(RecordingFixture.exchange(path: "/validate"))
        var raw = RecordingFixture.exchange(path: "/validate")
        raw.requestHeaders = raw.requestHeaders.map { $0.name == "x-api-key" ? .init("x-api-key", other) : $0 } + [.init("authorization", "Bearer \(other)")]
        let second = try redactor.redact(raw)
        let again = try redactor.redact(RecordingFixture.exchange(path: "/validate"))
        func value(_ exchange: RecordedExchange, _ name: String) -> String? { exchange.requestHeaders.first { $0.name == name }?.value }
        #expect(value(first, "x-api-key") == "<redacted-key-1>" && value(again, "x-api-key") == "<redacted-key-1>")
        #expect(value(second, "x-api-key") == "<redacted-key-2>" && value(second, "authorization") == "Bearer <redacted-key-2>")
        #expect(Redaction.keyNumber("Bearer <redacted-key-2>") == 2 && Redaction.keyNumber("REDACTED-KEY-7") == 7 && Redaction.keyNumber("<redacted>") == nil)
        #expect(ExchangeMatcher.valuesMatch("<redacted-key-2>", "anything"))
    }

    @Test func uuidsInSecretNamedFieldsBecomeStablePlaceholdersAndIdsStay() throws {
        var redactor = Redactor()
        let id = "174e4f99-2ac7-4481-9301-4d24c34baf06"
        let secret = "0f1e2d3c-4b5a-4978-8877-665544332211"
        let body = #"{"id":"\#(id)","api_key":"\#(secret)","nested":{"token":"\#(secret)"}}"#
        let first = try redactor.redact(RecordingFixture.exchange(path: "/x", body: body))
        let second = try redactor.redact(RecordingFixture.exchange(path: "/y", query: [.init("token", secret)]))
        #expect(first.responseBody == #"{"api_key":"REDACTED-KEY-2","id":"\#(id)","nested":{"token":"REDACTED-KEY-2"}}"#)
        #expect(second.query == [.init("token", "REDACTED-KEY-2")], "stable across exchanges")
    }

    @Test func emailsArePseudonymizedConsistently() throws {
        var redactor = Redactor()
        let a = try redactor.redact(RecordingFixture.exchange(path: "/a", body: #"{"who":"Jane.Doe@customer.example","also":"bob@customer.example"}"#))
        let b = try redactor.redact(RecordingFixture.exchange(path: "/b", body: #"{"who":"jane.doe@customer.example"}"#))
        #expect(a.responseBody == #"{"also":"person-1@example.invalid","who":"person-2@example.invalid"}"#)
        #expect(b.responseBody == #"{"who":"person-2@example.invalid"}"#, "the same person, the same pseudonym")
    }

    @Test func aKeyThatWouldSurviveRefusesTheWriteAndNamesTheField() throws {
        var redactor = Redactor()
        let encoded = RecordingFixture.canary.replacingOccurrences(of: "-", with: "%2D")
        let raw = RecordingFixture.exchange(path: "/validate", query: [.init("q", encoded)])
        #expect(throws: RecordingError.self) { _ = try redactor.redact(raw) }
        var fresh = Redactor()
        let error = #expect(throws: RecordingError.self) { _ = try fresh.redact(RecordingFixture.recording([raw])) }
        #expect(error?.problem == "refusing to write: a key-shaped value would survive in query q of GET us3.api.insight.rapid7.com/validate; nothing was written")
        #expect(error?.remedy.contains("X-Api-Key") == true)
        #expect(error?.refusedField == "query q")
    }
}

@Suite struct RecordingStoreTests {
    func stores() throws -> [any RecordingStore] { [InMemoryRecordingStore(), try SQLiteRecordingStore(path: ":memory:")] }

    @Test func saveLoadAppendList() throws {
        for store in try stores() {
            let recording = RecordingFixture.recording([RecordingFixture.exchange(path: "/validate"), RecordingFixture.exchange(path: "/idr/v2/investigations", status: 429)])
            try store.saveRecording(recording)
            #expect(try store.recording(named: "sample") == recording)
            try store.appendExchange(RecordingFixture.exchange(path: "/validate", status: 401), to: "sample", provenance: recording.provenance)
            try store.appendExchange(RecordingFixture.exchange(path: "/new"), to: "fresh", provenance: recording.provenance)
            #expect(try store.recording(named: "sample")?.exchanges.map(\.status) == [200, 429, 401])
            #expect(try store.recordings().map(\.name) == ["fresh", "sample"])
            try store.saveRecording(RecordingFixture.recording([RecordingFixture.exchange(path: "/only")]))
            #expect(try store.recording(named: "sample")?.exchanges.map(\.path) == ["/only"], "a save replaces")
            try store.deleteRecording(named: "fresh")
            #expect(try store.recording(named: "fresh") == nil)
        }
    }

    @Test func aFileStoreMigratesAndPassesTheIntegrityCheck() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rec-\(UUID().uuidString).sqlite").path
        try SQLiteRecordingStore(path: path).saveRecording(RecordingFixture.recording([RecordingFixture.exchange(path: "/validate")]))
        let reopened = try SQLiteRecordingStore(path: path)
        #expect(try reopened.integrityCheck() == "ok")
        #expect(try reopened.recording(named: "sample")?.exchanges.count == 1)
        #expect(try SQLiteRunHistory(path: path).appliedMigrations() == ["001_runs", "002_recordings", "003_exchange_request_columns", "004_run_coverage"], "one file, one schema history")
    }
}

@Suite struct TextFormTests {
    @Test func exportIsCanonicalAndReadsBack() throws {
        let recording = RecordingFixture.recording([RecordingFixture.exchange(path: "/validate")])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)").path
        let path = try RecordingFile.export(recording, to: folder)
        #expect(path.hasSuffix("/sample.json"))
        let first = try String(contentsOfFile: path, encoding: .utf8)
        _ = try RecordingFile.export(try RecordingFile.load(path), to: folder)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == first, "stable bytes: diff-friendly")
        #expect(first.contains(#""recordedAt" : "2026-01-01T00:00:00.000Z""#))
        let keys = first.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  \""), let end = line.dropFirst(3).firstIndex(of: "\"") else { return nil }
            return String(line.dropFirst(3)[..<end])
        }
        #expect(keys == keys.sorted())
    }

    @Test func aBadFileNamesTheField() throws {
        let bad = #"{"name":"x","provenance":{"recordedAt":"yesterday","source":"t"},"exchanges":[]}"#
        func problem(_ text: String, file: String) -> RecordingError? {
            #expect(throws: RecordingError.self) { try RecordingFile.decode(Data(text.utf8), file: file) }
        }
        let badTime = problem(bad, file: "Recordings/x.json")
        #expect(badTime?.problem == "Recordings/x.json: provenance.recordedAt: 'yesterday' is not an RFC 3339 time")
        #expect(badTime?.remedy == "compare it with a recording `insight-replay export` writes (docs/RECORDINGS.md)")
        #expect(problem(#"{"name":"x","exchanges":[]}"#, file: "y.json")?.problem == "y.json: .provenance: missing field")
        #expect(problem("name: x", file: "z.yaml")?.description
            == "z.yaml: not JSON at line 1, column 1; give a recording written by `insight-replay export`, or a .har capture")
        // The line and column are where the parser gave up: the second comma.
        #expect(problem("{\n  \"name\": \"x\",\n  \"exchanges\": [1,,]\n}", file: "w.json")?.problem == "w.json: not JSON at line 3, column 19")
        do { _ = try HAR.read(Data("{\"log\": {\"entries\": [}}".utf8), name: "h", file: "h.har", now: Date()) } catch {
            #expect("\(error)" == "h.har: not JSON at line 1, column 22; a HAR capture is JSON: {\"log\": {\"entries\": [...]}}")
        }
    }
}

@Suite struct HARTests {
    let data = try! Data(contentsOf: Bundle.module.url(forResource: "customer-capture", withExtension: "har", subdirectory: "Fixtures")!)

    @Test func aBrowserHARBecomesARedactedRecording() throws {
        let recording = try HAR.importHAR(data, name: "customer", file: "customer-capture.har", now: RecordingFixture.at)
        #expect(recording.provenance.region == "us3")
        #expect(recording.provenance.source == "har customer-capture.har")
        #expect(recording.exchanges.map(\.summary) == ["GET us3.api.insight.rapid7.com/validate", "POST us3.api.insight.rapid7.com/idr/v2/investigations/_search?size=20&index=0"])
        #expect(recording.exchanges[0].responseBody == #"{"message":"Authorized"}"#, "base64 content decoded")
        #expect(recording.exchanges[0].requestHeaders.map(\.name) == ["accept", "cookie", "user-agent", "x-api-key"])
        #expect(recording.exchanges[0].recordedAt == RFC3339.parse("2026-03-04T10:15:01.250Z"))
        let text = String(decoding: try RecordingFile.encode(recording), as: UTF8.self)
        for secret in [RecordingFixture.canary, "abcdef0123456789", "jane.doe@customer.example"] { #expect(!text.contains(secret), "\(secret)") }
        #expect(text.contains("person-1@example.invalid"))
    }

    @Test func exportThenImportKeepsTheExchanges() throws {
        let recording = try HAR.importHAR(data, name: "customer", file: "customer-capture.har", now: RecordingFixture.at)
        let again = try HAR.importHAR(HAR.exportHAR(recording), name: "customer", file: "customer-capture.har", now: RecordingFixture.at)
        #expect(again.exchanges == recording.exchanges)
    }

    @Test func notAHARSaysWhatItExpected() {
        let error = #expect(throws: RecordingError.self) { try HAR.importHAR(Data("{}".utf8), name: "x", file: "x.har", now: Date()) }
        #expect(error?.problem == #"x.har: not a HAR file: expected {"log": {"entries": [...]}}"#)
        #expect(error?.remedy.contains("Save all as HAR") == true)
    }
}

@Suite struct MatcherTests {
    func request(_ method: String = "GET", path: String, query: [URLQueryItem] = [], body: String = "") -> HTTPRequest {
        HTTPRequest(method: method, host: "us3.api.insight.rapid7.com", path: path, query: query, body: Data(body.utf8))
    }

    @Test func identicalRequestsAreAnsweredInRecordedOrder() throws {
        var matcher = ExchangeMatcher(exchanges: [RecordingFixture.exchange(path: "/validate", status: 429), RecordingFixture.exchange(path: "/validate", status: 200)])
        #expect(matcher.answer(request(path: "/validate"))?.status == 429)
        #expect(matcher.answer(request(path: "/validate"))?.status == 200)
        #expect(matcher.answer(request(path: "/validate"))?.status == 200, "then the last answer repeats")
        #expect(matcher.unused.isEmpty)
    }

    @Test func queryOrderAndVolatileFieldsDoNotMatter() throws {
        var matcher = ExchangeMatcher(exchanges: [
            RecordingFixture.exchange(path: "/q", query: [.init("a", "1"), .init("from", "100"), .init("b", "2")]),
            RecordingFixture.exchange("POST", path: "/s", requestBody: #"{"search":[],"start_time":"2026-01-01T00:00:00Z"}"#),
        ])
        #expect(matcher.answer(request(path: "/q", query: [URLQueryItem(name: "b", value: "2"), URLQueryItem(name: "from", value: "999"), URLQueryItem(name: "a", value: "1")])) != nil)
        #expect(matcher.answer(request("POST", path: "/s", body: #"{"start_time":"2026-11-22T00:00:00Z", "search":[]}"#)) != nil)
        #expect(matcher.answer(request("POST", path: "/s", body: #"{"search":[1]}"#)) == nil)
    }

    @Test func redactedValuesMatchAnyValue() {
        var matcher = ExchangeMatcher(exchanges: [
            RecordingFixture.exchange(path: "/account/api/1/users", query: [.init("email", "person-1@example.invalid")]),
            RecordingFixture.exchange("POST", path: "/connect/v1/workflows/REDACTED-KEY-2/events/execute", requestBody: #"{"user":"person-1@example.invalid","n":1}"#),
        ])
        #expect(matcher.answer(request(path: "/account/api/1/users", query: [URLQueryItem(name: "email", value: "jane@customer.example")])) != nil)
        #expect(matcher.answer(request("POST", path: "/connect/v1/workflows/abc/events/execute", body: #"{"n":1,"user":"jane@customer.example"}"#)) != nil)
        #expect(matcher.answer(request("POST", path: "/connect/v1/workflows/abc/events/execute", body: #"{"n":2,"user":"jane@customer.example"}"#)) == nil)
    }

    @Test func aMissNamesTheThreeNearestAndWhatFailed() {
        let matcher = ExchangeMatcher(exchanges: [
            RecordingFixture.exchange(path: "/idr/v2/investigations", query: [.init("size", "100")]),
            RecordingFixture.exchange("POST", path: "/idr/v2/investigations", requestBody: #"{"title":"x"}"#),
            RecordingFixture.exchange(path: "/validate"),
            RecordingFixture.exchange(path: "/log_search/management/logs"),
        ])
        let message = matcher.missMessage(request(path: "/idr/v2/investigations", query: [URLQueryItem(name: "size", value: "50")]))
        #expect(message == """
            no recorded exchange matches GET us3.api.insight.rapid7.com/idr/v2/investigations?size=50
              1. GET us3.api.insight.rapid7.com/idr/v2/investigations?size=100: query differs (recorded only: size=100; request only: size=50)
              2. POST us3.api.insight.rapid7.com/idr/v2/investigations: method POST ≠ GET; query differs (recorded only: nothing; request only: size=50); the request has no body; the recording has one
              3. GET us3.api.insight.rapid7.com/validate: path /validate ≠ /idr/v2/investigations; query differs (recorded only: nothing; request only: size=50)
            """)
    }
}

@Suite struct ReplayIndexTests {
    @Test func requestSidesInMemoryAndResponsesReadWhenMatched() throws {
        let store = try SQLiteRecordingStore(path: ":memory:")
        try store.saveRecording(RecordingFixture.recording([
            RecordingFixture.exchange(path: "/validate", status: 429, body: "API rate limit exceeded"),
            RecordingFixture.exchange(path: "/validate", query: [.init("a", "1")], body: #"{"message":"Authorized"}"#),
        ]))
        let index = try #require(try store.replayIndex(named: "sample"))
        #expect(index.requests.map(\.responseBody) == ["", ""], "no response held in memory")
        #expect(index.requests[1].query == [.init("a", "1")])
        #expect(index.response(0)?.status == 429)
        #expect(index.response(1)?.bodyText == #"{"message":"Authorized"}"#)
        #expect(index.response(7) == nil)
        #expect(try store.replayIndex(named: "nope") == nil)
    }
}
