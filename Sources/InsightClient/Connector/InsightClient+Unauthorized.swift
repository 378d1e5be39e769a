import Foundation
import InsightCore

/// What the account API says of the service user (ASSUMED shape, see the emulator's Route).
struct AccountFacts {
    var found: Bool
    var status: String?
    var roles: [String]
    var products: [String]
    var maskedEmail: String
    /// When the user's password was last changed (ASSUMED field `password_changed_at`).
    var passwordChangedAt: Date? = nil
}

extension InsightClient {
    /// Explains a 401: probes the other regions, checks the account when an admin key is given,
    /// and weighs the history of this client (did the key work before?).
    func diagnoseUnauthorized(_ endpoint: PlatformEndpoint, _ outcome: Outcome, operation: String) async -> Diagnosis {
        var evidence = ["\(operation): 401 Unauthorized from \(outcome.url)"]

        // 1. Wrong region: the key is valid on another region's host.
        let (found, unprobed) = await sender.regionAccepting(settings.token, excluding: endpoint.region)
        if let region = found {
            evidence.append("the same key is accepted by \(region.platformBaseURL)/validate")
            return Diagnosis(
                .wrongRegionalURL,
                summary: "The key belongs to region \(region.code) (\(region.displayName)), but the URL points at \(endpoint.region.code).",
                evidence: evidence,
                ranked: [RankedCause(Cause.incorrectRegionalEndpoint, .confirmed, because: "key validates on \(region.code)")],
                remedies: ["Set URL to \(region.platformBaseURL)"])
        }
        // A region whose probe got no real answer (a replay miss, a 5xx, no connection) was not
        // checked: the region stays open, and the evidence says what is missing.
        let regionCause: RankedCause
        if unprobed.isEmpty {
            evidence.append("no other region accepts the key")
            regionCause = RankedCause(Cause.wrongRegionalURL, .ruledOut, because: "no region accepts the key")
        } else {
            let answered = Region.allCases.count - 1 - unprobed.count
            evidence.append("missing evidence: \(unprobed.count) region probe(s) got no real answer: \(unprobed.joined(separator: ", "))"
                            + (answered > 0 ? "; \(answered) other region(s) rejected the key" : ""))
            regionCause = RankedCause(Cause.wrongRegionalURL, .notChecked,
                                      because: "not every region could be asked; probe \(unprobed.map { $0.split(separator: " ")[0] }.joined(separator: ", ")) again")
        }

        // 2. The account, when an admin key lets us look (seeds/000: "Log in as admin and verify…").
        var passwordChanged: Date?
        if let facts = await accountFacts(endpoint) {
            passwordChanged = facts.passwordChangedAt
            if !facts.found {
                evidence.append("account API: no user \(facts.maskedEmail) in the organization")
                return Diagnosis(
                    .serviceUserAccountProblems, summary: "The service user \(facts.maskedEmail) no longer exists.",
                    evidence: evidence,
                    ranked: [RankedCause(Cause.userDeletedOrSuspended, .likely, because: "user not found"),
                             RankedCause(Cause.emailChanged, .likely, because: "or it exists under another email")],
                    remedies: ["Recreate the service user (or find it under its new email) and generate a new key for it"])
            }
            let status = (facts.status ?? "UNKNOWN").uppercased()
            evidence.append("account API: user \(facts.maskedEmail) is \(status)")
            switch status {
            case "SUSPENDED":
                return Diagnosis(
                    .serviceUserAccountProblems, summary: "The service user \(facts.maskedEmail) is suspended.",
                    evidence: evidence,
                    ranked: [RankedCause(Cause.userDeletedOrSuspended, .confirmed, because: "status SUSPENDED")],
                    remedies: ["Reactivate the account if it was suspended"])
            case "LOCKED":
                return Diagnosis(
                    .serviceUserAccountProblems, summary: "The service user \(facts.maskedEmail) is locked.",
                    evidence: evidence,
                    ranked: [RankedCause(Cause.accountLocked, .confirmed, because: "status LOCKED")],
                    remedies: ["Unlock the account if it was locked"])
            case "DEACTIVATED":
                return Diagnosis(
                    .authenticationFailed, summary: "The service user \(facts.maskedEmail) is deactivated.",
                    evidence: evidence,
                    ranked: [RankedCause(Cause.userDeactivated, .confirmed, because: "status DEACTIVATED"), regionCause],
                    remedies: ["Reactivate the service user, or create a new one and a key for it"])
            default:
                break
            }
        }

        // 3. The key itself: did it work before? A password change after it last worked explains
        // the rejection (seeds/000 "API Key Issues": "Service user password was changed").
        if let changed = passwordChanged, lastAccepted.map({ changed >= $0 }) ?? true {
            evidence.append("account API: the password was changed at \(changed.iso8601)"
                            + (lastAccepted.map { ", after the key was last accepted at \($0.iso8601)" } ?? ""))
            return Diagnosis(
                .apiKeyIssues,
                summary: "The service user's password was changed at \(changed.iso8601); the key made before it is rejected since.",
                evidence: evidence,
                ranked: [RankedCause(Cause.passwordChanged, .confirmed, because: "changed at \(changed.iso8601)"),
                         RankedCause(Cause.keyRevoked, .possible), RankedCause(Cause.keyExpiredOrDeleted, .possible)],
                remedies: ["Log in as the service user, generate a new API key and update it in the integration settings"])
        }
        if let accepted = lastAccepted {
            let now = clock.now()
            evidence.append("the key was accepted at \(accepted.iso8601) and rejected at \(now.iso8601)")
            return Diagnosis(
                .apiKeyIssues,
                summary: "The key worked until \(accepted.iso8601) and is rejected since: it was revoked, deleted or expired.",
                evidence: evidence,
                ranked: [RankedCause(Cause.keyRevoked, .likely, because: "accepted earlier, rejected everywhere now"),
                         RankedCause(Cause.keyExpiredOrDeleted, .likely),
                         RankedCause(Cause.passwordChanged, .possible),
                         RankedCause(Cause.userDeletedOrSuspended, admin == nil ? .possible : .ruledOut,
                                     because: admin == nil ? "give an admin key to check the account" : "the account is active")],
                remedies: ["Generate a new API key for the service user and update it in the integration settings"])
        }
        return Diagnosis(
            .authenticationFailed,
            summary: unprobed.isEmpty ? "The platform rejects the key in every region."
                : "The platform rejects the key at \(endpoint.region.platformBaseURL); \(unprobed.count) other region(s) could not be checked.",
            evidence: evidence,
            ranked: [RankedCause(Cause.keyIncorrectOrExpired, .likely,
                                 because: unprobed.isEmpty ? "never accepted, in any region" : "rejected where it could be checked"),
                     RankedCause(Cause.userDeactivated, admin == nil ? .possible : .ruledOut,
                                 because: admin == nil ? "give an admin key to check the account" : "the account is active"),
                     regionCause],
            remedies: ["Copy the key again from Settings → API Keys, or generate a new one"])
    }

    /// Looks the service user up through the account API with the admin key, if one is configured.
    func accountFacts(_ endpoint: PlatformEndpoint) async -> AccountFacts? {
        guard let admin, let email = admin.serviceUser else { return nil }
        guard let outcome = try? await send(
            "GET", host: endpoint.region.platformHost, path: "/account/api/1/users",
            query: [URLQueryItem(name: "email", value: email)], token: admin.token),
            outcome.response.status == 200, let users = outcome.response.json?.arrayValue
        else { return nil }
        let masked = Redaction.maskEmail(email)
        guard let user = users.first(where: { $0["email"]?.stringValue?.caseInsensitiveCompare(email) == .orderedSame }) else {
            return AccountFacts(found: false, roles: [], products: [], maskedEmail: masked)
        }
        return AccountFacts(
            found: true, status: user["status"]?.stringValue,
            roles: user["roles"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            products: user["product_access"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            maskedEmail: masked, passwordChangedAt: user["password_changed_at"]?.stringValue.flatMap(RFC3339.parse))
    }
}
