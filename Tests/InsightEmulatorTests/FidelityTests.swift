import Foundation
import InsightCore
@testable import InsightEmulator
import Testing

/// Contract tests: each answer's keys and types as the open-source clients' recorded answers
/// show them (the sources are named on each test), its errors, and its effect on the tenant.
enum Contract {
    enum Kind { case string, int, bool, object, array, null, stringOrNull }

    /// The keys of `json` are exactly `expected`, each of its kind.
    static func check(_ json: JSON?, _ expected: [String: Kind], sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .object(let object)? = json else {
            Issue.record("not an object: \(String(describing: json))", sourceLocation: sourceLocation)
            return
        }
        #expect(Set(object.keys) == Set(expected.keys), sourceLocation: sourceLocation)
        for (key, kind) in expected {
            let value = object[key]
            let fits: Bool
            switch (kind, value) {
            case (.string, .string?), (.int, .int?), (.bool, .bool?), (.object, .object?), (.array, .array?), (.null, .null?): fits = true
            case (.stringOrNull, .string?), (.stringOrNull, .null?): fits = true
            default: fits = false
            }
            #expect(fits, "\(key): expected \(kind), found \(String(describing: value))", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct AlertFidelityTests {
    let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())

    /// IDR plugin unit_test/payloads/test_get_alert_information.json.resp.
    @Test func aWholeAlertHasTheRecordedKeys() async throws {
        let alert = try await Fixture.firstAlert(emulator)
        Contract.check(alert, [
            "rrn": .string, "version": .int, "created_at": .string, "updated_at": .string, "alerted_at": .string,
            "ingested_at": .string, "external_source": .string, "external_id": .string, "organization": .object,
            "title": .string, "type": .string, "rule": .object, "rule_matching_keys": .array, "rule_keys_of_interest": .array,
            "responsibility": .string, "priority": .string, "status": .string, "disposition": .string,
            "investigation_rrn": .stringOrNull, "tags": .array, "permissions": .object, "fields": .array,
        ])
        Contract.check(alert["organization"], ["id": .string, "name": .string, "region": .string, "product_token": .string,
                                               "customer_id": .string, "customer_name": .string, "flags": .array])
        Contract.check(alert["rule"], ["rrn": .string, "mitre_tcodes": .array, "version_rrn": .string])
        Contract.check(alert["rule_matching_keys"]?.arrayValue?.first, ["key": .string, "values": .array])
        #expect(alert["organization"]?["region"] == "us2")
        #expect(alert["rrn"]?.stringValue?.hasPrefix("rrn:alerts:us2:") == true)
        let rrn = try #require(alert["rrn"]?.stringValue)
        let one = try await emulator.handle(Fixture.request(path: "/idr/at/alerts/\(rrn)"))
        #expect(one.json == alert)
    }

    /// The first US region reads us1 in the alerts service (the same recording).
    @Test func theFirstUSRegionIsUS1() async throws {
        let emulator = Emulator(tenants: [Fixture.rich(region: .us)], clock: VirtualClock())
        let search = try await emulator.handle(Fixture.json("POST", "/idr/at/alerts/ops/search?size=1", ["search": [:]], host: "us.api.insight.rapid7.com"))
        let alert = try #require(search.json?["alerts"]?.arrayValue?.first)
        #expect(alert["rrn"]?.stringValue?.hasPrefix("rrn:alerts:us1:") == true)
        #expect(alert["organization"]?["region"] == "us1")
    }

    /// test_get_alert_actors_minimum.json.resp and test_get_alert_evidence_minimum.json.resp.
    @Test func actorsAndEvidencesArePagedWithTheAlertsMetadata() async throws {
        let rrn = try #require(try await Fixture.firstAlert(emulator)["rrn"]?.stringValue)
        let actors = try await emulator.handle(Fixture.query("/idr/at/alerts/\(rrn)/actors", [("size", "1"), ("index", "0")]))
        #expect(actors.status == 200)
        Contract.check(actors.json?["actors"]?.arrayValue?.first, ["rrn": .string, "id": .string, "type": .string, "user_id": .string, "display_name": .string])
        #expect(actors.json?["metadata"] == ["index": 0, "size": 1, "items_in_index": 1, "total_items": 2, "is_last_index": false])
        let second = try await emulator.handle(Fixture.query("/idr/at/alerts/\(rrn)/actors", [("size", "1"), ("index", "1")]))
        #expect(second.json?["actors"]?.arrayValue?.first?["type"] == "ASSET")
        let evidences = try await emulator.handle(Fixture.request(path: "/idr/at/alerts/\(rrn)/evidences"))
        let evidence = try #require(evidences.json?["evidences"]?.arrayValue?.first)
        Contract.check(evidence, ["rrn": .string, "version": .int, "created_at": .string, "updated_at": .string, "evented_at": .string,
                                  "external_source": .string, "event_type": .string, "data": .string])
        // data is a JSON document in a string.
        #expect(JSON(data: Data((evidence["data"]?.stringValue ?? "").utf8))?["r7_context"] != nil)
        for path in ["/idr/at/alerts/rrn:alerts:nope/actors", "/idr/at/alerts/rrn:alerts:nope/evidences"] {
            let missing = try await emulator.handle(Fixture.request(path: path))
            #expect(missing.status == 404)
            #expect(missing.json?["message"] == "Alert not found")
        }
        let bad = try await emulator.handle(Fixture.query("/idr/at/alerts/\(rrn)/actors", [("size", "0")]))
        #expect(bad.status == 400)
    }

    @Test func noKeyAndMissingRoleAreRefused() async throws {
        let rrn = try #require(try await Fixture.firstAlert(emulator)["rrn"]?.stringValue)
        #expect(try await emulator.handle(Fixture.request(path: "/idr/at/alerts/\(rrn)/actors", key: nil)).status == 401)
        #expect(try await emulator.handle(Fixture.request(path: "/idr/at/alerts/\(rrn)/actors", key: Fixture.noProductKey)).status == 403)
    }
}

@Suite struct UserAccountAssetFidelityTests {
    let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())

    /// test_search_accounts_1.json.resp: `user {rrn, name}`, required by the plugin's schema.
    @Test func accountsCarryTheirUserWhoseRRNResolves() async throws {
        let page = try await emulator.handle(Fixture.json("POST", "/idr/v1/accounts/_search?size=1", ["search": []]))
        let account = try #require(page.json?["data"]?.arrayValue?.first)
        Contract.check(account, ["rrn": .string, "name": .string, "domain": .string, "disabled": .bool, "user": .object,
                                 "authentication_service": .string])
        Contract.check(account["user"], ["rrn": .string, "name": .string])
        let rrn = try #require(account["user"]?["rrn"]?.stringValue)
        let user = try await emulator.handle(Fixture.request(path: "/idr/v1/users/\(rrn)"))
        // XSOAR test_data/get_user.json: rrn, name, domain.
        Contract.check(user.json, ["rrn": .string, "name": .string, "domain": .string])
        #expect(user.json?["domain"] == "CORP")
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v1/users/rrn:uba:nope")).status == 404)
    }

    /// XSOAR test_data/search_users.json: `{data:[{rrn,name,domain}], metadata}`.
    @Test func usersAreSearched() async throws {
        let page = try await emulator.handle(Fixture.json("POST", "/idr/v1/users/_search?size=5&index=0",
                                                          ["search": [["field": "name", "operator": "EQUALS", "value": "user3"]]]))
        #expect(page.status == 200)
        #expect(page.json?["data"]?.arrayValue?.map { $0["name"] } == ["user3"])
        #expect(page.json?["metadata"] == ["index": 0, "size": 1, "total_data": 1, "total_pages": 1])
        let bad = try await emulator.handle(Fixture.json("POST", "/idr/v1/users/_search", ["search": [["field": "colour", "value": "x"]]]))
        #expect(bad.status == 400)
    }

    /// get_asset_information.json.resp: `{rrn, name}`; the alert's actors name assets that resolve.
    @Test func assetsResolveAndSearch() async throws {
        let page = try await emulator.handle(Fixture.json("POST", "/idr/v1/assets/_search?size=2", ["search": [["field": "name", "operator": "EQUALS", "value": "host-123"]]]))
        let asset = try #require(page.json?["data"]?.arrayValue?.first)
        Contract.check(asset, ["rrn": .string, "name": .string])
        let rrn = try #require(asset["rrn"]?.stringValue)
        let one = try await emulator.handle(Fixture.request(path: "/idr/v1/assets/\(rrn)"))
        #expect(one.json == asset)
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v1/assets/rrn:uba:nope")).status == 404)
    }
}

@Suite struct CollaborationFidelityTests {
    let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())

    func investigationRRN() async throws -> String {
        let list = try await emulator.handle(Fixture.query("/idr/v2/investigations", []))
        return try #require(list.json?["data"]?.arrayValue?.first?["rrn"]?.stringValue)
    }

    func upload(_ text: String, name: String) -> HTTPRequest {
        var request = Fixture.request("POST", path: "/idr/v1/attachments")
        let boundary = "----insightreplay1234"
        request.headers.set("Content-Type", "multipart/form-data; boundary=\(boundary)")
        request.body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"filedata\"; filename=\"\(name)\"\r\nContent-Type: text/plain\r\n\r\n\(text)\r\n--\(boundary)--\r\n".utf8)
        return request
    }

    /// upload_attachment / list_attachments / create_comment / list_comments .json.resp.
    @Test func attachAFileCommentOnItAndDeleteBoth() async throws {
        let uploaded = try await emulator.handle(upload("test", name: "test.txt"))
        #expect(uploaded.status == 200)
        Contract.check(uploaded.json, ["rrn": .string, "creator": .object, "created_time": .string, "file_name": .string,
                                       "mime_type": .string, "size": .int, "scan_status": .string])
        #expect(uploaded.json?["size"] == 4)
        #expect(uploaded.json?["creator"] == ["type": "USER", "name": "Service User"])
        let attachment = try #require(uploaded.json?["rrn"]?.stringValue)
        #expect(attachment.hasPrefix("rrn:collaboration:us2:"))
        let bytes = try await emulator.handle(Fixture.request(path: "/idr/v1/attachments/\(attachment)"))
        #expect(String(decoding: bytes.body, as: UTF8.self) == "test")
        #expect(bytes.headers["Content-Type"] == "text/plain")
        let metadata = try await emulator.handle(Fixture.request(path: "/idr/v1/attachments/\(attachment)/metadata"))
        #expect(metadata.json == uploaded.json)

        let target = try await investigationRRN()
        let created = try await emulator.handle(Fixture.json("POST", "/idr/v1/comments", ["target": .string(target), "body": "test",
                                                                                          "attachments": [.string(attachment)]]))
        #expect(created.status == 200)
        Contract.check(created.json, ["created_time": .string, "rrn": .string, "target": .string, "creator": .object, "body": .string,
                                      "visibility": .string, "attachments": .array])
        #expect(created.json?["attachments"]?.arrayValue?.first?["rrn"]?.stringValue == attachment)
        let listed = try await emulator.handle(Fixture.query("/idr/v1/comments", [("target", target)]))
        Contract.check(listed.json?["data"]?.arrayValue?.first, ["created_time": .string, "rrn": .string, "target": .string,
                                                                "creator": .object, "body": .string, "visibility": .string])
        let onTarget = try await emulator.handle(Fixture.query("/idr/v1/attachments", [("target", target)]))
        #expect(onTarget.json?["data"]?.arrayValue?.count == 1)

        let comment = try #require(created.json?["rrn"]?.stringValue)
        #expect(try await emulator.handle(Fixture.request("DELETE", path: "/idr/v1/comments/\(comment)")).status == 204)
        #expect(try await emulator.handle(Fixture.request("DELETE", path: "/idr/v1/comments/\(comment)")).status == 404)
        #expect(try await emulator.handle(Fixture.request("DELETE", path: "/idr/v1/attachments/\(attachment)")).status == 204)
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v1/attachments/\(attachment)")).status == 404)
    }

    @Test func badCommentsAndUploadsAreRefusedSayingWhy() async throws {
        let target = try await investigationRRN()
        let cases: [(HTTPRequest, Int, String)] = [
            (Fixture.json("POST", "/idr/v1/comments", ["body": "x"]), 400, "target is required: the rrn of an investigation"),
            (Fixture.json("POST", "/idr/v1/comments", ["target": .string(target)]), 400, "a comment needs a body or attachments"),
            (Fixture.json("POST", "/idr/v1/comments", ["target": "rrn:investigation:nope", "body": "x"]), 404, "Investigation not found"),
            (Fixture.json("POST", "/idr/v1/comments", ["target": .string(target), "attachments": ["rrn:collaboration:nope"]]), 404,
             "Attachment not found: rrn:collaboration:nope"),
            (Fixture.request(path: "/idr/v1/comments"), 400, "target is required: the rrn of an investigation"),
            (Fixture.json("POST", "/idr/v1/attachments", ["file": "x"]), 400,
             "the body must be multipart/form-data with a boundary, the file in part filedata"),
        ]
        for (request, status, message) in cases {
            let response = try await emulator.handle(request)
            #expect(response.status == status, "\(request.path)")
            #expect(response.json?["message"]?.stringValue == message)
        }
        var noFile = upload("x", name: "a.txt")
        noFile.body = Data(String(decoding: noFile.body, as: UTF8.self).replacingOccurrences(of: "filedata", with: "other").utf8)
        #expect(try await emulator.handle(noFile).json?["message"] == "no part named filedata")
    }

    /// create_a_threat.json.resp and replace_indicators.json.resp; XSOAR add/replace_threat_indicators.
    @Test func threatsGainAndReplaceIndicatorsAndRejectWhatDoesNotFit() async throws {
        let created = try await emulator.handle(Fixture.json("POST", "/idr/v1/customthreats?format=json", [
            "threat": "Phishing campaign", "note": "from a workflow",
            "indicators": ["ips": ["10.0.0.1", "not-an-ip"], "domain_names": ["example.com", "10.0.0.1"], "hashes": [], "urls": []],
        ]))
        #expect(created.status == 200)
        Contract.check(created.json, ["threat": .object, "rejected_indicators": .array])
        Contract.check(created.json?["threat"], ["name": .string, "note": .string, "published": .bool, "indicator_count": .int])
        #expect(created.json?["threat"]?["indicator_count"] == 2)
        #expect(created.json?["rejected_indicators"] == ["10.0.0.1", "not-an-ip"])
        let location = try #require(created.headers["Location"])
        let added = try await emulator.handle(Fixture.json("POST", "\(location)/indicators/add?format=json",
                                                           ["hashes": ["A94A8FE5CCB19BA61C4C0873D391E987982FBBD3"], "urls": ["https://bad.example/x"]]))
        #expect(added.json?["threat"]?["indicator_count"] == 4)
        let replaced = try await emulator.handle(Fixture.json("POST", "\(location)/indicators/replace?format=json", ["ips": ["192.0.2.7"]]))
        #expect(replaced.json?["threat"]?["indicator_count"] == 1)
        #expect(replaced.json?["rejected_indicators"] == [])
        let missing = try await emulator.handle(Fixture.json("POST", "/idr/v1/customthreats/key/nope/indicators/add", ["ips": []]))
        #expect(missing.status == 404)
        let again = try await emulator.handle(Fixture.json("POST", "/idr/v1/customthreats", ["threat": "phishing campaign"]))
        #expect(again.status == 409)
        let unnamed = try await emulator.handle(Fixture.json("POST", "/idr/v1/customthreats", ["note": "x"]))
        #expect(unnamed.json?["message"] == "threat is required: the name of the threat")
        let badKind = try await emulator.handle(Fixture.json("POST", "\(location)/indicators/add", ["emails": ["a@b.c"]]))
        #expect(badKind.json?["message"] == "'emails' is not one of ips, hashes, domain_names, urls")
    }

    /// close_investigations_in_bulk.json.resp: `{ids, num_closed}`; the closed ones read CLOSED.
    @Test func bulkCloseClosesWhatMatchesAndNoMore() async throws {
        let all = try await emulator.handle(Fixture.query("/idr/v2/investigations", [("size", "100"), ("start_time", "2025-01-01T00:00:00Z")]))
        let items = all.json?["data"]?.arrayValue ?? []
        let source = try #require(items.first?["source"]?.stringValue)
        let open = items.filter { $0["source"]?.stringValue == source && $0["status"] != "CLOSED" }
        let closed = try await emulator.handle(Fixture.json("POST", "/idr/v1/investigations/bulk_close", [
            "source": .string(source), "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "max_investigations_to_close": 2,
        ]))
        #expect(closed.status == 200)
        Contract.check(closed.json, ["ids": .array, "num_closed": .int])
        #expect(closed.json?["num_closed"]?.intValue == min(2, open.count))
        for id in closed.json?["ids"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            #expect(try await emulator.handle(Fixture.request(path: "/idr/v2/investigations/\(id)")).json?["status"] == "CLOSED")
        }
        let bad = try await emulator.handle(Fixture.json("POST", "/idr/v1/investigations/bulk_close", ["source": "EMAIL", "from": "x", "to": "y"]))
        #expect(bad.json?["message"] == "source is required: MANUAL, ALERT, HUNT, AUTOMATION or USER")
        let backwards = try await emulator.handle(Fixture.json("POST", "/idr/v1/investigations/bulk_close", [
            "source": "USER", "from": "2026-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"]))
        #expect(backwards.status == 400)
    }

    /// XSOAR test_data/get_investigation_product_alerts.json: a bare list.
    @Test func productAlertsAreAListForEveryInvestigation() async throws {
        let list = try await emulator.handle(Fixture.query("/idr/v2/investigations", [("size", "30"), ("start_time", "2025-01-01T00:00:00Z")]))
        var seen = 0
        for id in list.json?["data"]?.arrayValue?.compactMap({ $0["rrn"]?.stringValue }) ?? [] {
            let answer = try await emulator.handle(Fixture.request(path: "/idr/v1/investigations/\(id)/product_alerts"))
            let items = try #require(answer.json?.arrayValue)
            for item in items {
                Contract.check(item, ["type": .string, "insight_agent_details": .array])
                seen += 1
            }
        }
        #expect(seen > 0)
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v1/investigations/nope/product_alerts")).status == 404)
    }
}

@Suite struct LogSearchFidelityTests {
    let clock = VirtualClock()
    let logsHost = "us2.rest.logs.insight.rapid7.com"

    func emulator(polls: Int = 0) -> Emulator { Emulator(tenants: [Fixture.rich(queryPolls: polls)], clock: clock) }

    func logIDs(_ emulator: Emulator) async throws -> [String] {
        let logs = try await emulator.handle(Fixture.request("GET", logsHost, path: "/management/logs"))
        return logs.json?["logs"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    var window: [(String, String)] {
        [("from", "\(clock.now().addingTimeInterval(-2 * 86_400).unixMillis)"), ("to", "\(clock.now().unixMillis)")]
    }

    /// log_id8.json.resp: `statistics` with groups and their time series, and `search_stats`.
    @Test func groupbyAnswersStatistics() async throws {
        let emulator = emulator()
        let ids = try await logIDs(emulator)
        let response = try await emulator.handle(Fixture.query("/query/logs/\(ids.joined(separator: ":"))", window + [("query", "groupby(user)")], host: logsHost))
        #expect(response.status == 200)
        let statistics = try #require(response.json?["statistics"])
        Contract.check(statistics, ["cardinality": .int, "granularity": .int, "from": .int, "to": .int, "type": .string, "stats": .object,
                                    "groups": .array, "others": .object, "status": .int, "timeseries": .object,
                                    "groups_timeseries": .array, "all_exact_result": .bool])
        Contract.check(response.json?["search_stats"], ["index_factor": .int, "bytes_checked": .int, "events_matched": .int,
                                                        "events_checked": .int, "duration_ms": .int, "events_all": .int, "bytes_all": .int])
        #expect(response.json?["events"] == nil)
        let groups = statistics["groups"]?.arrayValue ?? []
        let counts = groups.compactMap { group -> Int? in group.objectKeys.first.flatMap { group[$0]?["count"]?.intValue } }
        #expect(counts == counts.sorted(by: >))
        #expect(counts.reduce(0, +) == 240)  // 2 logs × 120 events, each with a user
        #expect(response.json?["search_stats"]?["events_checked"] == 240)
        let series = statistics["groups_timeseries"]?.arrayValue?.first
        let name = try #require(series?.objectKeys.first)
        #expect(series?[name]?["series"]?.arrayValue?.count == 10)
    }

    /// LSO docs: calculate without groupby answers `stats.global_timeseries`.
    @Test(arguments: [("calculate(count)", 240), ("where(result=FAILED) calculate(count)", -1), ("calculate(unique:user)", 5)])
    func calculateAnswersOneFigure(statement: String, expected: Int) async throws {
        let emulator = emulator()
        let ids = try await logIDs(emulator)
        let response = try await emulator.handle(Fixture.query("/query/logs/\(ids.joined(separator: ":"))", window + [("query", statement)], host: logsHost))
        let function = statement.contains("unique") ? "unique" : "count"
        let figure = try #require(response.json?["statistics"]?["stats"]?["global_timeseries"]?[function]?.intValue)
        if expected >= 0 { #expect(figure == expected) } else { #expect(figure > 0 && figure < 240) }
        let series = response.json?["statistics"]?["timeseries"]?["global_timeseries"]?.arrayValue ?? []
        #expect(series.count == 10)
        if function == "count" { #expect(series.compactMap { $0["count"]?.intValue }.reduce(0, +) == figure) }
    }

    /// log_id7.json.resp: a statistical query in progress answers `partial` with status 204.
    @Test func aStatisticalQueryInProgressAnswersPartial() async throws {
        let emulator = emulator(polls: 1)
        let ids = try await logIDs(emulator)
        let started = try await emulator.handle(Fixture.query("/query/logs/\(ids[0])", window + [("query", "groupby(user) limit(2)")], host: logsHost))
        #expect(started.status == 202)
        #expect(started.json?["partial"]?["status"] == 204)
        let link = try #require(started.json?["links"]?.arrayValue?.first?["href"]?.stringValue)
        let done = try await emulator.handle(Fixture.request("GET", logsHost, path: URLComponents(string: link)!.path))
        #expect(done.status == 200)
        #expect(done.json?["statistics"]?["groups"]?.arrayValue?.count == 2)
    }

    /// get_all_saved_queries.json.resp and get_a_saved_query_404.json.resp.
    @Test func savedQueriesListAndGetAndAnUnknownIs404() async throws {
        let emulator = emulator()
        let list = try await emulator.handle(Fixture.request("GET", logsHost, path: "/query/saved_queries"))
        let first = try #require(list.json?["saved_queries"]?.arrayValue?.first)
        Contract.check(first, ["id": .string, "name": .string, "leql": .object, "logs": .array])
        Contract.check(first["leql"], ["statement": .string, "during": .object])
        let id = try #require(first["id"]?.stringValue)
        let one = try await emulator.handle(Fixture.request(path: "/log_search/query/saved_queries/\(id)"))
        #expect(one.json == ["saved_query": first])
        let missing = try await emulator.handle(Fixture.request("GET", logsHost, path: "/query/saved_queries/00000000-0000-0000-0000-000000000000"))
        #expect(missing.status == 404)
        #expect(missing.json == ["message": "HTTP 404 Not Found"])
    }

    /// LSO docs: `leql.during` echoes the time_range; each event links its context.
    @Test func timeRangeIsEchoedAndEventsLinkTheirContext() async throws {
        let emulator = emulator()
        let ids = try await logIDs(emulator)
        let response = try await emulator.handle(Fixture.query("/query/logs/\(ids[0])", [("time_range", "last 2 days"), ("per_page", "1")], host: logsHost))
        #expect(response.json?["leql"]?["during"]?["time_range"] == "last 2 days")
        #expect(response.json?["leql"]?["during"]?["from"]?.intValue != nil)
        let link = try #require(response.json?["events"]?.arrayValue?.first?["links"]?.arrayValue?.first)
        #expect(link["rel"] == "Context")
        #expect(link["href"]?.stringValue?.contains("/query/context/") == true)
        #expect(link["href"]?.stringValue?.contains("context_type=SURROUND") == true)
    }

    /// LSO docs (`GET /management/logsets`); label_006/label_007.json.resp.
    @Test func logsetsDescribeThemselvesAndReservedLabelsResolve() async throws {
        let emulator = Emulator(tenants: DemoWorld.tenants(now: clock.now()), clock: clock)
        let sets = try await emulator.handle(Fixture.request("GET", logsHost, path: "/management/logsets", key: nil))
        #expect(sets.status == 401)
        let tenants = DemoWorld.tenants(now: clock.now())
        let us2 = try #require(tenants.first { $0.region == .us2 })
        let key = try #require(us2.keys.first { $0.kind == .user }?.secret)
        let listed = try await emulator.handle(Fixture.request("GET", logsHost, path: "/management/logsets", key: key))
        let names = listed.json?["logsets"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names == IDRLogSet.allCases.map(\.rawValue))
        let first = try #require(listed.json?["logsets"]?.arrayValue?.first)
        #expect(first["description"]?.stringValue?.isEmpty == false)
        Contract.check(first["logs_info"]?.arrayValue?.first, ["id": .string, "name": .string, "rrn": .string, "links": .array])
        for (serial, name) in [(6, "Out of order entry"), (7, "Out of events"), (3, "Exception")] {
            let label = try await emulator.handle(Fixture.request("GET", logsHost, path: "/management/labels/00000000-0000-0000-0000-00000000000\(serial)", key: key))
            #expect(label.json?["label"]?["name"]?.stringValue == name)
            #expect(label.json?["label"]?["sn"]?.intValue == serial)
        }
    }

    /// Each standard log set's events carry that set's fields (log_id5.json.resp for Asset Authentication).
    @Test func demoEventsLookLikeTheirLogSet() async throws {
        let tenant = try #require(DemoWorld.tenants(now: clock.now()).first)
        for log in tenant.logSources {
            let event = try #require(tenant.logEvents[log.id]?.first)
            let message = try #require(JSON(data: Data(event.message.utf8)))
            let wanted: String
            switch IDRLogSet(rawValue: log.logsetName) {
            case .assetAuthentication?: wanted = "destination_account"
            case .adAdminActivity?: wanted = "target_account"
            case .ingressAuthentication?: wanted = "geoip_country_code"
            case .firewallActivity?: wanted = "connection_status"
            case .dnsQuery?: wanted = "top_private_domain"
            case .webProxy?: wanted = "http_status"
            case .endpointActivity?: wanted = "process"
            case nil: wanted = "?"
            }
            #expect(message[wanted] != nil, "\(log.logsetName): \(event.message)")
            #expect(message["timestamp"]?.stringValue == Date(timeIntervalSince1970: Double(event.timestamp) / 1000).iso8601Millis)
        }
    }
}

@Suite struct EveryNewRouteIsGuardedTests {
    static let routes: [(String, String)] = [
        ("GET", "/idr/at/alerts/rrn:alerts:x/actors"), ("GET", "/idr/at/alerts/rrn:alerts:x/evidences"),
        ("POST", "/idr/v1/users/_search"), ("POST", "/idr/v1/assets/_search"), ("GET", "/idr/v1/assets/rrn:uba:x"),
        ("GET", "/idr/v1/comments"), ("POST", "/idr/v1/comments"), ("DELETE", "/idr/v1/comments/rrn:x"),
        ("GET", "/idr/v1/attachments"), ("POST", "/idr/v1/attachments"), ("GET", "/idr/v1/attachments/rrn:x"),
        ("GET", "/idr/v1/attachments/rrn:x/metadata"), ("DELETE", "/idr/v1/attachments/rrn:x"),
        ("POST", "/idr/v1/customthreats"), ("POST", "/idr/v1/customthreats/key/k/indicators/add"),
        ("POST", "/idr/v1/customthreats/key/k/indicators/replace"), ("POST", "/idr/v1/investigations/bulk_close"),
        ("GET", "/idr/v1/investigations/x/product_alerts"), ("GET", "/log_search/query/saved_queries"),
        ("GET", "/log_search/query/saved_queries/x"),
    ]

    /// 401 without a key, 403 for a user without InsightIDR (or without Log Search), and the
    /// IDR error shape `{message, correlation_id}` on both.
    @Test func withoutAKeyOrAProductEachRouteIsRefused() async throws {
        let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())
        for (method, path) in Self.routes {
            let anonymous = try await emulator.handle(Fixture.request(method, path: path, key: nil))
            #expect(anonymous.status == 401, "\(method) \(path)")
            let refused = try await emulator.handle(Fixture.request(method, path: path, key: Fixture.noProductKey))
            #expect(refused.status == 403, "\(method) \(path)")
        }
    }
}

/// docs/FIDELITY.md names every route the emulator serves, so the table cannot fall behind.
@Suite struct FidelityTableTests {
    @Test func everyRouteIsInTheTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let table = try String(contentsOf: root.appendingPathComponent("docs/FIDELITY.md"), encoding: .utf8)
        for route in Router.platform + Router.logSearch {
            let path = "/" + route.pattern.joined(separator: "/")
            #expect(table.contains("`\(path)`"), "docs/FIDELITY.md does not name \(path)")
        }
    }
}

@Suite struct StatisticsBoundTests {
    let clock = VirtualClock()

    func merge(_ tenant: Tenant) -> (EventMerge, (Int64, Int64)) {
        let window = (clock.now().addingTimeInterval(-2 * 86_400).unixMillis, clock.now().unixMillis)
        let logs = tenant.logSources.compactMap { tenant.logEvents[$0.id] }
        return (EventMerge(logs: logs, keys: Set(tenant.logSources.map(\.id)), window: window, newestFirst: false, leql: .all), window)
    }

    /// Past the read bound a statistic says it is not exact; a plain count never needs to read.
    @Test func beyondTheBoundAStatisticIsMarkedInexactAndAPlainCountStaysExact() throws {
        let (merge, window) = merge(Fixture.rich())
        let filtered = try LEQL.parseQuery("where(result=FAILED) calculate(count)")
        let (partial, partialStats) = EmulatorState.statistics(filtered, merge: merge, window: window, cap: 100)
        #expect(partial["all_exact_result"] == false)
        #expect(partialStats["events_checked"] == 100)
        let (whole, wholeStats) = EmulatorState.statistics(try LEQL.parseQuery("calculate(count)"), merge: merge, window: window, cap: 100)
        #expect(whole["all_exact_result"] == true)
        #expect(whole["stats"]?["global_timeseries"]?["count"] == 240)
        #expect(wholeStats["events_matched"] == 240)
        // Counted by position, it agrees with counting by reading.
        let read = EmulatorState.statistics(try LEQL.parseQuery("where(bytes>=0) calculate(count)"), merge: merge, window: window).0
        #expect(read["timeseries"] == whole["timeseries"])
    }
}

/// Alert pages are written straight to bytes; they must be the bytes the canonical encoder
/// writes of the same alerts.
@Suite struct AlertBytesTests {
    @Test(arguments: [Region.us, .us2, .eu])
    func directBytesEqualTheCanonicalEncoding(region: Region) async throws {
        var tenant = Fixture.rich(region: region)
        tenant.organizationName = "Quote \"and\" back\\slash"
        var explicit = tenant.alerts[0]
        explicit.investigationRRN = nil
        explicit.rrn += "x"
        tenant.alerts.append(explicit)
        let organization = AlertOrganization(tenant)
        for alert in Array(tenant.alerts.prefix(5)) + [explicit] {
            var bytes: [UInt8] = []
            EmulatorState.writeAlert(alert, organization: organization, accounts: tenant.accounts, into: &bytes)
            #expect(bytes == EmulatorState.alertJSON(alert, tenant: tenant).canonicalBytes(), "\(String(decoding: bytes, as: UTF8.self))")
        }
        let emulator = Emulator(tenants: [tenant], clock: VirtualClock())
        let host = "\(region.code).api.insight.rapid7.com"
        let page = try await emulator.handle(Fixture.json("POST", "/idr/at/alerts/ops/search?size=3&index=1", ["search": [:]], host: host))
        let json = try #require(page.json)
        let alerts = json["alerts"]?.arrayValue ?? []
        let expected: JSON = [
            "aggregates": [], "alerts": .array(alerts), "region_failures": [],
            "rrns": .array(alerts.map { $0["rrn"] ?? .null }),
            "metadata": ["index": 1, "size": 3, "items_in_index": 3, "total_items": .int(Int64(tenant.alerts.count)), "is_last_index": false],
        ]
        #expect([UInt8](page.body) == expected.canonicalBytes())
        let rrnsOnly = try await emulator.handle(Fixture.json("POST", "/idr/at/alerts/ops/search?size=2&rrns_only=true", ["search": [:]], host: host))
        #expect(rrnsOnly.json?["alerts"] == [])
        #expect(rrnsOnly.json?["rrns"]?.arrayValue?.count == 2)
    }
}

@Suite struct EventBytesTests {
    @Test func directBytesEqualTheCanonicalEncoding() {
        let base = "https://us2.rest.logs.insight.rapid7.com/query"
        for event in [LogSearchEvent(logID: "565c1b7b", timestamp: 1_609_629_969_390, sequenceNumber: 2_234_733_321_019_952_220,
                                     message: #"{"user":"a\"b","path":"C:\\x"}"#),
                      LogSearchEvent(logID: "x", timestamp: 0, sequenceNumber: 1, message: "plain\ttext\u{1}")] {
            var bytes: [UInt8] = []
            EmulatorState.writeEvent(event, base: base, into: &bytes)
            #expect(bytes == EmulatorState.eventJSON(event, base: base).canonicalBytes())
        }
    }
}

/// The journal keeps a bounded text of each request, whatever the request's size.
@Suite struct JournalBoundTests {
    @Test func hugePathsQueriesAndHeaderListsAreClipped() async throws {
        let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())
        var request = Fixture.request(path: "/" + String(repeating: "a", count: 100_000),
                                      query: [URLQueryItem(name: "q", value: String(repeating: "é", count: 50_000))])
        for number in 0..<5_000 { request.headers.add("x-h\(number)", "v") }
        _ = try await emulator.handle(request)
        let entry = try #require(emulator.journal.ordered.last)
        #expect(entry.path.utf8.count < Journal.maxText + 40)
        #expect(entry.path.hasSuffix("…(+97953 bytes)"))
        #expect(entry.query.utf8.count < Journal.maxText + 40)
        #expect(entry.headerNames.count == Journal.maxHeaderNames + 1)
        #expect(entry.headerNames.last == "…(+4937 headers)")
        // An ordinary request is kept whole.
        _ = try await emulator.handle(Fixture.request(path: "/validate"))
        #expect(emulator.journal.ordered.last?.path == "/validate")
    }
}

/// A key sent in the query (`?api_key=`) never reaches the journal (found by scripts/check-secrets.sh).
@Suite struct JournalSecretTests {
    @Test func secretNamedQueryValuesAreRedacted() async throws {
        let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())
        let canary = "c4n4ry0k-3y+s3cr3t/4a7e-9d2c=11f0"
        _ = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations", key: nil, query: [
            URLQueryItem(name: "api_key", value: canary), URLQueryItem(name: "accessToken", value: canary), URLQueryItem(name: "size", value: "5"),
        ]))
        let entry = try #require(emulator.journal.ordered.last)
        #expect(entry.query == "api_key=<redacted>&accessToken=<redacted>&size=5")
        #expect(!"\(emulator.journal.ordered)".contains(canary))
    }
}
