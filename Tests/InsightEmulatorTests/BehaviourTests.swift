import Foundation
import InsightCore
import InsightEmulator
import Testing

@Suite struct FaultTests {
    @Test func theNextNRequestsAnswer429ThenRecover() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], faults: [FaultRule(path: "/validate", status: 429, count: 2, retryAfter: 30)],
                                clock: VirtualClock())
        var statuses: [Int] = []
        for _ in 0..<3 { statuses.append(try await emulator.handle(Fixture.request(path: "/validate")).status) }
        #expect(statuses == [429, 429, 200])
        let limited = try await Emulator(tenants: [Fixture.tenant()], faults: [FaultRule(status: 429, count: 1, retryAfter: 30)],
                                         clock: VirtualClock()).handle(Fixture.request(path: "/validate"))
        #expect(limited.bodyText == "API rate limit exceeded")
        #expect(limited.headers["Content-Type"] == "text/plain")
        #expect(limited.headers["Retry-After"] == "30")
        #expect(limited.headers["X-RateLimit-Remaining"] == "0")
        #expect(limited.headers["X-RateLimit-Reset"] == "30")
        #expect(limited.headers["X-RateLimit-Limit"] == "1500")
    }

    @Test func afterLetsEarlierRequestsThroughAndOtherPathsAreUntouched() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], faults: [FaultRule(path: "/validate", status: 503, count: 1, after: 1)],
                                clock: VirtualClock())
        var statuses: [Int] = []
        for path in ["/validate", "/idr/v2/investigations", "/validate", "/validate"] {
            statuses.append(try await emulator.handle(Fixture.request(path: path)).status)
        }
        #expect(statuses == [200, 200, 503, 200])
    }

    @Test func aFaultCanTargetOneRegion() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], faults: [FaultRule(region: .eu, status: 500, count: 5)], clock: VirtualClock())
        #expect(try await emulator.handle(Fixture.request(path: "/validate")).status == 200)
        let eu = try await emulator.handle(Fixture.request("GET", "eu.api.insight.rapid7.com", path: "/validate"))
        #expect(eu.status == 500)
        #expect(eu.json == ["message": "HTTP 500 Internal Server Error"])
    }
}

@Suite struct TimelineAndJournalTests {
    @Test func timelineEventsApplyAtTheirVirtualTime() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [Fixture.tenant()], timeline: [TimelineEvent(at: 600, .setKeyStatus(key: "analyst", .revoked))],
                                clock: clock)
        clock.advance(seconds: 599)
        #expect(try await emulator.handle(Fixture.request(path: "/validate")).status == 200)
        clock.advance(seconds: 1)
        #expect(try await emulator.handle(Fixture.request(path: "/validate")).status == 401)
        #expect(emulator.journal.ordered.map(\.elapsed) == [599, 600])
    }

    @Test func removingARoleMidwayTurnsLogSearchInto403() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], clock: VirtualClock())
        #expect(try await emulator.handle(Fixture.request(path: "/log_search/management/logs")).status == 200)
        #expect(emulator.apply(.removeRole(email: "analyst@example.com", role: "log search view only")))
        #expect(try await emulator.handle(Fixture.request(path: "/log_search/management/logs")).status == 403)
        #expect(!emulator.apply(.removeRole(email: "nobody@example.com", role: "x")))
    }

    @Test func theJournalIsBoundedAndKeepsTheNewest() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [Fixture.tenant()], clock: clock, journalCapacity: 3)
        for second in 0..<5 {
            clock.advance(seconds: second == 0 ? 0 : 1)
            _ = try await emulator.handle(Fixture.request(path: "/validate"))
        }
        let journal = emulator.journal
        #expect(journal.ordered.map(\.sequence) == [2, 3, 4])
        #expect(journal.ordered.map(\.elapsed) == [2, 3, 4])
        #expect(journal.dropped == 2)
    }

    /// The journal keeps a request's host as region and kind, and gives it back as the host the
    /// request named, whatever case it came in; header names one per line, clipped at 64.
    @Test func theJournalGivesBackHostsAndHeaderNames() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant(), Fixture.tenant(region: .eu)], clock: VirtualClock())
        var headers = Fixture.request(path: "/validate").headers
        for index in 0..<70 { headers.add("X-Extra-\(index)", "v") }
        _ = try await emulator.handle(HTTPRequest(method: "get", host: "EU.API.insight.rapid7.com", path: "/validate", headers: headers))
        _ = try await emulator.handle(Fixture.request("GET", "us.rest.logs.insight.rapid7.com", path: "/management/logs"))
        var three = Fixture.request(path: "/validate")
        three.headers.add("User-Agent", "curl/8.5.0")
        three.headers.add("Accept", "*/*")
        _ = try await emulator.handle(three)
        let entries = emulator.journal.ordered
        #expect(entries.map(\.host) == ["eu.api.insight.rapid7.com", "us.rest.logs.insight.rapid7.com", "us2.api.insight.rapid7.com"])
        #expect(entries.map(\.region) == [.eu, .us, .us2])
        #expect(entries.last?.headerNames == ["accept", "user-agent", "x-api-key"])
        #expect(entries.first?.method == "GET")
        #expect(entries.first?.headerNames.count == 65)
        #expect(entries.first?.headerNames.last == "…(+7 headers)")
        #expect(entries[1].headerNames == ["x-api-key"])
    }

    /// The `/validate` answers are made from literals, byte for byte what encoding gives.
    @Test func theValidateAnswersAreTheEncodedOnes() {
        #expect(HTTPResponse.constantJSON(200, #"{"message":"Authorized"}"#) == HTTPResponse.json(200, ["message": "Authorized"]))
        #expect(HTTPResponse.constantJSON(401, #"{"message":"Unauthorized"}"#) == HTTPResponse.json(401, ["message": "Unauthorized"]))
    }

    @Test func theJournalNamesKeysByIdNeverBySecret() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], clock: VirtualClock())
        _ = try await emulator.handle(Fixture.request(path: "/validate"))
        let entry = try #require(emulator.journal.ordered.first)
        #expect(entry.keyID == "analyst")
        let encoded = String(decoding: entry.json.encoded(), as: UTF8.self)
        #expect(!encoded.contains(Fixture.analystKey))
        #expect(encoded.contains(#""headers":["x-api-key"]"#), "header names only")
    }
}

@Suite struct InvestigationPagingTests {
    let emulator = Emulator(tenants: [Fixture.tenant(investigations: 250)], clock: VirtualClock())

    func page(_ index: Int, size: Int) async throws -> JSON {
        let response = try await emulator.handle(Fixture.request(
            path: "/idr/v2/investigations",
            query: [URLQueryItem(name: "index", value: "\(index)"), URLQueryItem(name: "size", value: "\(size)")]))
        #expect(response.status == 200)
        return try #require(response.json)
    }

    @Test func indexIsAPageNumberAndMetadataCountsPages() async throws {
        let first = try await page(0, size: 100)
        #expect(first["metadata"] == ["index": 0, "size": 100, "total_data": 250, "total_pages": 3])
        let last = try await page(2, size: 100)
        #expect(last["metadata"] == ["index": 2, "size": 50, "total_data": 250, "total_pages": 3])
        var rrns = Set<String>()
        for index in 0..<3 {
            for item in try await page(index, size: 100)["data"]?.arrayValue ?? [] { rrns.insert(item["rrn"]?.stringValue ?? "") }
        }
        #expect(rrns.count == 250)
        #expect(rrns.allSatisfy { $0.hasPrefix("rrn:investigation:us2:") })
    }

    @Test(arguments: ["0", "101", "x"])
    func aSizeOutside1To100Is400(size: String) async throws {
        let response = try await emulator.handle(Fixture.request(
            path: "/idr/v2/investigations", query: [URLQueryItem(name: "size", value: size)]))
        #expect(response.status == 400)
        #expect(response.json?["message"] == "size must be between 1 and 100")
    }

    @Test func v1KeepsTheOlderShape() async throws {
        let response = try await emulator.handle(Fixture.request(path: "/idr/v1/investigations"))
        let item = try #require(response.json?["data"]?.arrayValue?.first)
        #expect(item["id"]?.stringValue?.count == 36)
        #expect(item["rrn"] == nil)
        #expect(item["alerts"] == [])
    }
}
