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
    /// Every investigation rrn handed on, over the run, in order; and those the tenant held that
    /// should have been (computed only when asked).
    var syncedRRNs: [String] = []
    var logEventsBySet: [String: Int] = [:]
    var missedRRNs: [String]?
    var firstSyncStarted: Date?
    /// When the no-events alert was first raised (virtual seconds after the start).
    var auditAlertAt: Double?
    /// What the clients logged, scrubbed (kept only when the expectations ask).
    var logLines: [String] = []
    var lastSyncStarted: Date?
    /// Audit ids handed on, over every pull of the run, in order.
    var auditIDs: [String] = []
    var auditRejected = 0
    var auditRejectReasons: [String] = []
    /// How many processed audit records carried each schema field.
    var auditFields: [String: Int] = [:]
    var delivered = 0
    var undelivered = 0
    /// Events not sent because the notifier was disabled (`WhileDisabled.drop`).
    var notSent = 0
    var disabled = false
    /// The outcome of each step that talks to the platform (built-in clients).
    var steps: [StepOutcome] = []
    /// The notifier's state at the end and what it said about itself.
    var notifierState: String?
    var systemNotices: [String] = []
    var deliveries: [Delivery] = []
    /// What a command client did (nil for the built-in clients).
    var command: CommandObservation?
    /// Virtual seconds a request time may be late by (a command's wall-clock jitter).
    var defaultTolerance = 0.0005
    /// Virtual seconds a request time may be early by: none in process; for a command the jitter
    /// of a wall-clock measurement, a twentieth of a wall second at the scale.
    var earlyTolerance = 0.0005
    /// Where request times count from: the scenario's start in process; a command's first
    /// request (its start-up is no part of its behaviour).
    var timeOrigin = 0.0
    /// The journal sequence at which each run of a command client started (steps between waits).
    var runStarts: [Int] = []
    /// Each run of a command client, for the rules of its kind.
    var runs: [CommandRun] = []
    /// The tenant's audit log at the end, for judging an audit-log pull.
    var auditLog: [LogSearchEvent] = []
    /// The instant virtual time counts from (where `CommandRun.startedAt` is 0).
    var clockStart = Date(timeIntervalSince1970: 0)
}

/// A command client's runs: the last exit, and everything it printed (keys scrubbed).
package struct CommandObservation {
    package var exitCode: Int32?
    package var timedOut = false
    package var launchError: String?
    package var stdout = ""
    package var stderr = ""

    /// The last line of stdout that is a JSON object: what the client reported.
    var reported: [String: JSON]? {
        for line in stdout.split(separator: "\n").reversed() {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("{"), case .object(let object)? = JSON(data: Data(text.utf8)) else { continue }
            return object
        }
        return nil
    }
}

extension Expectations {
    /// `causes:`, `not_causes:` and `ranked:` against the diagnosis's ranked causes.
    func checkCauses(_ found: Diagnosis) -> [String] {
        var failures: [String] = []
        let list = found.causes.enumerated().map { "\($0.offset + 1). [\($0.element.likelihood)] \($0.element.text)" }.joined(separator: " | ")
        for expected in causes {
            guard let index = found.causes.firstIndex(where: { $0.text.localizedCaseInsensitiveContains(expected.cause) }) else {
                failures.append("expected a cause '\(expected.cause)'; the causes are: \(list)")
                continue
            }
            if let rank = expected.rank, rank != index + 1 {
                failures.append("expected '\(expected.cause)' at rank \(rank); it is at \(index + 1): \(list)")
            }
            if let likelihood = expected.likelihood, found.causes[index].likelihood != likelihood {
                failures.append("expected '\(expected.cause)' to be \(likelihood); it is \(found.causes[index].likelihood)")
            }
        }
        for text in notCauses {
            if let cause = found.causes.first(where: { $0.text.localizedCaseInsensitiveContains(text) }) {
                failures.append("expected no cause '\(text)'; '\(cause.text)' is \(cause.likelihood): \(list)")
            }
        }
        if let evidenceLines {
            let matches = evidenceLines.count == found.evidence.count
                && zip(evidenceLines, found.evidence).allSatisfy { $1.localizedCaseInsensitiveContains($0) }
            if !matches {
                failures.append("expected the evidence \(evidenceLines.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: " | ")); it is: \(found.evidence.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: " | "))")
            }
        }
        if let ranked {
            let matches = ranked.count == found.causes.count
                && zip(ranked, found.causes).allSatisfy { $1.text.localizedCaseInsensitiveContains($0) }
            if !matches { failures.append("expected the causes \(ranked.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: " | ")); they are: \(list)") }
        }
        return failures
    }

    /// Every unmet expectation as a sentence saying what was expected and what happened.
    func check(_ observed: Observed) -> [String] {
        var failures: [String] = []
        let got = observed.diagnosis?.category.rawValue ?? "none"
        let wanted = diagnosis?.rawValue ?? "none"
        // A command's diagnosis is the seed's case: it decides the exit code expected (checkCommand).
        if got != wanted, observed.command == nil {
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
            failures += checkCauses(found)
        }
        if !notMentions.isEmpty, let text = observed.diagnosisText {
            let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            for unwanted in notMentions {
                if let line = lines.first(where: { $0.localizedCaseInsensitiveContains(unwanted) }) {
                    failures.append("expected the diagnosis not to mention '\(unwanted)'; it does: \(line)")
                }
            }
        }
        if let requests, requests != observed.journal.count {
            failures.append("expected \(requests) request(s), the emulator received \(observed.journal.count): \(Self.describe(observed.journal))")
        }
        let tolerance = timeTolerance ?? observed.defaultTolerance
        if let requestTimes {
            let times = observed.journal.map { $0.elapsed - observed.timeOrigin }
            if !Self.timesMatch(times, requestTimes, early: observed.earlyTolerance, late: tolerance) {
                failures.append("expected requests at \(Self.seconds(requestTimes))\(Self.within(observed.earlyTolerance, tolerance)), they came at \(Self.seconds(times))")
            }
        }
        for filter in requestFilters {
            let matching = observed.journal.filter(filter.matches)
            if let count = filter.count, count != matching.count {
                failures.append("expected \(count) of \(filter.label), the emulator received \(matching.count)\(matching.isEmpty ? "" : ": \(Self.describe(matching))")")
            }
            if let statuses = filter.statuses, statuses != matching.map(\.status) {
                failures.append("expected statuses \(statuses) for \(filter.label), got \(matching.map(\.status))")
            }
            let matchingTimes = matching.map { $0.elapsed - observed.timeOrigin }
            if let times = filter.times, !Self.timesMatch(matchingTimes, times, early: observed.earlyTolerance, late: tolerance) {
                failures.append("expected \(filter.label) at \(Self.seconds(times))\(Self.within(observed.earlyTolerance, tolerance)), they came at \(Self.seconds(matchingTimes))")
            }
            for header in filter.headers {
                if let missing = matching.first(where: { !$0.headerNames.contains(header) }) {
                    failures.append("expected every one of \(filter.label) to carry the header \(header); \(missing.method) \(missing.host)\(missing.path) (request \(missing.sequence + 1)) did not")
                }
            }
        }
        if let command = observed.command { failures += checkCommand(command) }
        if let statuses, statuses != observed.journal.map(\.status) {
            failures.append("expected statuses \(statuses), got \(observed.journal.map(\.status))")
        }
        if let syncedInvestigations, syncedInvestigations != observed.syncTotals.investigations {
            failures.append("expected \(syncedInvestigations) investigation(s) synced, got \(observed.sync == nil ? "no completed sync" : "\(observed.syncTotals.investigations)")")
        }
        for text in logMentions where !observed.logLines.contains(where: { $0.localizedCaseInsensitiveContains(text) }) {
            failures.append("expected a client log line mentioning '\(text)'; the clients logged \(observed.logLines.count) line(s)\(observed.logLines.isEmpty ? "" : ", the last: \(observed.logLines.last!)")")
        }
        for text in logNotMentions {
            if let line = observed.logLines.first(where: { $0.localizedCaseInsensitiveContains(text) }) {
                failures.append("expected no client log line to mention '\(text)'; one does: \(line)")
            }
        }
        for set in syncedFromLogSets where observed.logEventsBySet.first(where: { $0.key.caseInsensitiveCompare(set) == .orderedSame })?.value ?? 0 == 0 {
            let seen = observed.logEventsBySet.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            failures.append("expected log events synced from the log set \(set); they came from: \(seen.isEmpty ? "none" : seen)")
        }
        if let syncedDuplicates {
            let duplicates = observed.syncedRRNs.count - Set(observed.syncedRRNs).count
            if duplicates != syncedDuplicates {
                failures.append("expected \(syncedDuplicates) investigation(s) handed on twice, got \(duplicates)")
            }
        }
        if let syncedMissed, let missed = observed.missedRRNs, missed.count != syncedMissed {
            failures.append("expected \(syncedMissed) investigation(s) missed, got \(missed.count)\(missed.isEmpty ? "" : ": \(missed.prefix(3).joined(separator: ", "))\(missed.count > 3 ? " …" : "")")")
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
        for field in auditWithFields where observed.auditFields[field, default: 0] != observed.auditIDs.count || observed.auditIDs.isEmpty {
            failures.append("expected every processed audit record to carry \(field); \(observed.auditFields[field, default: 0]) of \(observed.auditIDs.count) did")
        }
        switch (auditAlertAt, observed.auditAlertAt) {
        case (.at(let wanted)?, let raised?) where abs(raised - wanted) > tolerance:
            failures.append("expected the no-events alert at \(Self.seconds([wanted])), it was raised at \(Self.seconds([raised]))")
        case (.at(let wanted)?, nil):
            failures.append("expected the no-events alert at \(Self.seconds([wanted])), it was never raised")
        case (.never?, let raised?):
            failures.append("expected no no-events alert, it was raised at \(Self.seconds([raised]))")
        default: break
        }
        for text in auditRejectedMentions where !observed.auditRejectReasons.contains(where: { $0.localizedCaseInsensitiveContains(text) }) {
            failures.append("expected an audit record rejected for '\(text)'; the reasons were: \(observed.auditRejectReasons.isEmpty ? "none" : observed.auditRejectReasons.joined(separator: " | "))")
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
        if let notificationsNotSent, notificationsNotSent != observed.notSent {
            failures.append("expected \(notificationsNotSent) event(s) not sent because the integration was disabled, got \(observed.notSent)")
        }
        if let stepDiagnoses {
            let got = observed.steps.map { $0.diagnosis ?? "none" }
            let wanted = stepDiagnoses.map { $0?.rawValue ?? "none" }
            if got != wanted {
                failures.append("expected the steps to end \(wanted.joined(separator: ", ")); they ended: \(StepOutcome.describe(observed.steps).joined(separator: "; "))")
            }
        }
        if let notificationsUndelivered, notificationsUndelivered != observed.undelivered {
            failures.append("expected \(notificationsUndelivered) notification(s) undelivered, got \(observed.undelivered)")
        }
        if let notifierState, notifierState != observed.notifierState {
            failures.append("expected the notifier to end \(notifierState), it ended \(observed.notifierState ?? "unconfigured")")
        }
        for text in systemMessages where !observed.systemNotices.contains(where: { $0.localizedCaseInsensitiveContains(text) }) {
            failures.append("expected a system message mentioning '\(text)'; the integration said: \(observed.systemNotices.isEmpty ? "nothing" : observed.systemNotices.joined(separator: " | "))")
        }
        if let notifierDisabled, notifierDisabled != observed.disabled {
            failures.append("expected the notifier \(notifierDisabled ? "to disable itself" : "to stay enabled"), it \(observed.disabled ? "disabled itself" : "stayed enabled")")
        }
        if let deliveries, deliveries != observed.deliveries.count {
            failures.append("expected \(deliveries) event(s) received by InsightConnect, got \(observed.deliveries.count)")
        }
        for text in deliveryNotMentions {
            if let index = observed.deliveries.firstIndex(where: { $0.body.contains(text) }) {
                failures.append("expected no delivery to mention '\(text)'; delivery \(index + 1) does: \(observed.deliveries[index].body.prefix(200))")
            }
        }
        for text in deliveryMentions where !observed.deliveries.contains(where: { $0.body.contains(text) }) {
            failures.append("expected a delivered event mentioning '\(text)'; none does")
        }
        if let syncedLogSources, syncedLogSources != observed.sync?.logSources {
            failures.append("expected \(syncedLogSources) log source(s) synced, got \(observed.sync.map { "\($0.logSources)" } ?? "no completed sync")")
        }
        return failures
    }

    func checkCommand(_ command: CommandObservation) -> [String] {
        var failures: [String] = []
        if let error = command.launchError { return ["the client could not be started: \(error)"] }
        if command.timedOut { failures.append("the client was stopped after its timeout; it did not finish") }
        // Unless stated, the seed's case decides: data and exit 0, or a troubleshooting case and
        // a non-zero exit (the client told its user something is wrong).
        let exit = exitCode ?? (diagnosis == nil ? .code(0) : .nonzero)
        if let code = command.exitCode, !command.timedOut, !exit.matches(code) {
            let why = exitCode == nil ? (diagnosis == nil ? " (the scenario ends with its data)" : " (the documented case is \(diagnosis!.rawValue): the client must report a failure)") : ""
            failures.append("expected \(exit)\(why), the client exited \(code)")
        }
        let output = command.stdout + "\n" + command.stderr
        for text in outputMentions where !output.localizedCaseInsensitiveContains(text) {
            failures.append("expected the client's output to mention '\(text)'; it printed: \(Self.excerpt(output))")
        }
        for text in stdoutMentions where !command.stdout.localizedCaseInsensitiveContains(text) {
            failures.append("expected stdout to mention '\(text)'; it is: \(Self.excerpt(command.stdout))")
        }
        for text in stderrMentions where !command.stderr.localizedCaseInsensitiveContains(text) {
            failures.append("expected stderr to mention '\(text)'; it is: \(Self.excerpt(command.stderr))")
        }
        for text in outputNotMentions where output.localizedCaseInsensitiveContains(text) {
            failures.append("expected the client's output not to mention '\(text)'; it does")
        }
        if !reported.isEmpty {
            guard let found = command.reported else {
                return failures + ["expected the client to report \(reported.map(\.name).joined(separator: ", ")) as a JSON object on a line of stdout; it printed none"]
            }
            for (name, value) in reported where !Self.sameValue(found[name], value) {
                failures.append("expected the client to report \(name) = \(String(decoding: value.encoded(), as: UTF8.self)), it reported \(found[name].map { String(decoding: $0.encoded(), as: UTF8.self) } ?? "nothing")")
            }
        }
        return failures
    }

    static func sameValue(_ found: JSON?, _ wanted: JSON) -> Bool {
        guard let found else { return false }
        if case .double(let a) = found, let b = wanted.intValue { return a == Double(b) }
        if case .double(let b) = wanted, let a = found.intValue { return Double(a) == b }
        return found == wanted
    }

    static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return "(nothing)" }
        return trimmed.count > 400 ? "…" + String(trimmed.suffix(400)) : trimmed
    }

    /// Each time no earlier than `early` before and no later than `late` after the expected one.
    static func timesMatch(_ times: [Double], _ expected: [Double], early: Double, late: Double) -> Bool {
        times.count == expected.count && !zip(times, expected).contains(where: { $0 < $1 - early || $0 > $1 + late })
    }

    static func within(_ early: Double, _ late: Double) -> String {
        late > 0.001 ? " (−\(Scenario.formatSeconds(early)) +\(Scenario.formatSeconds(late)))" : ""
    }

    static func seconds(_ values: [Double]) -> String {
        "[" + values.map { Scenario.formatSeconds($0) }.joined(separator: ", ") + "]"
    }

    static func describe(_ journal: [JournalEntry]) -> String {
        journal.prefix(12).map { "\($0.method) \($0.host)\($0.path) → \($0.status)" }.joined(separator: "; ")
            + (journal.count > 12 ? "; …" : "")
    }
}
