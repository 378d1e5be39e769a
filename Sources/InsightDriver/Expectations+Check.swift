import Foundation
import InsightClient
import InsightCore
import InsightEmulator

/// What a run produced, as the expectations see it.
struct Observed {
    var diagnosis: Diagnosis?
    var diagnosisText: String?
    var journal: [JournalEntry] = []
    /// The last completed sync, and totals over every sync of the run.
    var sync: SyncReport?
    var syncTotals: (investigations: Int, alerts: Int, logEvents: Int) = (0, 0, 0)
    /// Audit ids handed on, over every pull of the run, in order.
    var auditIDs: [String] = []
    var auditRejected = 0
    var delivered = 0
    var undelivered = 0
    var disabled = false
    var deliveries: [Delivery] = []
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
        if let auditProcessed, auditProcessed != observed.auditIDs.count {
            failures.append("expected \(auditProcessed) audit record(s) processed, got \(observed.auditIDs.count)")
        }
        if let auditRejected, auditRejected != observed.auditRejected {
            failures.append("expected \(auditRejected) audit record(s) rejected, got \(observed.auditRejected)")
        }
        if let auditDuplicates {
            let duplicates = observed.auditIDs.count - Set(observed.auditIDs).count
            if duplicates != auditDuplicates { failures.append("expected \(auditDuplicates) duplicate audit record(s), got \(duplicates)") }
        }
        if let notificationsDelivered, notificationsDelivered != observed.delivered {
            failures.append("expected \(notificationsDelivered) notification(s) delivered, got \(observed.delivered)")
        }
        if let notificationsUndelivered, notificationsUndelivered != observed.undelivered {
            failures.append("expected \(notificationsUndelivered) notification(s) undelivered, got \(observed.undelivered)")
        }
        if let notifierDisabled, notifierDisabled != observed.disabled {
            failures.append("expected the notifier \(notifierDisabled ? "to disable itself" : "to stay enabled"), it \(observed.disabled ? "disabled itself" : "stayed enabled")")
        }
        if let deliveries, deliveries != observed.deliveries.count {
            failures.append("expected \(deliveries) event(s) received by InsightConnect, got \(observed.deliveries.count)")
        }
        for text in deliveryMentions where !observed.deliveries.contains(where: { $0.body.contains(text) }) {
            failures.append("expected a delivered event mentioning '\(text)'; none does")
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
