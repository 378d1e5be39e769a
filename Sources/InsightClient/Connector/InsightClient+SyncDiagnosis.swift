import Foundation
import InsightCore

/// Why a sync found nothing or was refused, in the words of seeds/000.
extension InsightClient {
    /// Explains a 403: which role or product is missing, from which endpoint refused and,
    /// with an admin key, from the user's actual roles.
    func diagnoseForbidden(_ endpoint: PlatformEndpoint, _ outcome: Outcome, operation: String, family: Family) async -> Diagnosis {
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
    func noData(logSources: Int, rateLimited: Int, now: Date) -> Diagnosis {
        let sinceFirst = now.timeIntervalSince(firstSyncStarted ?? now)
        var evidence = ["no investigations, alerts or log events in the last 28 days", "\(logSources) Log Search log(s)"]
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
        // The specific remedies, most likely cause first: when to look again, what to add, what to slow.
        var remedies: [String] = []
        if sinceFirst < Self.initialSyncAllowance, let first = firstSyncStarted {
            let ready = first.addingTimeInterval(Self.initialSyncAllowance)
            remedies.append("Allow up to 15 minutes for initial data sync: sync again after \(ready.iso8601) (\(Int((Self.initialSyncAllowance - sinceFirst) / 60) + 1) min)")
        }
        if logSources == 0 { remedies.append("Add an event source in InsightIDR (Data Collection): Log Search lists no logs") }
        if rateLimited > 0 { remedies.append("Lower the sync frequency: \(rateLimited) request(s) were rate limited") }
        return Diagnosis(.noDataSyncing, summary: "The sync worked but found no investigations.", evidence: evidence, ranked: ranked,
                         remedies: remedies)
    }
}
