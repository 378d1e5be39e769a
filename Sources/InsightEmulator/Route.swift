import Foundation
import InsightCore

/// The endpoints the emulator answers, with their methods and the permission each needs.
enum Route: Sendable {
    case validate
    case investigationsV2
    case investigationsV1
    case logSearchLogs
    case accountUsers

    var methods: [String] {
        switch self {
        // reference §2: the IDR plugin uses GET, the InsightVM cloud plugin POST.
        case .validate: return ["GET", "POST"]
        case .investigationsV2, .investigationsV1, .logSearchLogs, .accountUsers: return ["GET"]
        }
    }

    var permission: Permission {
        switch self {
        case .validate: return .anyValidKey
        case .investigationsV2, .investigationsV1: return .insightIDR
        case .logSearchLogs: return .logSearch
        case .accountUsers: return .platformAdmin
        }
    }

    /// Matches on host kind and path. Log Search answers both at `/log_search/…` on the
    /// platform host and at the root of the legacy `rest.logs` host (reference §5).
    static func match(_ request: HTTPRequest) -> Route? {
        let onLogHost = request.host.contains(".rest.logs.")
        var path = request.path
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        if onLogHost {
            return path == "/management/logs" ? .logSearchLogs : nil
        }
        switch path {
        case "/validate": return .validate
        case "/idr/v2/investigations": return .investigationsV2
        case "/idr/v1/investigations": return .investigationsV1
        case "/log_search/management/logs": return .logSearchLogs
        // ASSUMED path and shape: the Insight account API ("Rapid7 account controls: get users",
        // docs.rapid7.com/insight/product-apis) is listed publicly but its routes are not.
        case "/account/api/1/users": return .accountUsers
        default: return nil
        }
    }
}

extension Emulator {
    func serve(_ route: Route, _ request: HTTPRequest, _ principal: Principal, _ context: RequestContext) -> HTTPResponse {
        let tenant = tenants[context.region]!
        switch route {
        case .validate:
            return .json(200, ["message": "Authorized"])
        case .investigationsV2:
            return listInvestigations(request, tenant, now: context.now, version: 2)
        case .investigationsV1:
            return listInvestigations(request, tenant, now: context.now, version: 1)
        case .logSearchLogs:
            return .json(200, ["logs": .array(tenant.logSources.map { Self.logJSON($0, region: tenant.region) })])
        case .accountUsers:
            let wanted = request.queryValue("email")
            let users = tenant.users.filter { user in
                user.status != .deleted && (wanted.map { user.email.caseInsensitiveCompare($0) == .orderedSame } ?? true)
            }
            return .json(200, .array(users.map(Self.userJSON)))
        }
    }

    /// `GET /idr/v{1,2}/investigations`: `index` is a 0-based page number, `size` 1–100
    /// (reference §4); the window defaults to the last 28 days.
    private func listInvestigations(_ request: HTTPRequest, _ tenant: Tenant, now: Date, version: Int) -> HTTPResponse {
        let index = request.queryValue("index").map { Int($0) } ?? 0
        let size = request.queryValue("size").map { Int($0) } ?? 20
        guard let index, index >= 0 else { return badRequest("index must be a whole number of 0 or more") }
        guard let size, (1...100).contains(size) else { return badRequest("size must be between 1 and 100") }
        var start = now.addingTimeInterval(-28 * 86_400)
        var end = now
        if let text = request.queryValue("start_time") {
            guard let date = Self.parseTime(text) else { return badRequest("start_time must be like 2026-01-01T00:00:00Z") }
            start = date
        }
        if let text = request.queryValue("end_time") {
            guard let date = Self.parseTime(text) else { return badRequest("end_time must be like 2026-01-01T00:00:00Z") }
            end = date
        }
        let statuses = request.queryValue("statuses").map { Set($0.uppercased().split(separator: ",").map(String.init)) }
        let matching = tenant.investigations
            .filter { $0.createdTime > start && $0.createdTime < end }
            .filter { statuses?.contains($0.status) ?? true }
            .sorted { $0.createdTime < $1.createdTime }
        let pages = matching.isEmpty ? 0 : (matching.count + size - 1) / size
        let page = matching.dropFirst(index * size).prefix(size)
        let items = page.map { version == 2 ? Self.investigationV2($0, organizationID: tenant.organizationID) : Self.investigationV1($0) }
        return .json(200, [
            "data": .array(items),
            "metadata": ["index": .int(Int64(index)), "size": .int(Int64(page.count)),
                         "total_data": .int(Int64(matching.count)), "total_pages": .int(Int64(pages))],
        ])
    }

    private func badRequest(_ message: String) -> HTTPResponse {
        .json(400, ["message": .string(message), "correlation_id": .string(correlation.uuid())])
    }

    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func investigationV2(_ item: Investigation, organizationID: String) -> JSON {
        let assignee: JSON = item.assigneeEmail.map { ["email": .string($0), "name": .string(item.assigneeName ?? "")] } ?? .null
        return [
            "rrn": .string(item.rrn), "organization_id": .string(organizationID), "title": .string(item.title),
            "source": .string(item.source), "status": .string(item.status), "priority": .string(item.priority),
            "disposition": .string(item.disposition), "assignee": assignee,
            "created_time": .string(item.createdTime.iso8601), "last_accessed": .string(item.createdTime.iso8601),
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

    static func logJSON(_ log: LogSource, region: Region) -> JSON {
        let base = "https://\(region.logSearchHost)/management"
        return [
            "id": .string(log.id), "name": .string(log.name), "rrn": .string("rrn:logsearch:\(region.code):log:\(log.id)"),
            "logsets_info": [["id": .string(log.logsetID), "name": .string(log.logsetName),
                              "rrn": .string("rrn:logsearch:\(region.code):logset:\(log.logsetID)"),
                              "links": [["rel": "Self", "href": .string("\(base)/logsets/\(log.logsetID)")]]]],
            "source_type": "token", "token_seed": .null, "tokens": [], "structures": [], "user_data": [:],
            "retention_period": "default", "links": [["rel": "Self", "href": .string("\(base)/logs/\(log.id)")]],
        ]
    }

    /// ASSUMED shape (see `Route.accountUsers`).
    static func userJSON(_ user: User) -> JSON {
        [
            "email": .string(user.email), "first_name": .string(user.firstName), "last_name": .string(user.lastName),
            "status": .string(user.status.rawValue.uppercased()), "platform_admin": .bool(user.platformAdmin),
            "roles": .array(user.roles.map(JSON.string)), "product_access": .array(user.products.map(JSON.string)),
        ]
    }
}
