import Foundation
import InsightCore

/// What one sync fetched, and a warning when it found nothing.
public struct SyncReport: Sendable, Hashable {
    /// Investigations fetched across all pages, each counted once.
    public let investigations: Int
    public let pages: Int
    public let logSources: Int
    /// Set when the sync worked but brought no data (seeds/000 "No Data Syncing").
    public let warning: Diagnosis?
}

extension InsightClient {
    /// Seconds seeds/000 allows for an initial sync ("Allow up to 15 minutes").
    public static let initialSyncAllowance: Double = 15 * 60
    static let pageSize = 100
    static let maxPages = 1_000

    /// Fetches investigations over every page and lists the Log Search logs.
    public func sync() async throws(ClientFailure) -> SyncReport {
        let endpoint = try checkedEndpoint()
        let started = clock.now()
        if firstSyncStarted == nil { firstSyncStarted = started }
        var seen = Set<String>()
        var pages = 0
        var rateLimited = 0
        var index = 0
        while index < Self.maxPages {
            let outcome = try await send(
                "GET", host: endpoint.region.platformHost, path: "/idr/v2/investigations",
                query: [URLQueryItem(name: "index", value: "\(index)"), URLQueryItem(name: "size", value: "\(Self.pageSize)")],
                token: settings.token)
            rateLimited += outcome.rateLimited
            try await requireSuccess(outcome, endpoint, operation: "sync investigations", family: .investigations)
            guard let body = outcome.response.json, let data = body["data"]?.arrayValue else {
                throw ClientFailure(unexpected(outcome, operation: "sync investigations (body is not the documented JSON)"))
            }
            pages += 1
            for item in data {
                if let key = item["rrn"]?.stringValue ?? item["id"]?.stringValue { seen.insert(key) }
            }
            let totalPages = body["metadata"]?["total_pages"]?.intValue ?? 0
            index += 1
            if index >= totalPages || data.isEmpty { break }
        }
        lastInvestigationsOK = clock.now()

        let logsOutcome = try await send(
            "GET", host: endpoint.region.platformHost, path: "/log_search/management/logs", token: settings.token)
        rateLimited += logsOutcome.rateLimited
        try await requireSuccess(logsOutcome, endpoint, operation: "sync logs", family: .logSearch)
        let logs = logsOutcome.response.json?["logs"]?.arrayValue?.count ?? 0
        lastLogSearchOK = clock.now()
        lastAccepted = clock.now()

        let warning = seen.isEmpty ? noData(logSources: logs, rateLimited: rateLimited, now: clock.now()) : nil
        return SyncReport(investigations: seen.count, pages: pages, logSources: logs, warning: warning)
    }

    enum Family { case investigations, logSearch }

    /// Throws the right diagnosis unless the outcome is a 200.
    private func requireSuccess(_ outcome: Outcome, _ endpoint: PlatformEndpoint, operation: String, family: Family) async throws(ClientFailure) {
        switch outcome.response.status {
        case 200: return
        case 401: throw ClientFailure(await diagnoseUnauthorized(endpoint, outcome, operation: operation))
        case 403: throw ClientFailure(await diagnoseForbidden(endpoint, outcome, operation: operation, family: family))
        default: throw ClientFailure(unexpected(outcome, operation: operation))
        }
    }

    /// Explains a 403: which role or product is missing, from which endpoint refused and,
    /// with an admin key, from the user's actual roles.
    private func diagnoseForbidden(_ endpoint: PlatformEndpoint, _ outcome: Outcome, operation: String, family: Family) async -> Diagnosis {
        var evidence = ["\(operation): 403 Forbidden from \(outcome.url)"]
        let role = family == .investigations ? "Insight IDR Analyst" : "Log Search View Only"
        let earlier = family == .investigations ? lastInvestigationsOK : lastLogSearchOK
        if let facts = await accountFacts(endpoint), facts.found {
            evidence.append("account API: \(facts.maskedEmail) has roles [\(facts.roles.joined(separator: ", "))] and products [\(facts.products.joined(separator: ", "))]")
            if !facts.products.contains(where: { $0.caseInsensitiveCompare("InsightIDR") == .orderedSame }) {
                return Diagnosis(
                    .insufficientPermissions, summary: "The service user is not assigned to the Insight IDR product.",
                    evidence: evidence,
                    ranked: [RankedCause(Cause.noProductAccess, .confirmed, because: "no InsightIDR in product access")],
                    remedies: ["Assign the service user to the Insight IDR product"])
            }
            if !facts.roles.contains(where: { $0.caseInsensitiveCompare(role) == .orderedSame }) {
                return Diagnosis(
                    .insufficientPermissions, summary: "The service user lacks the role \"\(role)\".",
                    evidence: evidence,
                    ranked: [RankedCause(earlier == nil ? Cause.missingRoles : Cause.rolesChanged, .confirmed, because: "no \(role) role")],
                    remedies: ["Add the role \"\(role)\" to the service user"])
            }
        }
        var ranked: [RankedCause] = []
        if let earlier {
            evidence.append("the same endpoint answered 200 at \(earlier.iso8601)")
            ranked.append(RankedCause(Cause.rolesChanged, .likely, because: "it worked at \(earlier.iso8601)"))
        }
        if family == .logSearch, lastInvestigationsOK != nil {
            evidence.append("InsightIDR investigations were readable, only Log Search is refused")
            ranked.append(RankedCause(Cause.missingRoles, .likely, because: "\"\(role)\" is missing"))
            ranked.append(RankedCause(Cause.noProductAccess, .ruledOut, because: "InsightIDR endpoints answer"))
        } else {
            ranked.append(RankedCause(Cause.missingRoles, .likely, because: "\"\(role)\" is needed here"))
            ranked.append(RankedCause(Cause.noProductAccess, .likely, because: "InsightIDR endpoints refuse the key"))
        }
        return Diagnosis(
            .insufficientPermissions, summary: "The platform refuses \(operation) for this key (403): a role or product access is missing.",
            evidence: evidence, ranked: ranked,
            remedies: ["Ensure the service user has the role \"\(role)\" and access to the Insight IDR product"])
    }

    /// seeds/000 "No Data Syncing", ranked by what the sync saw.
    private func noData(logSources: Int, rateLimited: Int, now: Date) -> Diagnosis {
        let sinceFirst = now.timeIntervalSince(firstSyncStarted ?? now)
        var evidence = ["0 investigations in the last 28 days", "\(logSources) Log Search log(s)"]
        var ranked: [RankedCause] = []
        if sinceFirst < Self.initialSyncAllowance {
            evidence.append("first sync began \(Int(sinceFirst)) s ago (allowance \(Int(Self.initialSyncAllowance)) s)")
            ranked.append(RankedCause(Cause.initialSyncInProgress, .likely, because: "within the first 15 minutes"))
        } else {
            evidence.append("first sync began \(Int(sinceFirst)) s ago, past the 15-minute allowance")
            ranked.append(RankedCause(Cause.initialSyncInProgress, .ruledOut, because: "more than 15 minutes since the first sync"))
        }
        if logSources == 0 {
            ranked.append(RankedCause(Cause.noLogSources, .likely, because: "Log Search lists no logs"))
        } else {
            ranked.append(RankedCause(Cause.noEventsYet, .likely, because: "\(logSources) log(s) exist but no investigations"))
            ranked.append(RankedCause(Cause.noLogSources, .ruledOut, because: "\(logSources) log(s) exist"))
        }
        if rateLimited > 0 {
            evidence.append("\(rateLimited) answer(s) were 429 during the sync")
            ranked.append(RankedCause(Cause.rateLimitsReached, .likely, because: "rate limited during the sync"))
        } else {
            ranked.append(RankedCause(Cause.rateLimitsReached, .ruledOut, because: "no 429 during the sync"))
        }
        return Diagnosis(.noDataSyncing, summary: "The sync worked but found no investigations.", evidence: evidence, ranked: ranked)
    }
}
