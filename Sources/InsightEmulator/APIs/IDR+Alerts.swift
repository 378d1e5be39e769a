import Foundation
import InsightCore

/// `/idr/at` alerts, IDR users and accounts (reference §4).
extension EmulatorState {
    /// `POST /idr/at/alerts/ops/search?rrns_only=&size=&index=`. Here `index` is an item offset:
    /// the IDR plugin steps it by 100 until `total_items` (reference §4).
    mutating func searchAlerts(_ request: HTTPRequest, tenant: Int, now: Date) -> HTTPResponse {
        let offset = request.queryValue("index").map { Int($0) } ?? 0
        let size = request.queryValue("size").map { Int($0) } ?? 100
        guard let offset, offset >= 0 else { return badRequest("index must be a whole number of 0 or more") }
        guard offset <= Self.maxIndex else { return badRequest("index must be at most \(Self.maxIndex)") }
        guard let size, (1...1000).contains(size) else { return badRequest("size must be between 1 and 1000") }
        let body: JSON
        if request.body.isEmpty {
            body = [:]
        } else {
            guard let parsed = JSON(data: request.body), case .object = parsed else { return badRequest("the body must be a JSON object") }
            body = parsed
        }
        let alerts = tenants[tenant].alerts
        var query = TimeOrdered(records: alerts, generatedTime: { alerts.recipe.unsafelyUnwrapped.time(at: $0) }, time: \.createdTime)
        query.descending = true
        for (name, isStart) in [("start_time", true), ("end_time", false)] {
            guard let text = body["search"]?[name]?.stringValue else { continue }
            guard let date = Self.parseTime(text) else { return badRequest("search.\(name) must be like 2026-01-01T00:00:00Z") }
            if isStart { query.lower = .init(time: date, inclusive: true) } else { query.upper = .init(time: date, inclusive: false) }
        }
        var filters: [(Alert) -> Bool] = []
        if let terms = body["search"]?["terms"]?.arrayValue {
            for term in terms {
                guard let field = term["field_id"]?.stringValue, let values = term["field_values"]?.arrayValue?.compactMap(\.stringValue)
                else { return badRequest("search.terms items need field_id and field_values") }
                filters.append { alert in
                    let value = field == "priority" ? alert.priority : field == "status" ? alert.status : alert.alertType
                    return values.contains { $0.caseInsensitiveCompare(value) == .orderedSame }
                }
            }
        }
        if !filters.isEmpty { query.filter = { alert in filters.allSatisfy { $0(alert) } } }
        let (page, total) = query.page(offset: offset, limit: size)
        let rrnsOnly = request.queryValue("rrns_only") == "true"
        // Written straight to bytes, keys in the canonical order: aggregates, alerts, metadata,
        // region_failures, rrns.
        let organization = AlertOrganization(tenants[tenant])
        var answer: [UInt8] = []
        answer.reserveCapacity(256 + page.count * (rrnsOnly ? 120 : 1500))
        answer.append(contentsOf: #"{"aggregates":[],"alerts":["#.utf8)
        if !rrnsOnly {
            for (offset, alert) in page.enumerated() {
                if offset > 0 { answer.append(UInt8(ascii: ",")) }
                Self.writeAlert(alert, organization: organization, accounts: tenants[tenant].accounts, into: &answer)
            }
        }
        answer.append(contentsOf: #"],"metadata":{"index":\#(offset),"is_last_index":\#(offset + page.count >= total),"items_in_index":\#(page.count),"size":\#(size),"total_items":\#(total)},"region_failures":[],"rrns":["#.utf8)
        for (offset, alert) in page.enumerated() {
            if offset > 0 { answer.append(UInt8(ascii: ",")) }
            JSON.appendString(alert.rrn, to: &answer)
        }
        answer.append(contentsOf: "]}".utf8)
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Data(answer))
    }

    mutating func getAlert(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        let alerts = tenants[tenant].alerts, id = match.param("rrn")
        guard let position = alerts.generatedPosition(of: id) ?? alerts[alerts.generatedCount...].firstIndex(where: { $0.rrn == id || $0.id == id })
        else { return error(404, "Alert not found", .platform) }
        let alert = alerts[position]
        return .json(200, Self.alertJSON(alert, tenant: tenants[tenant]))
    }

    /// A whole `/idr/at` alert, in the shape of the IDR plugin's recorded answer
    /// (unit_test/payloads/test_get_alert_information.json.resp): no `detection_rule_rrn` or
    /// `type_description` at this level; the rule is an object with its MITRE codes. Values the
    /// recording cannot give (external source per type, the rule keys) are ASSUMED from the
    /// alert's type, and fixed by its rrn so the same alert always reads the same.
    static func alertJSON(_ alert: Alert, tenant: Tenant) -> JSON {
        let view = AlertView(alert, organization: AlertOrganization(tenant), accounts: tenant.accounts)
        func keys(_ pairs: [(String, String)]) -> JSON {
            .array(pairs.map { ["key": .string($0.0), "values": [.string($0.1)]] })
        }
        let organization = view.organization
        var json: JSON = [
            "rrn": .string(alert.rrn), "version": 1,
            "created_at": .string(view.created), "updated_at": .string(view.created), "alerted_at": .string(view.alerted),
            "ingested_at": .string(view.ingested), "external_source": .string(view.kind.externalSource), "external_id": .string(alert.id),
            "organization": [
                "id": .string(organization.id), "name": .string(organization.name), "region": .string(organization.region),
                "product_token": .string(organization.productToken), "customer_id": .string(organization.id),
                "customer_name": .string(organization.name), "flags": [],
            ],
            "title": .string(alert.title), "type": .string(alert.alertType),
            "rule": ["rrn": .string(alert.detectionRuleRRN), "mitre_tcodes": .array(view.kind.mitre.map(JSON.string)),
                     "version_rrn": .string(view.versionRRN)],
            "rule_matching_keys": keys(view.matchingKeys), "rule_keys_of_interest": keys(view.keysOfInterest),
            "responsibility": "CUSTOMER", "priority": .string(alert.priority), "status": .string(alert.status),
            "disposition": .string(alert.disposition), "investigation_rrn": alert.investigationRRN.map(JSON.string) ?? .null,
            "tags": [], "permissions": ["canEdit": true], "fields": [],
        ]
        // ASSUMED: an assigned alert names its assignee's id; an unassigned one has no key (as recorded).
        if let assignee = alert.assigneeID, case .object(var object) = json {
            object["assignee"] = ["id": .string(assignee)]
            json = .object(object)
        }
        return json
    }

    /// The same alert written straight to bytes, in the canonical encoder's key order (a search
    /// page of 100 costs copies, not a JSON tree per alert); `AlertBytesTests` checks the bytes
    /// against `alertJSON`'s.
    static func writeAlert(_ alert: Alert, organization: AlertOrganization, accounts: [Account], into bytes: inout [UInt8]) {
        let view = AlertView(alert, organization: organization, accounts: accounts)
        func key(_ name: String) { bytes.append(contentsOf: name.utf8) }  // names are literal, with quotes and colon
        func string(_ text: String) { JSON.appendString(text, to: &bytes) }
        func pairs(_ list: [(String, String)]) {
            bytes.append(UInt8(ascii: "["))
            for (offset, pair) in list.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                key(#"{"key":"#); string(pair.0); key(#","values":["#); string(pair.1); key("]}")
            }
            bytes.append(UInt8(ascii: "]"))
        }
        key(#"{"alerted_at":"#); string(view.alerted)
        if let assignee = alert.assigneeID { key(#","assignee":{"id":"#); string(assignee); key("}") }
        key(#","created_at":"#); string(view.created)
        key(#","disposition":"#); string(alert.disposition)
        key(#","external_id":"#); string(alert.id)
        key(#","external_source":"#); string(view.kind.externalSource)
        key(#","fields":[],"ingested_at":"#); string(view.ingested)
        key(#","investigation_rrn":"#)
        if let rrn = alert.investigationRRN { string(rrn) } else { key("null") }
        key(#","organization":"#); bytes.append(contentsOf: organization.bytes)
        key(#","permissions":{"canEdit":true},"priority":"#); string(alert.priority)
        key(#","responsibility":"CUSTOMER","rrn":"#); string(alert.rrn)
        key(#","rule":{"mitre_tcodes":["#)
        for (offset, code) in view.kind.mitre.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            string(code)
        }
        key(#"],"rrn":"#); string(alert.detectionRuleRRN)
        key(#","version_rrn":"#); string(view.versionRRN)
        key(#"},"rule_keys_of_interest":"#); pairs(view.keysOfInterest)
        key(#","rule_matching_keys":"#); pairs(view.matchingKeys)
        key(#","status":"#); string(alert.status)
        key(#","tags":[],"title":"#); string(alert.title)
        key(#","type":"#); string(alert.alertType)
        key(#","updated_at":"#); string(view.created)
        key(#","version":1}"#)
    }

    /// The alerts service's region name: us1 for the first US region (test_get_alert_information).
    static func alertsRegion(_ tenant: Tenant) -> String { tenant.region == .us ? "us1" : tenant.region.code }

    /// The asset and the account an alert is about, fixed by its rrn: one of the tenant's
    /// generated assets, and one of its accounts (or a made-up one when it has none).
    static func alertSubjects(_ alert: Alert, tenant: Tenant) -> (host: String, account: String) {
        alertSubjects(alert, accounts: tenant.accounts)
    }

    static func alertSubjects(_ alert: Alert, accounts: [Account]) -> (host: String, account: String) {
        let digest = stableHash(alert.rrn)
        let host = Tenant.assetName(Int(digest % UInt64(Tenant.assetCount)))
        let account = accounts.isEmpty ? "user\(digest % 97 + 1)" : accounts[Int(digest % UInt64(accounts.count))].name
        return (host, account)
    }

    /// The alert an `/idr/at/alerts/{rrn}/…` path names, or nil.
    func alert(_ tenant: Int, _ id: String) -> Alert? {
        let alerts = tenants[tenant].alerts
        guard let position = alerts.generatedPosition(of: id) ?? alerts[alerts.generatedCount...].firstIndex(where: { $0.rrn == id || $0.id == id })
        else { return nil }
        return alerts[position]
    }

    /// `size` (default 100, 1–1000) and `index` (an item offset) of the `/idr/at` lists, and the
    /// metadata they answer with (test_get_alert_actors_minimum.json.resp).
    mutating func atPage(_ request: HTTPRequest, items: [JSON], key: String) -> HTTPResponse {
        let offset = request.queryValue("index").map { Int($0) } ?? 0
        let size = request.queryValue("size").map { Int($0) } ?? 100
        guard let offset, offset >= 0, offset <= Self.maxIndex else { return badRequest("index must be a whole number of 0 or more") }
        guard let size, (1...1000).contains(size) else { return badRequest("size must be between 1 and 1000") }
        let page = Array(items.dropFirst(offset).prefix(size))
        return .json(200, [key: .array(page),
                           "metadata": ["index": .int(Int64(offset)), "size": .int(Int64(size)), "items_in_index": .int(Int64(page.count)),
                                        "total_items": .int(Int64(items.count)), "is_last_index": .bool(offset + page.count >= items.count)]])
    }

    /// `GET /idr/at/alerts/{rrn}/actors?size=&index=`: the account and the asset the alert is about
    /// (IDR plugin test_get_alert_actors_minimum.json.resp shows an ACCOUNT actor).
    mutating func alertActors(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        guard let alert = alert(tenant, match.param("rrn")) else { return error(404, "Alert not found", .platform) }
        let (host, account) = Self.alertSubjects(alert, tenant: tenants[tenant])
        let prefix = "rrn:alerts:\(Self.alertsRegion(tenants[tenant])):\(tenants[tenant].organizationID):actor:1:"
        func actor(_ type: String, _ name: String) -> JSON {
            let digest = stableHash(alert.rrn + type)
            var actor: [String: JSON] = ["rrn": .string(prefix + String(format: "%016llx%016llx", digest, stableHash(name))),
                                         "id": .string(Self.uuid(digest)), "type": .string(type), "display_name": .string(name)]
            if type == "ACCOUNT" { actor["user_id"] = .string(Self.uuid(stableHash(name))) }
            return .object(actor)
        }
        return atPage(request, items: [actor("ACCOUNT", account), actor("ASSET", host)], key: "actors")
    }

    /// `GET /idr/at/alerts/{rrn}/evidences?size=&index=`: the event that raised the alert, its
    /// `data` a JSON string (test_get_alert_evidence_minimum.json.resp). ASSUMED fields of `data`
    /// per event type, with `r7_context` naming the account and asset.
    mutating func alertEvidences(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        guard let alert = alert(tenant, match.param("rrn")) else { return error(404, "Alert not found", .platform) }
        let kind = AlertKind.of(alert.alertType)
        let (host, account) = Self.alertSubjects(alert, tenant: tenants[tenant])
        let digest = stableHash(alert.rrn + "evidence")
        let data: JSON = [
            "timestamp": .string(RFC3339.format(alert.firstEventTime, millis: true)), "account": .string(account), "user": .string(account),
            "result": "SUCCESS", "source_ip": .string("203.0.113.\(digest % 250 + 1)"), "asset": .string(host),
            "r7_context": ["account": ["type": "account", "name": .string(account)], "asset": ["type": "asset", "name": .string(host)]],
        ]
        let evidence: JSON = [
            "rrn": .string("rrn:alerts:\(Self.alertsRegion(tenants[tenant])):\(tenants[tenant].organizationID):evidence:1:" + String(format: "%016llx%016llx", digest, stableHash(host))),
            "version": 1, "created_at": .string(alert.createdTime.iso8601), "updated_at": .string(alert.createdTime.iso8601),
            "evented_at": .string(alert.firstEventTime.iso8601), "external_source": .string(kind.externalSource),
            "event_type": .string(kind.eventType), "data": .string(String(decoding: data.encoded(), as: UTF8.self)),
        ]
        return atPage(request, items: [evidence], key: "evidences")
    }

    /// A UUID fixed by a number, for ids derived from rrns.
    static func uuid(_ value: UInt64) -> String {
        let low = value &* 0x9E37_79B9_7F4A_7C15
        let hex = String(format: "%016llx%016llx", value, low)
        let chars = Array(hex)
        return "\(String(chars[0..<8]))-\(String(chars[8..<12]))-4\(String(chars[13..<16]))-a\(String(chars[17..<20]))-\(String(chars[20..<32]))"
    }

    /// A search criterion `{field, operator, value}` as a test of a text: EQUALS or (the default)
    /// CONTAINS, any case.
    static func criterionTest(_ criterion: JSON) -> (String) -> Bool {
        let value = criterion["value"]?.stringValue ?? ""
        let equals = (criterion["operator"]?.stringValue ?? "CONTAINS").uppercased() == "EQUALS"
        return { equals ? $0.equalsIgnoringCase(value) : $0.localizedCaseInsensitiveContains(value) }
    }

}

/// What every alert of an organization says of it, worked out once per page: the organization
/// object (its bytes too) and the alerts service's region name.
struct AlertOrganization {
    let id: String
    let name: String
    let region: String
    let productToken: String
    let bytes: [UInt8]

    init(_ tenant: Tenant) {
        id = tenant.organizationID
        name = tenant.organizationName
        region = EmulatorState.alertsRegion(tenant)
        // ASSUMED: a 20-character upper-case hex token, fixed by the organization.
        let hex = String(stableHash(id), radix: 16, uppercase: true)
        productToken = String(repeating: "0", count: max(0, 20 - hex.count)) + hex
        var bytes: [UInt8] = []
        bytes.append(contentsOf: #"{"customer_id":"#.utf8); JSON.appendString(id, to: &bytes)
        bytes.append(contentsOf: #","customer_name":"#.utf8); JSON.appendString(name, to: &bytes)
        bytes.append(contentsOf: #","flags":[],"id":"#.utf8); JSON.appendString(id, to: &bytes)
        bytes.append(contentsOf: #","name":"#.utf8); JSON.appendString(name, to: &bytes)
        bytes.append(contentsOf: #","product_token":"#.utf8); JSON.appendString(productToken, to: &bytes)
        bytes.append(contentsOf: #","region":"#.utf8); JSON.appendString(region, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        self.bytes = bytes
    }
}

/// The parts of an alert's answer that are worked out from it: times as text, the rule's
/// version, who and what it is about, and the rule keys.
struct AlertView {
    let organization: AlertOrganization
    let kind: AlertKind
    let created: String
    let alerted: String
    let ingested: String
    let versionRRN: String
    let matchingKeys: [(String, String)]
    let keysOfInterest: [(String, String)]

    init(_ alert: Alert, organization: AlertOrganization, accounts: [Account]) {
        self.organization = organization
        kind = AlertKind.of(alert.alertType)
        created = alert.createdTime.iso8601
        alerted = alert.latestEventTime.iso8601
        ingested = alert.createdTime.addingTimeInterval(-1).iso8601
        // rrn:…:detection-rule:TOKEN → rrn:…:detection-rule:version:TOKEN (the recording's pair).
        let rule = alert.detectionRuleRRN
        if let colon = rule.lastIndex(of: ":") {
            versionRRN = rule[..<colon] + ":version" + rule[colon...]
        } else {
            versionRRN = rule + ":version"
        }
        let digest = stableHash(alert.rrn)
        let (host, account) = EmulatorState.alertSubjects(alert, accounts: accounts)
        matchingKeys = [("entryType", kind.eventType), ("orgId", organization.id)]
        var interest: [(String, String)] = [("result", "SUCCESS"), ("account", account)]
        if kind.eventType == "ingress_auth" {
            interest += [("geoip_country_code", "US"), ("source_ip", "203.0.113.\(digest % 250 + 1)")]
        } else {
            interest.append(("asset", host))
        }
        keysOfInterest = interest
    }
}

/// What an alert's type implies: its MITRE codes, the event type it was raised on, the source
/// that raised it and the rule's name. ASSUMED per type (the recordings show one alert:
/// "Credential Access", "T1110" on `ingress_auth`, external source "IDR ABA").
struct AlertKind {
    let mitre: [String]
    let eventType: String
    let externalSource: String
    let ruleName: String

    static func of(_ type: String) -> AlertKind {
        switch type {
        case "Suspicious Authentication":
            return AlertKind(mitre: ["Credential Access", "T1110"], eventType: "ingress_auth", externalSource: "IDR UBA",
                             ruleName: "Suspicious Authentication - Ingress From Unusual Location")
        case "Lateral Movement - Domain Credentials":
            return AlertKind(mitre: ["Lateral Movement", "T1021"], eventType: "asset_auth", externalSource: "IDR UBA",
                             ruleName: "Lateral Movement - Domain Credentials Used on New Asset")
        default:
            return AlertKind(mitre: ["Execution", "T1059"], eventType: "process_start_event", externalSource: "IDR ABA",
                             ruleName: "Attacker Technique - Suspicious Command Line")
        }
    }
}

/// FNV-1a: a value fixed by a string, for details that must read the same on every request.
func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}
