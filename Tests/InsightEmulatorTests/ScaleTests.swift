import Foundation
import InsightCore
import InsightEmulator
import Testing

/// Generated tenants of production size: pages from both ends of a million investigations, a
/// time range into the middle of ten million events, and API edits on top of generated data.
/// Expected values come from the generator's documented rule (items spread evenly over the
/// `spread_days` before the start, the newest one minute before it; titles cycle through six,
/// numbered from 1), not read back from the code.
@Suite struct ScaleTests {
    static let now = VirtualClock.defaultStart
    static let million = 1_000_000

    static func bigTenant(events: Int = 0) -> Tenant {
        var tenant = Fixture.tenant(investigations: million)
        var generator = DataGenerator(seed: 5, label: "scale")
        tenant.logSources = generator.logSources(count: 1)
        tenant.logEvents = generator.logEvents(for: tenant.logSources, perLog: events, now: now, spreadDays: 7)
        tenant.queryPolls = 0
        return tenant
    }

    /// When the `index`-th of `count` items spread over `days` falls, in ms.
    static func expectedMillis(_ index: Int, of count: Int, days: Double) -> Int64 {
        let offset = days * 86_400 * Double(count - 1 - index) / Double(count - 1)
        return Int64(((now.timeIntervalSince1970 - offset - 60) * 1000).rounded())
    }

    static func page(_ emulator: Emulator, index: Int, sort: String = "created_time,ASC") async throws -> JSON {
        let response = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations", query: [
            URLQueryItem(name: "start_time", value: "2000-01-01T00:00:00Z"), URLQueryItem(name: "end_time", value: "2100-01-01T00:00:00Z"),
            URLQueryItem(name: "sort", value: sort), URLQueryItem(name: "index", value: "\(index)"), URLQueryItem(name: "size", value: "100"),
        ]))
        #expect(response.status == 200)
        let json = try #require(response.json)
        // The page is written straight to bytes: they are exactly the canonical encoding of its JSON.
        #expect(json.encoded() == response.body)
        return json
    }

    @Test func aMillionInvestigationsPageFromBothEnds() async throws {
        let emulator = Emulator(tenants: [Self.bigTenant()], clock: VirtualClock())
        let first = try await Self.page(emulator, index: 0)
        #expect(first["metadata"]?["total_data"] == 1_000_000)
        #expect(first["metadata"]?["total_pages"] == 10_000)
        let firstTitles = first["data"]?.arrayValue?.compactMap { $0["title"]?.stringValue } ?? []
        #expect(firstTitles.count == 100)
        #expect(firstTitles.first == "Suspicious Authentication #1")
        #expect(firstTitles.last == "Malware Detected #100")

        let last = try await Self.page(emulator, index: 9_999)
        let lastItems = last["data"]?.arrayValue ?? []
        #expect(lastItems.count == 100)
        #expect(lastItems.first?["title"] == "Suspicious Authentication #999901")
        #expect(lastItems.last?["title"] == "Malware Detected #1000000")
        // The newest is one minute before the start, the oldest 10 days before that.
        #expect(lastItems.last?["created_time"]?.stringValue == Self.now.addingTimeInterval(-60).iso8601)
        #expect(first["data"]?.arrayValue?.first?["created_time"]?.stringValue == Self.now.addingTimeInterval(-60 - 10 * 86_400).iso8601)

        let newestFirst = try await Self.page(emulator, index: 0, sort: "created_time,DESC")
        #expect(newestFirst["data"]?.arrayValue?.first?["title"] == "Malware Detected #1000000")
        #expect(newestFirst["data"]?.arrayValue?.last?["title"] == "Suspicious Authentication #999901")
        let beyond = try await Self.page(emulator, index: 10_000)
        #expect(beyond["data"]?.arrayValue?.isEmpty == true)
    }

    @Test func oneInvestigationOfAMillionIsFoundByRRNAndIdAndEditedInPlace() async throws {
        let emulator = Emulator(tenants: [Self.bigTenant()], clock: VirtualClock())
        let middle = try await Self.page(emulator, index: 5_000)
        let item = try #require(middle["data"]?.arrayValue?.first)
        #expect(item["title"] == "Account Created #500001")
        let rrn = try #require(item["rrn"]?.stringValue)
        let got = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations/\(rrn)"))
        #expect(got.status == 200)
        #expect(got.json?["title"] == item["title"])
        // By its id (a UUID) as well: the v1 list shows ids.
        let id = Self.bigTenant().investigations[500_000].id
        let byID = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations/\(id)"))
        #expect(byID.json?["rrn"]?.stringValue == rrn)

        var patch = Fixture.request("PATCH", path: "/idr/v2/investigations/\(rrn)")
        patch.body = Data(#"{"status":"CLOSED","disposition":"BENIGN"}"#.utf8)
        #expect(try await emulator.handle(patch).status == 200)
        let after = try await Self.page(emulator, index: 5_000)
        #expect(after["data"]?.arrayValue?.first?["status"] == "CLOSED", "the edit sits on top of the generated record")
        #expect(after["data"]?.arrayValue?.first?["disposition"] == "BENIGN")
        #expect(after["data"]?.arrayValue?[1]["title"] == "Malware Detected #500002", "its neighbours are untouched")

        // A near miss (one character of the rrn changed) is not found, however the index decodes.
        let wrong = String(rrn.dropLast()) + (rrn.hasSuffix("0") ? "1" : "0")
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v2/investigations/\(wrong)")).status == 404)
    }

    @Test func anInvestigationCreatedThroughTheAPIComesAfterTheGeneratedMillion() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [Self.bigTenant()], clock: clock)
        var create = Fixture.request("POST", path: "/idr/v2/investigations")
        create.body = Data(#"{"title":"Created by hand"}"#.utf8)
        #expect(try await emulator.handle(create).status == 201)
        let last = try await Self.page(emulator, index: 10_000)
        #expect(last["metadata"]?["total_data"] == 1_000_001)
        #expect(last["data"]?.arrayValue?.map { $0["title"] } == ["Created by hand"])
    }

    @Test func aTimeRangeIntoTheMiddleOfTenMillionEvents() async throws {
        let count = 10_000_000
        let tenant = Self.bigTenant(events: count)
        let log = tenant.logSources[0].id
        let emulator = Emulator(tenants: [tenant], clock: VirtualClock())
        let from = Self.expectedMillis(5_000_000, of: count, days: 7)
        let to = Self.expectedMillis(5_000_009, of: count, days: 7)
        func query(_ extra: [URLQueryItem]) async throws -> JSON {
            let response = try await emulator.handle(Fixture.request(path: "/log_search/query/logs/\(log)", query: [
                URLQueryItem(name: "from", value: "\(from)"), URLQueryItem(name: "to", value: "\(to)"),
            ] + extra))
            #expect(response.status == 200)
            return try #require(response.json)
        }
        let all = try await query([URLQueryItem(name: "per_page", value: "500")])
        let events = all["events"]?.arrayValue ?? []
        // The ten events from index 5,000,000 to 5,000,009 (7 days over 10M events: ~60 ms apart, so none share a millisecond).
        #expect(events.count == 10)
        #expect(events.map { $0["timestamp"]?.intValue.map(Int64.init) } == (5_000_000...5_000_009).map { Self.expectedMillis($0, of: count, days: 7) })
        #expect(all["links"]?.arrayValue?.isEmpty == true)
        let sequences = events.compactMap { $0["sequence_number"]?.intValue }
        #expect(sequences == sequences.sorted() && Set(sequences).count == 10)

        // Paged by four: the cursor goes on exactly where the page stopped, and the last page has no Next.
        let first = try await query([URLQueryItem(name: "per_page", value: "4")])
        #expect(first["events"]?.arrayValue?.compactMap { $0["sequence_number"]?.intValue } == Array(sequences.prefix(4)))
        let next = try #require(first["links"]?.arrayValue?.first?["href"]?.stringValue)
        #expect(next.contains("sequence_number=\(sequences[3])"))
        let second = try await query([URLQueryItem(name: "per_page", value: "4"), URLQueryItem(name: "sequence_number", value: "\(sequences[3])")])
        #expect(second["events"]?.arrayValue?.compactMap { $0["sequence_number"]?.intValue } == Array(sequences[4..<8]))
        let third = try await query([URLQueryItem(name: "per_page", value: "4"), URLQueryItem(name: "sequence_number", value: "\(sequences[7])")])
        #expect(third["events"]?.arrayValue?.compactMap { $0["sequence_number"]?.intValue } == Array(sequences[8...]))
        #expect(third["links"]?.arrayValue?.isEmpty == true)

        // Newest first, and a LEQL filter that reads the messages inside the window only.
        let newest = try await query([URLQueryItem(name: "per_page", value: "3"), URLQueryItem(name: "most_recent_first", value: "true")])
        #expect(newest["events"]?.arrayValue?.compactMap { $0["sequence_number"]?.intValue } == Array(sequences.reversed().prefix(3)))
        let failed = try await query([URLQueryItem(name: "per_page", value: "500"), URLQueryItem(name: "query", value: "where(result=FAILED)")])
        let expectedFailed = events.filter { $0["message"]?.stringValue?.contains(#""result":"FAILED""#) == true }
        #expect(failed["events"]?.arrayValue == expectedFailed)
    }

    @Test func aTenantThatHoldsAMillionCostsNoMoreMemoryThanItsRecipe() {
        // Made on demand: the records are not stored, and reading one does not store it either.
        let tenant = Self.bigTenant(events: 100_000_000)
        #expect(tenant.investigations.count == 1_000_000)
        #expect(tenant.investigations.explicit.isEmpty && tenant.investigations.edits.isEmpty)
        #expect(tenant.logEvents.values.first?.count == 100_000_000)
        #expect(tenant.investigations[999_999].title == "Malware Detected #1000000")
        #expect(tenant.investigations.edits.isEmpty)
    }
}

/// Offsets past every page: an empty page or a 400, never an overflow.
@Suite struct HugeOffsetTests {
    let emulator = Emulator(tenants: [Fixture.tenant(investigations: 1_000)], clock: VirtualClock())

    @Test(arguments: ["100000000", "100000001", "9223372036854775807"])
    func aHugeInvestigationPageIndexIsEmptyOrRefused(index: String) async throws {
        let response = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations", query: [
            URLQueryItem(name: "index", value: index), URLQueryItem(name: "size", value: "100"),
        ]))
        if index == "100000000" {
            #expect(response.status == 200)
            #expect(response.json?["data"]?.arrayValue?.isEmpty == true)
        } else {
            #expect(response.status == 400)
            #expect(response.json?["message"]?.stringValue == "index must be at most 100000000")
        }
    }

    @Test(arguments: ["1000", "100000000", "9223372036854775807"])
    func aHugeAlertOffsetIsEmptyOrRefused(offset: String) async throws {
        var request = Fixture.request("POST", path: "/idr/at/alerts/ops/search", query: [URLQueryItem(name: "index", value: offset)])
        request.body = Data("{}".utf8)
        let response = try await emulator.handle(request)
        #expect(response.status == (offset == "9223372036854775807" ? 400 : 200))
    }
}
