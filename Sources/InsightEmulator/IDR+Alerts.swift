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
        return .json(200, [
            "rrns": .array(page.map { .string($0.rrn) }),
            "alerts": rrnsOnly ? [] : .array(page.map(Self.alertJSON)),
            "metadata": ["index": .int(Int64(offset)), "size": .int(Int64(size)), "items_in_index": .int(Int64(page.count)),
                         "total_items": .int(Int64(total)), "is_last_index": .bool(offset + page.count >= total)],
            "aggregates": [], "region_failures": [],
        ])
    }

    mutating func getAlert(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        let alerts = tenants[tenant].alerts, id = match.param("rrn")
        guard let position = alerts.generatedPosition(of: id) ?? alerts[alerts.generatedCount...].firstIndex(where: { $0.rrn == id || $0.id == id })
        else { return error(404, "Alert not found", .platform) }
        let alert = alerts[position]
        return .json(200, Self.alertJSON(alert))
    }

    /// ASSUMED field names beyond `rrn`, `title`, `priority`, `status`: the public fixtures do
    /// not show a whole `/idr/at` alert.
    static func alertJSON(_ alert: Alert) -> JSON {
        ["rrn": .string(alert.rrn), "title": .string(alert.title), "type": .string(alert.alertType),
         "type_description": .string(alert.alertTypeDescription), "priority": .string(alert.priority),
         "status": .string(alert.status), "created_at": .string(alert.createdTime.iso8601),
         "alerted_at": .string(alert.latestEventTime.iso8601),
         "investigation_rrn": alert.investigationRRN.map(JSON.string) ?? .null,
         "detection_rule_rrn": .string(alert.detectionRuleRRN)]
    }

    mutating func idrUser(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        let rrn = match.param("rrn")
        guard let user = tenants[tenant].users.first(where: { tenants[tenant].userRRN($0) == rrn && $0.status != .deleted }) else {
            return error(404, "User not found", .platform)
        }
        return .json(200, ["rrn": .string(rrn), "name": .string("\(user.firstName) \(user.lastName)")])
    }

    static func accountJSON(_ account: Account) -> JSON {
        ["rrn": .string(account.rrn), "name": .string(account.name), "domain": .string(account.domain),
         "disabled": .bool(account.disabled), "user": .null, "authentication_service": "ACTIVE_DIRECTORY"]
    }

    mutating func getAccount(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let account = tenants[tenant].accounts.first(where: { $0.rrn == match.param("rrn") }) else {
            return error(404, "Account not found", .platform)
        }
        return .json(200, Self.accountJSON(account))
    }

    /// `POST /idr/v1/accounts/_search?size=&index=` with `{"search":[{"field":"name","operator":"CONTAINS","value":…}]}`.
    mutating func searchAccounts(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let paging: (index: Int, size: Int)
        switch self.paging(request) {
        case .success(let found): paging = found
        case .failure(let response): return response
        }
        var accounts = tenants[tenant].accounts
        if !request.body.isEmpty {
            guard let body = JSON(data: request.body), case .object = body else { return badRequest("the body must be a JSON object") }
            for criterion in body["search"]?.arrayValue ?? [] {
                let value = criterion["value"]?.stringValue ?? ""
                switch criterion["field"]?.stringValue {
                case "name": accounts = accounts.filter { $0.name.localizedCaseInsensitiveContains(value) }
                case "domain": accounts = accounts.filter { $0.domain.caseInsensitiveCompare(value) == .orderedSame }
                case "disabled": accounts = accounts.filter { String($0.disabled) == value.lowercased() }
                default: return badRequest("search field must be name, domain or disabled")
                }
            }
        }
        return .json(200, Self.page(accounts.map(Self.accountJSON), index: paging.index, size: paging.size))
    }

    /// ASSUMED shape (see `Router.platform`).
    func accountUsers(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let wanted = request.queryValue("email")
        let users = tenants[tenant].users.filter { user in
            user.status != .deleted && (wanted.map { user.email.caseInsensitiveCompare($0) == .orderedSame } ?? true)
        }
        return .json(200, .array(users.map { user in
            ["email": .string(user.email), "first_name": .string(user.firstName), "last_name": .string(user.lastName),
             "status": .string(user.status.rawValue.uppercased()), "platform_admin": .bool(user.platformAdmin),
             "roles": .array(user.roles.map(JSON.string)), "product_access": .array(user.products.map(JSON.string))]
        }))
    }
}
