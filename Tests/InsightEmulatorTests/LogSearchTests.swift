import Foundation
import InsightCore
@testable import InsightEmulator
import Testing

@Suite struct LogSearchTests {
    let clock = VirtualClock()
    let logsHost = "us2.rest.logs.insight.rapid7.com"

    func logIDs(_ emulator: Emulator) async throws -> [String] {
        let logs = try await emulator.handle(Fixture.request("GET", logsHost, path: "/management/logs"))
        return logs.json?["logs"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    var window: [(String, String)] {
        [("from", "\(clock.now().addingTimeInterval(-2 * 86_400).unixMillis)"), ("to", "\(clock.now().unixMillis)")]
    }

    @Test func managementOnBothHosts() async throws {
        let emulator = Emulator(tenants: [Fixture.rich()], clock: clock)
        let ids = try await logIDs(emulator)
        #expect(ids.count == 2)
        let viaPlatform = try await emulator.handle(Fixture.request(path: "/log_search/management/logs/\(ids[0])"))
        #expect(viaPlatform.json?["log"]?["id"]?.stringValue == ids[0])
        let sets = try await emulator.handle(Fixture.request("GET", logsHost, path: "/management/logsets"))
        #expect(sets.json?["logsets"]?.arrayValue?.first?["logs_info"]?.arrayValue?.count == 2)
        let label = try await emulator.handle(Fixture.request("GET", logsHost, path: "/management/labels/00000000-0000-0000-0000-000000000001"))
        #expect(label.json?["label"]?["name"] == "Login Failure")
        let missing = try await emulator.handle(Fixture.request("GET", logsHost, path: "/management/labels/nope"))
        #expect(missing.json == ["code": 404, "message": "HTTP 404 Not Found"])
    }

    @Test func aQueryAnswers202ThenItsSelfLinkGivesTheEvents() async throws {
        let emulator = Emulator(tenants: [Fixture.rich()], clock: clock)
        let id = try await logIDs(emulator)[0]
        let started = try await emulator.handle(Fixture.query("/query/logs/\(id)", window + [("query", "where(result=FAILED)")], host: logsHost))
        #expect(started.status == 202)
        #expect(started.json?["progress"] == 0)
        let link = try #require(started.json?["links"]?.arrayValue?.first)
        #expect(link["rel"] == "Self")
        let href = try #require(link["href"]?.stringValue)
        #expect(href.hasPrefix("https://\(logsHost)/query/"))
        clock.advance(seconds: 5)
        let done = try await emulator.handle(try #require(HTTPRequest(method: "GET", url: href, headers: ["X-Api-Key": Fixture.analystKey])))
        #expect(done.status == 200)
        let events = done.json?["events"]?.arrayValue ?? []
        #expect(!events.isEmpty)
        #expect(events.allSatisfy { $0["message"]?.stringValue?.contains("\"result\":\"FAILED\"") == true })
        #expect(events.allSatisfy { $0["sequence_number_str"]?.stringValue == $0["sequence_number"]?.intValue.map(String.init) })
        #expect(done.json?["links"] == [] || done.json?["links"]?.arrayValue?.first?["rel"] == "Next")
    }

    @Test func aQueryNotPolledWithin20SecondsExpires() async throws {
        let emulator = Emulator(tenants: [Fixture.rich(queryPolls: 3)], clock: clock)
        let id = try await logIDs(emulator)[0]
        let started = try await emulator.handle(Fixture.query("/log_search/query/logs/\(id)", window))
        let href = try #require(started.json?["links"]?.arrayValue?.first?["href"]?.stringValue)
        #expect(href.hasPrefix("https://us2.api.insight.rapid7.com/log_search/query/"))
        let poll = try #require(HTTPRequest(method: "GET", url: href, headers: ["X-Api-Key": Fixture.analystKey]))
        clock.advance(seconds: 20)
        let second = try await emulator.handle(poll)
        #expect(second.status == 202)
        #expect(second.json?["progress"] == 33)
        clock.advance(seconds: 20.001)
        let expired = try await emulator.handle(poll)
        #expect(expired.status == 404)
        #expect(expired.json?["message"]?.stringValue?.contains("expired: poll its Self link at least every 20 seconds") == true)
    }

    @Test func nextPagesCoverEveryEventOnce() async throws {
        var tenant = Fixture.rich()
        tenant.queryPolls = 0
        let emulator = Emulator(tenants: [tenant], clock: clock)
        let id = try await logIDs(emulator)[0]
        var request = Fixture.query("/query/logs/\(id)", window + [("per_page", "50")], host: logsHost)
        var sequences: [Int] = []
        var pages = 0
        for _ in 0..<10 {
            let page = try await emulator.handle(request)
            #expect(page.status == 200)
            pages += 1
            sequences += page.json?["events"]?.arrayValue?.compactMap { $0["sequence_number"]?.intValue } ?? []
            guard let next = page.json?["links"]?.arrayValue?.first(where: { $0["rel"] == "Next" })?["href"]?.stringValue else { break }
            request = try #require(HTTPRequest(method: "GET", url: next, headers: ["X-Api-Key": Fixture.analystKey]))
        }
        #expect(pages == 3)
        #expect(sequences.count == 120)
        #expect(Set(sequences).count == 120)
        #expect(sequences == sequences.sorted())
    }

    @Test func postQueryWithLEQLAndTimeRange() async throws {
        var tenant = Fixture.rich()
        tenant.queryPolls = 0
        let emulator = Emulator(tenants: [tenant], clock: clock)
        let ids = try await logIDs(emulator)
        let response = try await emulator.handle(Fixture.json("POST", "/query/logs?per_page=500", [
            "logs": .array(ids.map(JSON.string)),
            "leql": ["statement": "user=alice AND (action=login OR action=logout)", "during": ["time_range": "last 2 days"]],
        ], host: logsHost))
        #expect(response.status == 200)
        let events = response.json?["events"]?.arrayValue ?? []
        #expect(!events.isEmpty)
        for event in events {
            let message = JSON(data: Data((event["message"]?.stringValue ?? "").utf8))
            #expect(message?["user"] == "alice")
            #expect(["login", "logout"].contains(message?["action"]?.stringValue ?? ""))
        }
    }

    @Test(arguments: [
        ("where(user=alice", "Invalid LEQL statement at position 16: expected ')'"),
        ("user=", "Invalid LEQL statement at position 5: expected a value after user="),
        ("calculate(count) groupby(user)", "Invalid LEQL statement at position 0: calculate comes after groupby"),
        ("where(user=alice) timeslice(5)", "Invalid LEQL statement at position 18: timeslice() is not understood by this emulator; it knows where, groupby, calculate and limit"),
        ("calculate(median:bytes)", "Invalid LEQL statement at position 0: calculate(median:bytes): the function must be one of count, sum, average, min, max, unique"),
        ("calculate(sum)", "Invalid LEQL statement at position 0: calculate(sum) needs a field: calculate(sum:FIELD)"),
    ])
    func unparsableLEQLIs400(statement: String, message: String) async throws {
        let emulator = Emulator(tenants: [Fixture.rich()], clock: clock)
        let id = try await logIDs(emulator)[0]
        let response = try await emulator.handle(Fixture.query("/query/logs/\(id)", window + [("query", statement)], host: logsHost))
        #expect(response.status == 400)
        #expect(response.json == ["message": .string(message)])
    }

    @Test(arguments: [
        ([("per_page", "501")], "per_page must be between 1 and 500"),
        ([("time_range", "last fortnight")], "time_range 'last fortnight' is not understood; use e.g. today, yesterday, last 30 days"),
        ([], "Give from and to (Unix ms) or time_range"),
        ([("from", "10"), ("to", "5")], "from must not be after to"),
        ([("from", "x"), ("to", "5")], "from and to must be Unix times in milliseconds"),
    ])
    func badQueryValuesAre400(items: [(String, String)], message: String) async throws {
        let emulator = Emulator(tenants: [Fixture.rich()], clock: clock)
        let id = try await logIDs(emulator)[0]
        let extra = items.contains { $0.0 == "per_page" } ? window : []
        let response = try await emulator.handle(Fixture.query("/query/logs/\(id)", items + extra, host: logsHost))
        #expect(response.status == 400)
        #expect(response.json == ["message": .string(message)])
    }

    @Test func anotherKeyCannotPollMyQuery() async throws {
        let emulator = Emulator(tenants: [Fixture.rich()], clock: clock)
        let id = try await logIDs(emulator)[0]
        let started = try await emulator.handle(Fixture.query("/query/logs/\(id)", window, host: logsHost))
        let href = try #require(started.json?["links"]?.arrayValue?.first?["href"]?.stringValue)
        let other = try await emulator.handle(try #require(HTTPRequest(method: "GET", url: href, headers: ["X-Api-Key": Fixture.orgKey])))
        #expect(other.status == 404)
    }

    @Test func leqlMatchesFieldsTextAndNumbers() throws {
        let event = LogSearchEvent(logID: "l", timestamp: 0, sequenceNumber: 1, message: #"{"user":"alice","bytes":900,"nested":{"a":"b"}}"#)
        let plain = LogSearchEvent(logID: "l", timestamp: 0, sequenceNumber: 2, message: "login failed user=bob from 10.0.0.1")
        #expect(try LEQL.parse("bytes>=800").matches(event))
        #expect(try !LEQL.parse("bytes<800").matches(event))
        #expect(try LEQL.parse("nested.a=b").matches(event))
        #expect(try LEQL.parse("NOT user=bob").matches(event))
        #expect(try LEQL.parse("user=bob AND \"login failed\"").matches(plain))
        #expect(try !LEQL.parse("Login").matches(plain), "free text is case-sensitive")
        #expect(try LEQL.parse("where()").matches(plain))
        #expect(try LEQL.parse("").matches(plain))
    }
}

@Suite struct AuditLogTests {
    let clock = VirtualClock()
    let emulator = Emulator(tenants: [Fixture.rich(queryPolls: 0)], clock: VirtualClock())

    @Test func anOrganizationKeyOrAnAdminReadsAuditLogs() async throws {
        for key in [Fixture.orgKey, Fixture.adminKey] {
            let logs = try await emulator.handle(Fixture.request(path: "/log_search/audit/management/logs", key: key))
            #expect(logs.status == 200)
            #expect(logs.json?["logs"]?.arrayValue?.first?["id"] == "aaaaaaaa-0000-4000-8000-000000000001")
        }
        let analyst = try await emulator.handle(Fixture.request(path: "/log_search/audit/management/logs"))
        #expect(analyst.status == 403)
        #expect(emulator.journal.ordered.last?.reason == "forbidden: platform admin")
    }

    @Test func everyEventCarriesTheAuditLogSchemaWithConsistentTimes() async throws {
        let now = emulator.clock.now()
        let response = try await emulator.handle(Fixture.query(
            "/audit/logs/aaaaaaaa-0000-4000-8000-000000000001",
            [("time_range", "last 2 days"), ("per_page", "500")], key: Fixture.orgKey, host: "us2.rest.logs.insight.rapid7.com"))
        #expect(response.status == 200)
        let events = response.json?["events"]?.arrayValue ?? []
        #expect(events.count == 40)
        for event in events {
            let message = try #require(JSON(data: Data((event["message"]?.stringValue ?? "").utf8)))
            for field in ["action", "audit_id", "result", "access_method", "product", "description", "service_info", "time", "request"] {
                #expect(message[field] != nil, "missing \(field)")
            }
            let serviceEvent = try #require(message["service_info"]?["event"])
            for field in ["type", "correlationId", "customerId", "updatedBy", "initiatorIdentification", "timestamp"] {
                #expect(serviceEvent[field] != nil, "missing service_info.event.\(field)")
            }
            for field in ["email", "userId", "apiKeyId", "automatedFlowName", "customerId"] {
                #expect(serviceEvent["initiatorIdentification"]?[field] != nil, "missing initiatorIdentification.\(field)")
            }
            #expect(message["service_info"]?["previousEntry"] == .null)
            #expect(message["request"]?["user"]?["email"] != nil)
            let timestamp = try #require(event["timestamp"]?.intValue)
            #expect(serviceEvent["timestamp"]?.intValue == timestamp)
            let time = try #require(message["time"]?.stringValue.flatMap(RFC3339.parse))
            #expect(time.unixMillis == Int64(timestamp))
            #expect(time <= now)
        }
    }

    @Test func bothAuditQueryPathsAndPostAnswer() async throws {
        let get = try await emulator.handle(Fixture.query("/log_search/audit/query/logs/aaaaaaaa-0000-4000-8000-000000000001",
                                                          [("time_range", "today")], key: Fixture.orgKey))
        #expect(get.status == 200)
        let post = try await emulator.handle(Fixture.json("POST", "/log_search/audit/query/logs?per_page=10", [
            "logs": ["aaaaaaaa-0000-4000-8000-000000000001"], "leql": ["statement": "where(action=USER_LOGIN)", "during": ["time_range": "last 2 days"]],
        ], key: Fixture.orgKey))
        #expect(post.status == 200)
        #expect(post.json?["events"]?.arrayValue?.allSatisfy { $0["message"]?.stringValue?.contains("USER_LOGIN") == true } == true)
    }

    @Test func withAuditLoggingOffTheLogIsUnknown() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], clock: clock)
        let list = try await emulator.handle(Fixture.request(path: "/log_search/audit/management/logs", key: Fixture.orgKey))
        #expect(list.json == ["logs": []])
        let query = try await emulator.handle(Fixture.query("/log_search/audit/logs/whatever", [("time_range", "today")], key: Fixture.orgKey))
        #expect(query.status == 404)
        #expect(query.json?["message"] == "Log whatever not found; audit logging is not enabled")
    }
}
