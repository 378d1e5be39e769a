import Foundation
import InsightCore

/// InsightIDR investigations, v1 and v2 (reference §4).
extension EmulatorState {
    static let statuses = ["OPEN", "INVESTIGATING", "WAITING", "CLOSED"]
    static let priorities = ["UNMAPPED", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
    static let sources = ["USER", "ALERT", "HUNT", "AUTOMATION"]
    static let dispositions = ["BENIGN", "FALSE_POSITIVE", "MALICIOUS", "NOT_APPLICABLE", "SECURITY_TEST", "UNDECIDED", "UNKNOWN"]
    static let sortFields = ["created_time", "priority", "rrn", "title", "status", "last_accessed",
                             "alerts_most_recent_created_time", "alerts_most_recent_detection_created_time", "responsibility"]

    static let maxIndex = 100_000_000

    /// A 400 in the IDR shape.
    mutating func badRequest(_ message: String) -> HTTPResponse { error(400, message, .platform) }

    /// `index` (0-based page) and `size` (1–100) from the query, or the 400 that explains them.
    mutating func paging(_ request: HTTPRequest, defaultSize: Int = 20) -> Result<(index: Int, size: Int), HTTPResponse> {
        let index = request.queryValue("index").map { Int($0) } ?? 0
        let size = request.queryValue("size").map { Int($0) } ?? defaultSize
        guard let index, index >= 0 else { return .failure(badRequest("index must be a whole number of 0 or more")) }
        // ASSUMED bound (the public record names none): far beyond any tenant's last page, and
        // small enough that index × size cannot overflow.
        guard index <= Self.maxIndex else { return .failure(badRequest("index must be at most \(Self.maxIndex)")) }
        guard let size, (1...100).contains(size) else { return .failure(badRequest("size must be between 1 and 100")) }
        return .success((index, size))
    }

    /// A page of items with the v2 `metadata {index, size, total_data, total_pages}`.
    static func page(_ items: [JSON], index: Int, size: Int) -> JSON {
        page(Array(items.dropFirst(index * size).prefix(size)), index: index, size: size, total: items.count)
    }

    /// A page already cut from `total` items.
    static func page(_ slice: [JSON], index: Int, size: Int, total: Int) -> JSON {
        let pages = total == 0 ? 0 : (total + size - 1) / size
        return ["data": .array(slice),
                "metadata": ["index": .int(Int64(index)), "size": .int(Int64(slice.count)),
                             "total_data": .int(Int64(total)), "total_pages": .int(Int64(pages))]]
    }

    mutating func listInvestigations(_ request: HTTPRequest, tenant: Int, now: Date, version: Int) -> HTTPResponse {
        let paging: (index: Int, size: Int)
        switch self.paging(request) {
        case .success(let found): paging = found
        case .failure(let response): return response
        }
        var start = now.addingTimeInterval(-28 * 86_400)
        var end = now
        for (name, bound) in [("start_time", 0), ("end_time", 1)] {
            guard let text = request.queryValue(name) else { continue }
            guard let date = Self.parseTime(text) else { return badRequest("\(name) must be like 2026-01-01T00:00:00Z") }
            if bound == 0 { start = date } else { end = date }
        }
        var filters: [(Investigation) -> Bool] = []
        for (name, allowed, field) in [("statuses", Self.statuses, \Investigation.status),
                                       ("priorities", Self.priorities, \Investigation.priority),
                                       ("sources", Self.sources, \Investigation.source)] {
            guard let text = request.queryValue(name) else { continue }
            let wanted = Set(text.uppercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            if let bad = wanted.first(where: { !allowed.contains($0) }) {
                return badRequest("\(name): '\(bad)' is not one of \(allowed.joined(separator: ", "))")
            }
            filters.append { wanted.contains($0[keyPath: field]) }
        }
        if let email = request.queryValue("assignee.email") {
            filters.append { $0.assigneeEmail?.caseInsensitiveCompare(email) == .orderedSame }
        }
        var sort = ("created_time", true)
        if let text = request.queryValue("sort") {
            let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let field = parts.first, Self.sortFields.contains(field),
                  parts.count == 1 || ["ASC", "DESC"].contains(parts[1].uppercased())
            else { return badRequest("sort must be FIELD,ASC or FIELD,DESC with FIELD one of \(Self.sortFields.joined(separator: ", "))") }
            sort = (field, parts.count == 1 || parts[1].uppercased() == "ASC")
        }
        // reference §4: start/end bounds are exclusive.
        var query = investigationQuery(tenant)
        query.lower = .init(time: start, inclusive: false)
        query.upper = .init(time: end, inclusive: false)
        if !filters.isEmpty { query.filter = { item in filters.allSatisfy { $0(item) } } }
        return investigationPage(query, sort: sort, paging: paging, tenant: tenant, version: version)
    }

    /// A tenant's investigations in time order, for paging and filtering.
    func investigationQuery(_ tenant: Int) -> TimeOrdered<InvestigationRecipe> {
        let investigations = tenants[tenant].investigations
        return TimeOrdered(records: investigations, generatedTime: { investigations.recipe.unsafelyUnwrapped.time(at: $0) },
                           time: \.createdTime)
    }

    /// One page of a query in v1 or v2 shape. `created_time` and `last_accessed` (which only
    /// creation sets) are the time order itself; another field keeps the best `(index + 1) × size`
    /// while it walks, so memory stays bounded whatever the tenant holds.
    mutating func investigationPage(_ query: TimeOrdered<InvestigationRecipe>, sort: (field: String, ascending: Bool),
                                    paging: (index: Int, size: Int), tenant: Int, version: Int) -> HTTPResponse
    {
        var query = query
        let page: [Investigation]
        let total: Int
        if sort.field == "created_time" || sort.field == "last_accessed" {
            query.descending = !sort.ascending
            let (positions, count) = query.pagePositions(offset: paging.index * paging.size, limit: paging.size)
            if version == 2 {
                return v2Page(positions: positions, total: count, paging: paging, tenant: tenant)
            }
            (page, total) = (positions.map { query.records[$0] }, count)
        } else {
            let keep = (paging.index + 1) * paging.size
            var best: [(key: String, order: Int, item: Investigation)] = []
            var seen = 0
            let before: ((key: String, order: Int, item: Investigation), (key: String, order: Int, item: Investigation)) -> Bool = {
                $0.key == $1.key ? $0.order < $1.order : (sort.ascending ? $0.key < $1.key : $0.key > $1.key)
            }
            query.forEach { item in
                best.append((Self.sortKey(item, field: sort.field), seen, item))
                seen += 1
                if best.count >= 2 * keep + 64 {
                    best.sort(by: before)
                    best.removeLast(best.count - keep)
                }
            }
            best.sort(by: before)
            page = best.dropFirst(paging.index * paging.size).prefix(paging.size).map(\.item)
            total = seen
        }
        let organization = tenants[tenant].organizationID
        let items = page.map { version == 2 ? Self.investigationV2($0, organizationID: organization) : Self.investigationV1($0) }
        return .json(200, Self.page(items, index: paging.index, size: paging.size, total: total))
    }

    /// A v2 page written straight to bytes, `{"data":[…],"metadata":{…}}` as the canonical
    /// encoder writes it, each investigation's bytes kept while its generated record is unedited
    /// (bounded), so a page read again costs copies, not a JSON tree per item.
    mutating func v2Page(positions: [Int], total: Int, paging: (index: Int, size: Int), tenant: Int) -> HTTPResponse {
        let records = tenants[tenant].investigations
        let organization = tenants[tenant].organizationID
        var body: [UInt8] = []
        body.reserveCapacity(64 + positions.count * 640)
        body.append(contentsOf: #"{"data":["#.utf8)
        for (offset, position) in positions.enumerated() {
            if offset > 0 { body.append(UInt8(ascii: ",")) }
            let cacheable = position < records.generatedCount && records.edits[position] == nil
            let key = tenant << 48 | position
            if cacheable, let bytes = investigationBytes[key] {
                body.append(contentsOf: bytes)
                continue
            }
            let bytes = Self.investigationV2(records[position], organizationID: organization).canonicalBytes()
            if cacheable {
                if investigationBytes.count >= Self.investigationBytesLimit { investigationBytes.removeAll(keepingCapacity: true) }
                investigationBytes[key] = bytes
            }
            body.append(contentsOf: bytes)
        }
        let pages = total == 0 ? 0 : (total + paging.size - 1) / paging.size
        body.append(contentsOf: #"],"metadata":{"index":\#(paging.index),"size":\#(positions.count),"total_data":\#(total),"total_pages":\#(pages)}}"#.utf8)
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Data(body))
    }

    /// Investigations whose bytes are kept (about 600 bytes each).
    static let investigationBytesLimit = 20_000

    static func sortKey(_ item: Investigation, field: String) -> String {
        switch field {
        case "priority": return String(priorities.firstIndex(of: item.priority) ?? 0)
        case "rrn": return item.rrn
        case "title": return item.title
        case "status": return item.status
        case "last_accessed": return item.lastAccessed.iso8601Millis
        default: return item.createdTime.iso8601Millis
        }
    }

    /// By id or rrn: a generated one decodes its position from the id; explicit ones are few.
    func investigationIndex(_ tenant: Int, _ id: String) -> Int? {
        let investigations = tenants[tenant].investigations
        if let position = investigations.generatedPosition(of: id) { return position }
        return investigations[investigations.generatedCount...].firstIndex { $0.id == id || $0.rrn == id }
    }

    mutating func getInvestigation(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let index = investigationIndex(tenant, match.param("id")) else { return error(404, "Investigation not found", .platform) }
        return .json(200, Self.investigationV2(tenants[tenant].investigations[index], organizationID: tenants[tenant].organizationID))
    }

    /// `POST /idr/v2/investigations/_search`: `{"search":[{field,operator,value}],"sort":[{field,order}],"start_time","end_time"}`.
    mutating func searchInvestigations(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let paging: (index: Int, size: Int)
        switch self.paging(request) {
        case .success(let found): paging = found
        case .failure(let response): return response
        }
        guard let body = JSON(data: request.body), case .object = body else { return badRequest("the body must be a JSON object") }
        var query = investigationQuery(tenant)
        if let start = body["start_time"]?.stringValue {
            guard let date = Self.parseTime(start) else { return badRequest("start_time must be like 2026-01-01T00:00:00Z") }
            query.lower = .init(time: date, inclusive: false)
        }
        if let end = body["end_time"]?.stringValue {
            guard let date = Self.parseTime(end) else { return badRequest("end_time must be like 2026-01-01T00:00:00Z") }
            query.upper = .init(time: date, inclusive: false)
        }
        var filters: [(Investigation) -> Bool] = []
        for (number, criterion) in (body["search"]?.arrayValue ?? []).enumerated() {
            guard let field = criterion["field"]?.stringValue, let op = criterion["operator"]?.stringValue?.uppercased() else {
                return badRequest("search[\(number)] needs field, operator and value")
            }
            let values = criterion["value"]?.arrayValue?.compactMap(\.stringValue) ?? [criterion["value"]?.stringValue ?? ""]
            let read: (Investigation) -> String?
            switch field {
            case "title": read = { $0.title }
            case "status": read = { $0.status }
            case "priority": read = { $0.priority }
            case "source": read = { $0.source }
            case "disposition": read = { $0.disposition }
            case "rrn": read = { $0.rrn }
            case "assignee.email": read = { $0.assigneeEmail }
            default: return badRequest("search[\(number)].field '\(field)' is not searchable")
            }
            switch op {
            case "EQUALS", "IN": filters.append { item in values.contains { read(item)?.caseInsensitiveCompare($0) == .orderedSame } }
            case "NOT_EQUALS": filters.append { item in !values.contains { read(item)?.caseInsensitiveCompare($0) == .orderedSame } }
            case "CONTAINS": filters.append { item in values.contains { read(item)?.localizedCaseInsensitiveContains($0) == true } }
            default: return badRequest("search[\(number)].operator '\(op)' is not one of EQUALS, NOT_EQUALS, IN, CONTAINS")
            }
        }
        if !filters.isEmpty { query.filter = { item in filters.allSatisfy { $0(item) } } }
        let sort = body["sort"]?.arrayValue?.first
        let field = sort?["field"]?.stringValue ?? "created_time"
        guard Self.sortFields.contains(field) else { return badRequest("sort field '\(field)' is not sortable") }
        let ascending = (sort?["order"]?.stringValue ?? "ASC").uppercased() != "DESC"
        return investigationPage(query, sort: (field, ascending), paging: paging, tenant: tenant, version: 2)
    }

    mutating func createInvestigation(_ request: HTTPRequest, tenant: Int, now: Date) -> HTTPResponse {
        guard let body = JSON(data: request.body), case .object = body else { return badRequest("the body must be a JSON object") }
        guard let title = body["title"]?.stringValue, !title.isEmpty else { return badRequest("title is required") }
        var item = Investigation(
            id: random.uuid(),
            rrn: "rrn:investigation:\(tenants[tenant].region.code):\(tenants[tenant].organizationID):investigation:\(random.token(length: 12))",
            title: title, status: "OPEN", priority: "UNMAPPED", source: "USER", disposition: "UNDECIDED",
            assigneeEmail: nil, assigneeName: nil, createdTime: now)
        if let failure = update(&item, with: body, tenant: tenant) { return failure }
        tenants[tenant].investigations.append(item)
        return .json(201, Self.investigationV2(item, organizationID: tenants[tenant].organizationID))
    }

    mutating func patchInvestigation(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        guard let index = investigationIndex(tenant, match.param("id")) else { return error(404, "Investigation not found", .platform) }
        guard let body = JSON(data: request.body), case .object = body else { return badRequest("the body must be a JSON object") }
        var item = tenants[tenant].investigations[index]
        if let title = body["title"]?.stringValue { item.title = title }
        if let failure = update(&item, with: body, tenant: tenant) { return failure }
        tenants[tenant].investigations[index] = item
        return .json(200, Self.investigationV2(item, organizationID: tenants[tenant].organizationID))
    }

    /// Applies `status`, `priority`, `disposition` and `assignee.email` from a body; a 400 on a bad value.
    private mutating func update(_ item: inout Investigation, with body: JSON, tenant: Int) -> HTTPResponse? {
        for (name, allowed, field) in [("status", Self.statuses, \Investigation.status),
                                       ("priority", Self.priorities, \Investigation.priority),
                                       ("disposition", Self.dispositions, \Investigation.disposition)] {
            guard let value = body[name]?.stringValue?.uppercased() else { continue }
            guard allowed.contains(value) else { return badRequest("\(name) '\(value)' is not one of \(allowed.joined(separator: ", "))") }
            item[keyPath: field] = value
        }
        if let email = body["assignee"]?["email"]?.stringValue {
            guard let user = tenants[tenant].user(email: email) else { return badRequest("no user with email \(email)") }
            item.assigneeEmail = user.email
            item.assigneeName = "\(user.firstName) \(user.lastName)"
        }
        return nil
    }

    mutating func setInvestigationField(_ field: String, _ match: RouteMatch, tenant: Int) -> HTTPResponse {
        let body: JSON = [field: .string(match.param("value"))]
        guard let index = investigationIndex(tenant, match.param("id")) else { return error(404, "Investigation not found", .platform) }
        var item = tenants[tenant].investigations[index]
        if let failure = update(&item, with: body, tenant: tenant) { return failure }
        tenants[tenant].investigations[index] = item
        return changed(item, match, tenant: tenant)
    }

    /// v1's `PUT …/status/{value}` and `…/assignee` answer `{"data": [investigation]}` in v1's
    /// item shape (XSOAR set_status.json, assign_user.json: the only recorded v1 answers); v2's
    /// answer the bare investigation (IDR plugin). ASSUMED where the record is one client's
    /// fixture: no second public recording of the v1 answer confirms it.
    func changed(_ item: Investigation, _ match: RouteMatch, tenant: Int) -> HTTPResponse {
        if match.route.pattern.dropFirst().first == "v1" { return .json(200, ["data": [Self.investigationV1(item)]]) }
        return .json(200, Self.investigationV2(item, organizationID: tenants[tenant].organizationID))
    }

    /// `PUT …/assignee` with `{"user_email_address": "…"}`.
    mutating func assignInvestigation(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        guard let index = investigationIndex(tenant, match.param("id")) else { return error(404, "Investigation not found", .platform) }
        guard let email = JSON(data: request.body)?["user_email_address"]?.stringValue else {
            return badRequest("the body must be {\"user_email_address\": \"…\"}")
        }
        var item = tenants[tenant].investigations[index]
        if let failure = update(&item, with: ["assignee": ["email": .string(email)]], tenant: tenant) { return failure }
        tenants[tenant].investigations[index] = item
        return changed(item, match, tenant: tenant)
    }

    mutating func investigationAlerts(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        guard let index = investigationIndex(tenant, match.param("id")) else { return error(404, "Investigation not found", .platform) }
        let paging: (index: Int, size: Int)
        switch self.paging(request) {
        case .success(let found): paging = found
        case .failure(let response): return response
        }
        let alerts = tenants[tenant].alerts
        var mine: [Alert] = []
        var total = 0
        if let recipe = alerts.recipe, index < recipe.investigations.count,
           recipe.investigations.count == tenants[tenant].investigations.generatedCount {
            // The generated alerts of a generated investigation sit side by side.
            let first = index * recipe.perInvestigation
            let skip = min(paging.index * paging.size, recipe.perInvestigation)
            mine = (first + skip..<first + min(recipe.perInvestigation, skip + paging.size)).map { alerts[$0] }
            total = recipe.perInvestigation
        }
        let rrn = tenants[tenant].investigations[index].rrn
        let others = alerts[alerts.generatedCount...].filter { $0.investigationRRN == rrn }
        if !others.isEmpty {
            let generated = total
            total += others.count
            mine += others.dropFirst(max(0, paging.index * paging.size - generated)).prefix(paging.size - mine.count)
        }
        let items = mine.map { alert -> JSON in
            ["id": .string(alert.id), "title": .string(alert.title), "alert_type": .string(alert.alertType),
             "alert_type_description": .string(alert.alertTypeDescription), "created_time": .string(alert.createdTime.iso8601),
             "first_event_time": .string(alert.firstEventTime.iso8601), "latest_event_time": .string(alert.latestEventTime.iso8601),
             // An object with the rule's name and rrn, and the source that raised the alert (IDR plugin
             // unit_test/payloads/list_alerts_for_investigation_rrn_as_object.json.resp; the plugin's
             // output schema names alert_source).
             "detection_rule_rrn": ["rule_name": .string(AlertKind.of(alert.alertType).ruleName), "rule_rrn": .string(alert.detectionRuleRRN)],
             "alert_source": .string(AlertKind.of(alert.alertType).externalSource)]
        }
        return .json(200, Self.page(items, index: paging.index, size: paging.size, total: total))
    }

    static func parseTime(_ text: String) -> Date? { RFC3339.parse(text) }

    static func investigationV2(_ item: Investigation, organizationID: String) -> JSON {
        let assignee: JSON = item.assigneeEmail.map { ["email": .string($0), "name": .string(item.assigneeName ?? "")] } ?? .null
        return [
            "rrn": .string(item.rrn), "organization_id": .string(organizationID), "title": .string(item.title),
            "source": .string(item.source), "status": .string(item.status), "priority": .string(item.priority),
            "disposition": .string(item.disposition), "assignee": assignee,
            "created_time": .string(item.createdTime.iso8601), "last_accessed": .string(item.lastAccessed.iso8601),
            "first_alert_time": .string(item.createdTime.iso8601), "latest_alert_time": .string(item.createdTime.iso8601),
            "responsibility": "CUSTOMER", "tags": [],
        ]
    }

    static func investigationV1(_ item: Investigation) -> JSON {
        let assignee: JSON = item.assigneeEmail.map { ["email": .string($0), "name": .string(item.assigneeName ?? "")] } ?? .null
        return [
            "id": .string(item.id), "title": .string(item.title), "status": .string(item.status),
            "source": .string(item.source), "created_time": .string(item.createdTime.iso8601),
            "assignee": assignee, "alerts": [],
        ]
    }
}
