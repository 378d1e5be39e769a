import Foundation
import InsightCore
@testable import InsightEmulator
import Testing

/// The IDR calls real clients make to change things: alerts patched, investigations closed in
/// bulk by either version, threats deleted, v1 answers in v1's shape; each change reads back.
@Suite struct IDRChangeTests {
    let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())

    @Test func anAlertIsPatchedAndReadsBackChanged() async throws {
        let rrn = try #require(try await Fixture.firstAlert(emulator)["rrn"]?.stringValue)
        let patched = try await emulator.handle(Fixture.json("PATCH", "/idr/at/alerts/\(rrn)", [
            "status": ["value": "CLOSED"], "priority": ["value": "HIGH"], "disposition": ["value": "BENIGN"],
            "assignee_id": ["value": "user-1"], "comment": "triaged",
        ]))
        #expect(patched.status == 200, "\(patched.bodyText)")
        let read = try await emulator.handle(Fixture.request(path: "/idr/at/alerts/\(rrn)"))
        #expect(read.json?["status"] == "CLOSED")
        #expect(read.json?["priority"] == "HIGH")
        #expect(read.json?["disposition"] == "BENIGN")
        #expect(read.json?["assignee"]?["id"] == "user-1")
        #expect(read.json == patched.json)
        // The search's bytes say the same as the alert's JSON.
        let search = try await emulator.handle(Fixture.json("POST", "/idr/at/alerts/ops/search?size=100", ["search": [:]]))
        #expect(search.json?["alerts"]?.arrayValue?.first { $0["rrn"]?.stringValue == rrn } == read.json)
        let badValue = try await emulator.handle(Fixture.json("PATCH", "/idr/at/alerts/\(rrn)", ["status": ["value": "DONE"]]))
        #expect(badValue.status == 400)
        #expect(badValue.json?["message"]?.stringValue?.contains("OPEN, INVESTIGATING, WAITING, CLOSED") == true)
        let unknown = try await emulator.handle(Fixture.json("PATCH", "/idr/at/alerts/\(rrn)", ["colour": ["value": "red"]]))
        #expect(unknown.json?["message"]?.stringValue?.hasPrefix("unknown field colour") == true)
        #expect(try await emulator.handle(Fixture.json("PATCH", "/idr/at/alerts/nope", ["status": ["value": "OPEN"]])).status == 404)
    }

    @Test(arguments: ["/idr/v1/investigations/bulk_close", "/idr/v2/investigations/bulk_close"])
    func manualInvestigationsCloseInBulkOnEitherVersion(path: String) async throws {
        let created = try await emulator.handle(Fixture.json("POST", "/idr/v2/investigations", ["title": "opened by hand"]))
        let id = try #require(created.json?["rrn"]?.stringValue)
        #expect(created.json?["source"] == "USER")
        let closed = try await emulator.handle(Fixture.json("POST", path, [
            "source": "MANUAL", "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"]))
        #expect(closed.status == 200, "\(closed.bodyText)")
        #expect((closed.json?["num_closed"]?.intValue ?? 0) >= 1)
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v2/investigations/\(id)")).json?["status"] == "CLOSED")
    }

    @Test func productAlertsAnswerOnTheHyphenatedPath() async throws {
        let list = try await emulator.handle(Fixture.query("/idr/v2/investigations", [("size", "10"), ("start_time", "2000-01-01T00:00:00Z")]))
        for item in list.json?["data"]?.arrayValue ?? [] {
            let id = try #require(item["rrn"]?.stringValue)
            let hyphenated = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations/\(id)/rapid7-product-alerts"))
            #expect(hyphenated.status == 200)
            #expect(hyphenated.body == (try await emulator.handle(Fixture.request(path: "/idr/v2/investigations/\(id)/product_alerts"))).body)
        }
    }

    @Test func aThreatIsDeleted() async throws {
        let made = try await emulator.handle(Fixture.json("POST", "/idr/v1/customthreats", ["threat": "Bad hosts", "indicators": ["ips": ["10.0.0.1"]]]))
        let location = try #require(made.headers["Location"])
        let key = try #require(location.split(separator: "/").last.map(String.init))
        let deleted = try await emulator.handle(Fixture.json("POST", "/idr/v1/customthreats/key/\(key)/delete", [:]))
        #expect(deleted.status == 200)
        #expect(deleted.json?["threat"]?["name"] == "Bad hosts")
        #expect(try await emulator.handle(Fixture.json("POST", "/idr/v1/customthreats/key/\(key)/delete", [:])).status == 404)
        let add = try await emulator.handle(Fixture.json("POST", "/idr/v1/customthreats/key/\(key)/indicators/add", ["ips": ["10.0.0.2"]]))
        #expect(add.status == 404)
        // Its name is free again.
        #expect(try await emulator.handle(Fixture.json("POST", "/idr/v1/customthreats", ["threat": "Bad hosts"])).status == 200)
    }

    @Test func v1ChangesAnswerInV1Shape() async throws {
        let list = try await emulator.handle(Fixture.query("/idr/v1/investigations", [("size", "1")]))
        let id = try #require(list.json?["data"]?.arrayValue?.first?["id"]?.stringValue)
        let set = try await emulator.handle(Fixture.request("PUT", path: "/idr/v1/investigations/\(id)/status/CLOSED"))
        #expect(set.status == 200)
        let item = try #require(set.json?["data"]?.arrayValue?.first)
        #expect(item["status"] == "CLOSED")
        let listed: JSON = try #require(list.json?["data"]?.arrayValue?.first)
        if case .object(let changed) = item, case .object(let original) = listed {
            #expect(Set(changed.keys) == Set(original.keys))
        } else {
            Issue.record("not objects: \(item) \(listed)")
        }
        let v2 = try await emulator.handle(Fixture.request("PUT", path: "/idr/v2/investigations/\(id)/status/OPEN"))
        #expect(v2.json?["status"] == "OPEN")
        #expect(v2.json?["data"] == nil)
    }
}
