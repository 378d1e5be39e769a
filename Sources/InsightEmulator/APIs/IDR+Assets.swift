import Foundation
import InsightCore

/// IDR assets, IDR users and the platform's accounts (the IDR plugin's asset and user actions, the account API).
extension EmulatorState {
    /// `GET /idr/v1/assets/{rrn}` → `{rrn, name}` (IDR plugin get_asset_information.json.resp).
    mutating func getAsset(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        let rrn = match.param("rrn")
        guard let position = (0..<Tenant.assetCount).first(where: { tenants[tenant].assetRRN($0) == rrn }) else {
            return error(404, "Asset not found", .platform)
        }
        return .json(200, ["rrn": .string(rrn), "name": .string(Tenant.assetName(position))])
    }

    /// `POST /idr/v1/assets/_search?size=&index=` with `{"search":[{field: "name", operator, value}]}`
    /// (ASSUMED: the form of users' and accounts' search).
    mutating func searchAssets(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let paging: (index: Int, size: Int)
        switch self.paging(request) {
        case .success(let found): paging = found
        case .failure(let response): return response
        }
        var positions = Array(0..<Tenant.assetCount)
        if !request.body.isEmpty {
            guard let body = JSON(data: request.body), case .object = body else { return badRequest("the body must be a JSON object") }
            for criterion in body["search"]?.arrayValue ?? [] {
                guard criterion["field"]?.stringValue == "name" else { return badRequest("search field must be name") }
                let test = Self.criterionTest(criterion)
                positions = positions.filter { test(Tenant.assetName($0)) }
            }
        }
        let items: [JSON] = positions.map { ["rrn": .string(tenants[tenant].assetRRN($0)), "name": .string(Tenant.assetName($0))] }
        return .json(200, Self.page(items, index: paging.index, size: paging.size))
    }

    /// `GET /idr/v1/users/{rrn}` → `{rrn, name, domain}` (XSOAR test_data/get_user.json; the IDR
    /// plugin's get_user_information.json.resp shows rrn and name).
    mutating func idrUser(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        let rrn = match.param("rrn")
        guard let user = tenants[tenant].idrUsers().first(where: { $0.rrn == rrn }) else {
            return error(404, "User not found", .platform)
        }
        return .json(200, Self.idrUserJSON(user))
    }

    static func idrUserJSON(_ user: IDRUser) -> JSON {
        ["rrn": .string(user.rrn), "name": .string(user.name), "domain": .string(user.domain)]
    }

    /// `POST /idr/v1/users/_search?size=&index=` with `{"search":[{field, operator, value}]}` over
    /// name and domain → `{data:[{rrn,name,domain}], metadata}` (XSOAR test_data/search_users.json).
    /// ASSUMED: the same criteria form as accounts' search; operators EQUALS and CONTAINS.
    mutating func searchUsers(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let paging: (index: Int, size: Int)
        switch self.paging(request) {
        case .success(let found): paging = found
        case .failure(let response): return response
        }
        var users = tenants[tenant].idrUsers()
        if !request.body.isEmpty {
            guard let body = JSON(data: request.body), case .object = body else { return badRequest("the body must be a JSON object") }
            for criterion in body["search"]?.arrayValue ?? [] {
                let test = Self.criterionTest(criterion)
                switch criterion["field"]?.stringValue {
                case "name": users = users.filter { test($0.name) }
                case "domain": users = users.filter { test($0.domain) }
                default: return badRequest("search field must be name or domain")
                }
            }
        }
        return .json(200, Self.page(users.map(Self.idrUserJSON), index: paging.index, size: paging.size))
    }

    /// An account with the user it belongs to (IDR plugin test_search_accounts_1.json.resp:
    /// `user: {rrn, name}`, which the plugin's output schema requires).
    static func accountJSON(_ account: Account, tenant: Tenant) -> JSON {
        let user = tenant.accountUser(account)
        return ["rrn": .string(account.rrn), "name": .string(account.name), "domain": .string(account.domain),
                "disabled": .bool(account.disabled), "user": ["rrn": .string(user.rrn), "name": .string(user.name)],
                "authentication_service": "ACTIVE_DIRECTORY"]
    }

    mutating func getAccount(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let account = tenants[tenant].accounts.first(where: { $0.rrn == match.param("rrn") }) else {
            return error(404, "Account not found", .platform)
        }
        return .json(200, Self.accountJSON(account, tenant: tenants[tenant]))
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
        return .json(200, Self.page(accounts.map { Self.accountJSON($0, tenant: tenants[tenant]) }, index: paging.index, size: paging.size))
    }

    /// ASSUMED shape (see `Router.platform`).
    func accountUsers(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let wanted = request.queryValue("email")
        let users = tenants[tenant].users.filter { user in
            user.status != .deleted && (wanted.map { user.email.caseInsensitiveCompare($0) == .orderedSame } ?? true)
        }
        return .json(200, .array(users.map { user in
            var fields: [String: JSON] = [
                "email": .string(user.email), "first_name": .string(user.firstName), "last_name": .string(user.lastName),
                "status": .string(user.status.rawValue.uppercased()), "platform_admin": .bool(user.platformAdmin),
                "roles": .array(user.roles.map(JSON.string)), "product_access": .array(user.products.map(JSON.string))]
            // ASSUMED field, like the rest of this shape: when the password was last changed.
            if let changed = user.passwordChangedAt { fields["password_changed_at"] = .string(changed.iso8601Millis) }
            return .object(fields)
        }))
    }
}
