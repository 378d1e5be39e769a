import Foundation
import InsightCore

/// Who a valid key speaks for.
enum Principal: Sendable {
    case organization(keyID: String)
    case user(User, keyID: String)
}

/// What a route needs beyond a valid key.
enum Permission: Sendable {
    case anyValidKey
    case insightIDR
    case logSearch
    case platformAdmin
}

struct AuthDenial: Error {
    let reason: String
}

extension Emulator {
    /// Checks `X-Api-Key` (any case) against this region's tenant.
    ///
    /// Every failure is the documented `401 {"message":"Unauthorized"}`; the reason goes to the
    /// journal only. ASSUMED: keys of deactivated, locked, suspended or deleted users are
    /// rejected with the same 401 as an unknown key (the public record is silent).
    func authenticate(_ request: HTTPRequest, _ context: inout RequestContext) -> Result<Principal, AuthDenial> {
        guard let secret = request.headers["x-api-key"], !secret.isEmpty else {
            return .failure(AuthDenial(reason: "no X-Api-Key header"))
        }
        guard let tenant = tenants[context.region], let key = tenant.keys.first(where: { $0.secret == secret }) else {
            context.keyID = knownKeyID(secret) ?? "unknown"
            let elsewhere = knownKeyRegion(secret).map { " (key belongs to \($0.code))" } ?? ""
            return .failure(AuthDenial(reason: "key not known in \(context.region.code)\(elsewhere)"))
        }
        context.keyID = key.id
        if key.status != .active {
            return .failure(AuthDenial(reason: "key '\(key.id)' \(key.status.rawValue)"))
        }
        if let expiry = key.expiresAt, expiry <= context.now {
            return .failure(AuthDenial(reason: "key '\(key.id)' expired at \(expiry.iso8601)"))
        }
        switch key.kind {
        case .organization:
            return .success(.organization(keyID: key.id))
        case .user:
            guard let owner = key.owner, let user = tenant.user(email: owner) else {
                return .failure(AuthDenial(reason: "key '\(key.id)' has no owner"))
            }
            guard user.status == .active else {
                return .failure(AuthDenial(reason: "owner of key '\(key.id)' is \(user.status.rawValue)"))
            }
            return .success(.user(user, keyID: key.id))
        }
    }

    /// The missing permission, or nil when the principal may use the route.
    func authorize(_ principal: Principal, for permission: Permission) -> String? {
        guard case .user(let user, _) = principal else { return nil }
        switch permission {
        case .anyValidKey:
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
        case .platformAdmin:
            return user.platformAdmin ? nil : "platform admin"
        }
    }

    private func knownKeyID(_ secret: String) -> String? {
        for tenant in tenants.values {
            if let key = tenant.keys.first(where: { $0.secret == secret }) { return key.id }
        }
        return nil
    }

    private func knownKeyRegion(_ secret: String) -> Region? {
        tenants.values.first(where: { $0.keys.contains { $0.secret == secret } })?.region
    }
}
