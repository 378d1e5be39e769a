import Foundation
import InsightClient
import InsightCore
import InsightEmulator

/// What a run produced, as the expectations see it.
struct Observed {
    let diagnosis: Diagnosis?
    let diagnosisText: String?
    let journal: [JournalEntry]
    /// The last completed sync, and totals over every sync of the run.
    let sync: SyncReport?
    let syncTotals: (investigations: Int, alerts: Int, logEvents: Int)
}

extension Expectations {
    /// Every unmet expectation as a sentence saying what was expected and what happened.
    func check(_ observed: Observed) -> [String] {
        var failures: [String] = []
        let got = observed.diagnosis?.category.rawValue ?? "none"
        let wanted = diagnosis?.rawValue ?? "none"
        if got != wanted {
            let summary = observed.diagnosis.map { ": \($0.summary)" } ?? ""
            failures.append("expected diagnosis \(wanted), got \(got)\(summary)")
        }
        if let found = observed.diagnosis {
            for text in summaryMentions where !found.summary.localizedCaseInsensitiveContains(text) {
                failures.append("expected the summary to mention '\(text)'; it is: \(found.summary)")
            }
            for text in evidence where !found.evidence.contains(where: { $0.localizedCaseInsensitiveContains(text) }) {
                failures.append("expected evidence mentioning '\(text)'; evidence is: \(found.evidence.joined(separator: " | "))")
            }
            if let topCause, !(found.topCause?.text.localizedCaseInsensitiveContains(topCause) ?? false) {
                failures.append("expected the top cause to be '\(topCause)'; it is '\(found.topCause?.text ?? "none")'")
            }
            for text in remedyMentions where !found.remedies.contains(where: { $0.localizedCaseInsensitiveContains(text) }) {
                failures.append("expected a remedy mentioning '\(text)'; remedies are: \(found.remedies.joined(separator: " | "))")
            }
        }
        if let requests, requests != observed.journal.count {
            failures.append("expected \(requests) request(s), the emulator received \(observed.journal.count): \(Self.describe(observed.journal))")
        }
        if let requestTimes {
            let times = observed.journal.map(\.elapsed)
            if times.count != requestTimes.count || zip(times, requestTimes).contains(where: { abs($0 - $1) > 0.0005 }) {
                failures.append("expected requests at \(Self.seconds(requestTimes)), they came at \(Self.seconds(times))")
            }
        }
        if let statuses, statuses != observed.journal.map(\.status) {
            failures.append("expected statuses \(statuses), got \(observed.journal.map(\.status))")
        }
        if let syncedInvestigations, syncedInvestigations != observed.syncTotals.investigations {
            failures.append("expected \(syncedInvestigations) investigation(s) synced, got \(observed.sync == nil ? "no completed sync" : "\(observed.syncTotals.investigations)")")
        }
        if let syncedAlerts, syncedAlerts != observed.syncTotals.alerts {
            failures.append("expected \(syncedAlerts) alert(s) synced, got \(observed.sync == nil ? "no completed sync" : "\(observed.syncTotals.alerts)")")
        }
        if let syncedLogEvents, syncedLogEvents != observed.syncTotals.logEvents {
            failures.append("expected \(syncedLogEvents) log event(s) synced, got \(observed.sync == nil ? "no completed sync" : "\(observed.syncTotals.logEvents)")")
        }
        if let syncedLogSources, syncedLogSources != observed.sync?.logSources {
            failures.append("expected \(syncedLogSources) log source(s) synced, got \(observed.sync.map { "\($0.logSources)" } ?? "no completed sync")")
        }
        return failures
    }

    static func seconds(_ values: [Double]) -> String {
        "[" + values.map { Scenario.formatSeconds($0) }.joined(separator: ", ") + "]"
    }

    static func describe(_ journal: [JournalEntry]) -> String {
        journal.prefix(12).map { "\($0.method) \($0.host)\($0.path) → \($0.status)" }.joined(separator: "; ")
            + (journal.count > 12 ? "; …" : "")
    }
}
