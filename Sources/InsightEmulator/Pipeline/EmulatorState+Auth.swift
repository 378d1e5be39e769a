import Foundation
import InsightCore

extension EmulatorState {
    /// Checks `X-Api-Key` (any case) against the tenants of the request's region.
    ///
    /// Every failure is the documented `401 {"message":"Unauthorized"}`; the reason goes to the
    /// journal only. ASSUMED: keys of deactivated, locked, suspended or deleted users are
    /// rejected with the same 401 as an unknown key (the public record is silent).
    func authenticate(_ request: HTTPRequest, _ match: RouteMatch, _ context: inout RequestContext) -> Result<Principal, EmulatorError> {
        let secret = request.headers["x-api-key"] ?? ""
        if match.route.permission == .workflowKey {
            let id = match.param("id")
            guard let tenant = tenants.firstIndex(where: { $0.region == context.region && $0.workflows.contains { $0.id == id } }) else {
                return .failure(EmulatorError.denied("no workflow \(id) in \(context.region.code)", notFound: true))
            }
            let workflow = tenants[tenant].workflows.first { $0.id == id }!
            if !workflow.requireAPIKey {
                // The random workflow URL is the secret; a key sent anyway is ignored.
                context.keyID = tenants[tenant].keys.first { $0.secret == secret && !secret.isEmpty }?.id
                return .success(Principal(kind: .anonymous, keyID: "workflow:\(id)", tenant: tenant))
            }
        }
        guard !secret.isEmpty else { return .failure(EmulatorError.denied("no X-Api-Key header")) }
        // By index, so no tenant is copied on this path (every authenticated request takes it).
        var found: (tenant: Int, key: Int)?
        search: for tenant in tenants.indices where tenants[tenant].region == context.region {
            for key in tenants[tenant].keys.indices where tenants[tenant].keys[key].secret == secret {
                found = (tenant, key)
                break search
            }
        }
        guard let (tenant, keyIndex) = found else {
            let elsewhere = tenants.first { $0.keys.contains { $0.secret == secret } }
            context.keyID = elsewhere?.keys.first { $0.secret == secret }?.id ?? "unknown"
            let note = elsewhere.map { " (key belongs to \($0.region.code))" } ?? ""
            return .failure(EmulatorError.denied("key not known in \(context.region.code)\(note)"))
        }
        // Read in place, not copied (see `Principal.Kind.user`).
        let keyID = tenants[tenant].keys[keyIndex].id
        context.keyID = keyID
        let status = tenants[tenant].keys[keyIndex].status
        if status != .active {
            return .failure(EmulatorError.denied("key '\(keyID)' \(status.rawValue)"))
        }
        if let expiry = tenants[tenant].keys[keyIndex].expiresAt, expiry <= context.now {
            return .failure(EmulatorError.denied("key '\(keyID)' expired at \(expiry.iso8601)"))
        }
        if match.route.permission == .workflowKey,
           !tenants[tenant].workflows.contains(where: { $0.id == match.param("id") })
        {
            return .failure(EmulatorError.denied("workflow \(match.param("id")) belongs to another organization", notFound: true))
        }
        switch tenants[tenant].keys[keyIndex].kind {
        case .organization:
            return .success(Principal(kind: .organization, keyID: keyID, tenant: tenant))
        case .user:
            // Through `users`, not `Tenant.user(email:)`, which would copy the tenant to call it.
            guard let owner = tenants[tenant].keys[keyIndex].owner,
                  let userIndex = tenants[tenant].users.firstIndex(where: { $0.email.equalsIgnoringCase(owner) })
            else {
                return .failure(EmulatorError.denied("key '\(keyID)' has no owner"))
            }
            let userStatus = tenants[tenant].users[userIndex].status
            guard userStatus == .active else {
                return .failure(EmulatorError.denied("owner of key '\(keyID)' is \(userStatus.rawValue)"))
            }
            if let changed = tenants[tenant].users[userIndex].passwordChangedAt, changed <= context.now,
               (tenants[tenant].keys[keyIndex].createdAt ?? .distantPast) < changed
            {
                return .failure(EmulatorError.denied("key '\(keyID)' was made before its owner's password change at \(changed.iso8601)"))
            }
            return .success(Principal(kind: .user(userIndex), keyID: keyID, tenant: tenant))
        }
    }

    /// The missing permission, or nil when the principal may use the route.
    func authorize(_ principal: Principal, _ permission: Permission) -> String? {
        // Any valid key will do for these: the user is not even looked at.
        if permission == .anyValidKey || permission == .workflowKey { return nil }
        guard case .user(let index) = principal.kind else { return nil }
        let user = tenants[principal.tenant].users[index]
        switch permission {
        case .anyValidKey, .workflowKey:
            return nil
        case .insightIDR:
            if !user.hasProduct(Products.insightIDR) { return "no \(Products.insightIDR) product access" }
            if user.platformAdmin || user.hasRole(Roles.idrAnalyst) || user.hasRole(Roles.idrAdministrator) { return nil }
            return "role \(Roles.idrAnalyst)"
        case .logSearch:
            if !user.hasProduct(Products.insightIDR) && !user.hasProduct(Products.insightOps) {
                return "no \(Products.insightIDR) product access"
            }
            if user.platformAdmin || user.hasRole(Roles.logSearchViewOnly) || user.hasRole(Roles.logSearchAdmin)
                || user.hasRole(Roles.idrAdministrator)
            {
                return nil
            }
            return "role \(Roles.logSearchViewOnly)"
        case .logSearchWrite:
            if let missing = authorize(principal, .logSearch) { return missing }
            if user.platformAdmin || user.hasRole(Roles.logSearchAdmin) || user.hasRole(Roles.idrAdministrator) { return nil }
            return "role \(Roles.logSearchAdmin) (Log Search View Only may read, not change)"
        case .platformAdmin, .auditAdmin:
            return user.platformAdmin ? nil : "platform admin"
        case .insightConnect:
            return user.hasProduct(Products.insightConnect) || user.platformAdmin ? nil : "no \(Products.insightConnect) product access"
        }
    }
}
