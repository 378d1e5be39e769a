import Foundation
import InsightCore
import InsightEmulator
import Testing

@Suite struct InvestigationTests {
    let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())

    func data(_ response: HTTPResponse) -> [JSON] { response.json?["data"]?.arrayValue ?? [] }

    @Test func filtersNarrowTheList() async throws {
        let all = data(try await emulator.handle(Fixture.query("/idr/v2/investigations", [("size", "100")])))
        let open = data(try await emulator.handle(Fixture.query("/idr/v2/investigations", [("size", "100"), ("statuses", "open,waiting")])))
        #expect(all.count == 30)
        #expect(!open.isEmpty && open.count < 30)
        #expect(open.allSatisfy { ["OPEN", "WAITING"].contains($0["status"]?.stringValue ?? "") })
        let critical = data(try await emulator.handle(Fixture.query("/idr/v2/investigations", [("size", "100"), ("priorities", "CRITICAL")])))
        #expect(critical.allSatisfy { $0["priority"] == "CRITICAL" })
        let bad = try await emulator.handle(Fixture.query("/idr/v2/investigations", [("statuses", "DONE")]))
        #expect(bad.status == 400)
        #expect(bad.json?["message"] == "statuses: 'DONE' is not one of OPEN, INVESTIGATING, WAITING, CLOSED")
    }

    @Test func theWindowDefaultsTo28DaysAndBoundsAreExclusive() async throws {
        let start = (VirtualClock.defaultStart.addingTimeInterval(-3 * 86_400)).iso8601
        let recent = data(try await emulator.handle(Fixture.query("/idr/v2/investigations", [("size", "100"), ("start_time", start)])))
        #expect(recent.count < 30 && !recent.isEmpty)
        #expect(recent.allSatisfy { ($0["created_time"]?.stringValue ?? "") > start })
    }

    @Test func sortOrdersAndRejectsUnknownFields() async throws {
        let desc = data(try await emulator.handle(Fixture.query("/idr/v2/investigations", [("size", "100"), ("sort", "created_time,DESC")])))
        let times = desc.compactMap { $0["created_time"]?.stringValue }
        #expect(times == times.sorted(by: >))
        let bad = try await emulator.handle(Fixture.query("/idr/v2/investigations", [("sort", "colour,ASC")]))
        #expect(bad.status == 400)
    }

    @Test func getByIdOrRRNAndUpdateEveryField() async throws {
        let first = try #require(data(try await emulator.handle(Fixture.query("/idr/v2/investigations", []))).first)
        let rrn = try #require(first["rrn"]?.stringValue)
        let byRRN = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations/\(rrn)"))
        #expect(byRRN.json?["rrn"]?.stringValue == rrn)
        for (field, value) in [("status", "CLOSED"), ("priority", "HIGH"), ("disposition", "BENIGN")] {
            let changed = try await emulator.handle(Fixture.request("PUT", path: "/idr/v2/investigations/\(rrn)/\(field)/\(value)"))
            #expect(changed.json?[field]?.stringValue == value)
        }
        let badDisposition = try await emulator.handle(Fixture.request("PUT", path: "/idr/v2/investigations/\(rrn)/disposition/MAYBE"))
        #expect(badDisposition.status == 400)
        let assigned = try await emulator.handle(Fixture.json("PUT", "/idr/v2/investigations/\(rrn)/assignee", ["user_email_address": "analyst@example.com"]))
        #expect(assigned.json?["assignee"] == ["email": "analyst@example.com", "name": "Service User"])
        let patched = try await emulator.handle(Fixture.json("PATCH", "/idr/v2/investigations/\(rrn)", ["title": "Renamed", "status": "INVESTIGATING"]))
        #expect(patched.json?["title"] == "Renamed")
        #expect(patched.json?["status"] == "INVESTIGATING")
        let missing = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations/rrn:investigation:nope"))
        #expect(missing.status == 404)
        #expect(missing.json?["message"] == "Investigation not found")
    }

    @Test func createAndSearch() async throws {
        let created = try await emulator.handle(Fixture.json("POST", "/idr/v2/investigations", ["title": "Phishing wave", "priority": "CRITICAL"]))
        #expect(created.status == 201)
        #expect(created.json?["source"] == "USER")
        #expect(created.json?["status"] == "OPEN")
        let found = try await emulator.handle(Fixture.json("POST", "/idr/v2/investigations/_search",
            ["search": [["field": "title", "operator": "CONTAINS", "value": "phishing"]]]))
        #expect(found.json?["data"]?.arrayValue?.map { $0["title"] } == ["Phishing wave"])
        let untitled = try await emulator.handle(Fixture.json("POST", "/idr/v2/investigations", ["priority": "LOW"]))
        #expect(untitled.status == 400)
        #expect(untitled.json?["message"] == "title is required")
    }

    @Test func malformedJSONBodiesGet400InTheIDRShape() async throws {
        var request = Fixture.request("POST", path: "/idr/v2/investigations/_search")
        request.body = Data("{\"search\": [".utf8)
        let response = try await emulator.handle(request)
        #expect(response.status == 400)
        #expect(response.json?["message"] == "the body must be a JSON object")
        #expect(response.json?["correlation_id"] != nil)
    }

    @Test func anInvestigationsAlertsArePaged() async throws {
        let first = try #require(data(try await emulator.handle(Fixture.query("/idr/v2/investigations", []))).first?["rrn"]?.stringValue)
        let alerts = try await emulator.handle(Fixture.query("/idr/v2/investigations/\(first)/alerts", [("size", "1")]))
        #expect(alerts.json?["metadata"] == ["index": 0, "size": 1, "total_data": 2, "total_pages": 2])
        let alert = try #require(alerts.json?["data"]?.arrayValue?.first)
        #expect(Set(alert.objectKeys) == ["id", "title", "alert_type", "alert_type_description", "created_time",
                                          "first_event_time", "latest_event_time", "detection_rule_rrn", "alert_source"])
        // An object naming the rule (list_alerts_for_investigation_rrn_as_object.json.resp), not a string.
        #expect(alert["detection_rule_rrn"]?["rule_name"]?.stringValue?.isEmpty == false)
        #expect(alert["detection_rule_rrn"]?["rule_rrn"]?.stringValue?.hasPrefix("rrn:detection:") == true)
    }
}

@Suite struct AlertUserAccountTests {
    let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())

    @Test func alertSearchStepsAnItemOffset() async throws {
        var offsets: [Int] = []
        var rrns = Set<String>()
        var index = 0
        for _ in 0..<10 {
            let page = try await emulator.handle(Fixture.json("POST", "/idr/at/alerts/ops/search?size=25&index=\(index)", ["search": [:]]))
            let json = try #require(page.json)
            #expect(json["region_failures"] == [])
            offsets.append(json["metadata"]?["index"]?.intValue ?? -1)
            for rrn in json["rrns"]?.arrayValue ?? [] { rrns.insert(rrn.stringValue ?? "") }
            if json["metadata"]?["is_last_index"] == true { break }
            index += 25
        }
        #expect(offsets == [0, 25, 50])
        #expect(rrns.count == 60)
    }

    @Test func oneAlertByRRNAndUnknownIs404() async throws {
        let search = try await emulator.handle(Fixture.json("POST", "/idr/at/alerts/ops/search?rrns_only=true", [:]))
        #expect(search.json?["alerts"] == [])
        let rrn = try #require(search.json?["rrns"]?.arrayValue?.first?.stringValue)
        #expect(try await emulator.handle(Fixture.request(path: "/idr/at/alerts/\(rrn)")).json?["rrn"]?.stringValue == rrn)
        #expect(try await emulator.handle(Fixture.request(path: "/idr/at/alerts/rrn:alerts:none")).status == 404)
    }

    @Test func accountsSearchAndGet() async throws {
        let page = try await emulator.handle(Fixture.json("POST", "/idr/v1/accounts/_search?size=5&index=0",
                                                          ["search": [["field": "name", "operator": "CONTAINS", "value": "user1"]]]))
        let names = page.json?["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names == ["user1", "user10", "user11", "user12"])
        let rrn = try #require(page.json?["data"]?.arrayValue?.first?["rrn"]?.stringValue)
        let one = try await emulator.handle(Fixture.request(path: "/idr/v1/accounts/\(rrn)"))
        #expect(one.json?["domain"] == "CORP")
    }
}

extension JSON {
    var objectKeys: [String] {
        if case .object(let object) = self { return Array(object.keys) }
        return []
    }
}
