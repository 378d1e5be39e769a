import Foundation
import InsightClient
import InsightCore
import InsightEmulator

/// What seeds/003 requires of a notifier, judged from its POSTs to the trigger (grouped into
/// notifications: a notification's attempts end at a 2xx or after its 17th), the events
/// InsightConnect received, and what each run reported:
///
/// | rule | the seed's words it stands for |
/// |---|---|
/// | a non-2xx resent after 1, 3, 5, 10, 10 s; 0, 1, 3, 5, 30 s; 1, 1, 3, 5, 10, 30 min, to the second | the resend schedule |
/// | no notification given up before its schedule ends | the three cycles |
/// | nothing sent once 60 % of the requests in 12 hours failed (at least `R7_DISABLE_MINIMUM`), until enabled again; that said in the report | automatic disabling |
/// | no event left unsent while enabled below 60 % | the integration keeps notifying |
/// | nothing sent while disabled or after delete; with `R7_WHILE_DISABLED=drop` (the default) no event that arose or waited while disabled sent later | "Disabling and deleting an integration" |
/// | `[Test message]` on every test notification and on no other | "Test integration" |
/// | no event delivered twice | a 2xx ends the resends |
extension SeedRules {
    /// The seed's resend waits, the first attempt's 0 before them.
    static let resendWaits = ResendSchedule.waits
    static var attemptsPerNotification: Int { resendWaits.count + 1 }

    /// Whether a request is a notification to the scenario's trigger (judged here, not by the
    /// generic retry rules: the seed's schedule resends on 401 and waits 0 s after 10 s).
    func isTrigger(_ entry: JournalEntry) -> Bool {
        guard let url = scenario.client.notifier?.url, let path = URL(string: url.trimmingCharacters(in: .whitespaces))?.path else { return false }
        return entry.method == "POST" && Self.normalized(entry.path) == Self.normalized(path)
    }

    private enum NotifierState: Equatable {
        case enabled
        case disabledByUser
        case disabledByRule(at: Double, text: String)
        case deleted
    }

    func notifierFindings(_ observed: Observed) -> [Finding] {
        guard let spec = scenario.client.notifier else { return [] }
        var findings: [Finding] = []
        var noted = Set<String>()
        func note(_ rule: String, _ finding: Finding) {
            if noted.insert(rule).inserted { findings.append(finding) }
        }
        let journal = observed.journal
        let deliveries = observed.deliveries
        var state = NotifierState.enabled
        var queue: [String] = []
        var outcomes: [(at: Double, ok: Bool)] = []
        let drops = spec.whileDisabled == .drop
        /// Events the seed's plain reading never sends: they arose, or waited, while disabled.
        var notToSend: [String] = []
        func disabling(_ next: NotifierState) {
            state = next
            if drops {
                notToSend += queue
                queue.removeAll()
            }
        }
        for (position, run) in observed.runs.enumerated() {
            let next = position + 1 < observed.runs.count ? observed.runs[position + 1] : nil
            let posts = journal.enumerated().filter { _, entry in
                entry.sequence >= run.journalStart && entry.sequence < (next?.journalStart ?? Int.max) && isTrigger(entry)
            }.map { (index: $0.offset, entry: $0.element) }
            let received = deliveries.indices.filter { $0 >= run.deliveriesStart && $0 < (next?.deliveriesStart ?? Int.max) }.map { deliveries[$0] }
            let label = "run \(run.number) (\(run.step?.description ?? "?"))"
            switch run.step {
            case .testNotification? where state == .deleted:
                if let (index, entry) = posts.first {
                    note("state", Finding(
                        line: "sent a test notification after the integration was deleted, in \(label)",
                        category: .integrationDeleted, evidence: [Self.describe(entry, number: index + 1)],
                        remedy: "a deleted integration has no settings left: send nothing and say it was deleted"))
                }
                continue
            case .testNotification?:
                if let first = received.first(where: { !$0.body.contains("[Test message]") }) {
                    note("prefix", Finding(
                        line: "sent a test notification without the [Test message] prefix in \(label): \(first.body.prefix(120))",
                        category: .incorrectIntegrationParameters, evidence: ["delivered: \(first.body.prefix(200))"],
                        remedy: "start every test notification's text with [Test message], and no other"))
                }
                continue
            case .notifier(let action)?:
                switch action {
                case .disable: if state == .enabled { disabling(.disabledByUser) }
                case .enable:
                    if state != .deleted, state != .enabled { state = .enabled; outcomes.removeAll() }
                case .delete: state = .deleted; queue.removeAll()
                }
            case .notify?:
                if state == .enabled || (state != .deleted && !drops) {
                    queue += run.events
                } else if state != .deleted {
                    notToSend += run.events
                }
            default:
                continue
            }
            if let first = received.first(where: { $0.body.contains("[Test message]") }) {
                note("prefix", Finding(
                    line: "marked an ordinary notification [Test message] in \(label): the prefix is for Test integration only",
                    category: .incorrectIntegrationParameters, evidence: ["delivered: \(first.body.prefix(200))"],
                    remedy: "prefix only the test notification with [Test message]"))
            }
            // Nothing may be sent unless enabled.
            if state != .enabled, let (index, entry) = posts.first {
                let why: String
                switch state {
                case .deleted: why = "after the integration was deleted"
                case .disabledByUser: why = "while the user had disabled the integration"
                case .disabledByRule(let at, let text): why = "after the integration should have disabled itself at \(Scenario.formatSeconds(at)) (\(text))"
                case .enabled: why = ""
                }
                note("state", Finding(
                    line: "notified InsightConnect \(why), in \(label)",
                    category: .integrationDisabled, evidence: [Self.describe(entry, number: index + 1)],
                    remedy: "keep the integration's state in R7_STATE_DIR; send nothing while disabled or deleted; drop the queue on delete, and on disable unless R7_WHILE_DISABLED=queue"))
                continue
            }
            guard state == .enabled else { continue }
            if let late = notToSend.first(where: { id in received.contains { ClientWorkspace.body($0.body, carries: id) } }) {
                note("late", Finding(
                    line: "sent event \(late) in \(label), after re-enabling, though it arose or waited while the integration was disabled: disabling \"just stops sending notifications\"",
                    category: .integrationDisabled,
                    evidence: received.filter { ClientWorkspace.body($0.body, carries: late) }.prefix(1).map { "delivered at \($0.time.iso8601): \($0.body.prefix(120))" },
                    remedy: "drop the queue when the integration is disabled and take no events while it is; count them and say so (R7_WHILE_DISABLED=drop); hold them only with R7_WHILE_DISABLED=queue"))
            }
            // The attempts, as notifications: each ends at a 2xx or its 17th attempt.
            var chains: [[(index: Int, entry: JournalEntry)]] = []
            for post in posts {
                if let last = chains.last?.last, !(200...299).contains(last.entry.status), chains[chains.count - 1].count < Self.attemptsPerNotification {
                    chains[chains.count - 1].append(post)
                } else {
                    chains.append([post])
                }
            }
            for chain in chains {
                if state != .enabled {
                    if case .disabledByRule(let at, let text) = state {
                        note("rule", Finding(
                            line: "kept notifying after the integration should have disabled itself at \(Scenario.formatSeconds(at)) (\(text)), in \(label)",
                            category: .integrationDisabled, evidence: [Self.describe(chain[0].entry, number: chain[0].index + 1)],
                            remedy: "after each notification's outcome (each send with R7_DISABLE_COUNTS=attempts), count the unsuccessful ones in the last R7_DISABLE_WINDOW seconds; at R7_DISABLE_PERCENT of at least R7_DISABLE_MINIMUM, stop and say so"))
                    }
                    break
                }
                findings += scheduleFindings(chain, label: label, noted: &noted)
                if !queue.isEmpty { queue.removeFirst() }
                // The rule's count: the notification at its outcome, or each send as answered.
                let counted = spec.disableCounts == .attempts ? chain : [chain.last!]
                var cut = false
                for (place, post) in counted.enumerated() {
                    let at = post.entry.elapsed
                    outcomes.append((at, (200...299).contains(post.entry.status)))
                    outcomes.removeAll { at - $0.at >= spec.disableWindow }
                    let failed = outcomes.filter { !$0.ok }.count
                    guard outcomes.count >= spec.minimumRequests, Double(failed) / Double(outcomes.count) >= spec.disableThreshold else { continue }
                    let percent = Int((Double(failed) * 100 / Double(outcomes.count)).rounded())
                    disabling(.disabledByRule(at: at, text: "\(failed) of \(outcomes.count) \(spec.disableCounts.unit), \(percent)%, unsuccessful in \(Scenario.formatSeconds(spec.disableWindow))"))
                    cut = true
                    if place + 1 < counted.count, case .disabledByRule(_, let text) = state {
                        let next = counted[place + 1]
                        note("rule", Finding(
                            line: "resent a notification after the integration should have disabled itself at \(Scenario.formatSeconds(at)) (\(text)), in \(label)",
                            category: .integrationDisabled, evidence: [Self.describe(next.entry, number: next.index + 1)],
                            remedy: "count every send and resend as it is answered (R7_DISABLE_COUNTS=attempts); at R7_DISABLE_PERCENT of at least R7_DISABLE_MINIMUM, stop at once and say so"))
                    }
                    break
                }
                let ok = (200...299).contains(chain.last!.entry.status)
                if !(ok || chain.count == Self.attemptsPerNotification || cut) {
                    note("gave up", Finding(
                        line: "gave up a notification after \(chain.count) attempt(s) in \(label), the last answered \(chain.last!.entry.status): the documented schedule resends it \(Self.resendWaits.count) times, over three cycles (1, 3, 5, 10, 10 s; 0, 1, 3, 5, 30 s; 1, 1, 3, 5, 10, 30 min)",
                        category: scenario.expect.diagnosis ?? .serviceUnavailable,
                        evidence: chain.suffix(2).map { Self.describe($0.entry, number: $0.index + 1) },
                        remedy: "resend on every non-2xx answer, on the documented schedule, before reporting the notification undelivered"))
                }
            }
            if case .disabledByRule(let at, let text) = state, (run.report?["state"]?.stringValue ?? "") != "disabled" {
                note("said", Finding(
                    line: "did not say it disabled itself in \(label): \(text) at \(Scenario.formatSeconds(at)) reached the documented \(Scenario.plainNumber(spec.disableThreshold * 100))%",
                    category: .integrationDisabled, evidence: ["\(label) reported state: \(run.report?["state"].map(Self.text) ?? "nothing")"],
                    remedy: "report {\"state\": \"disabled\"} and tell the user why, so they fix the cause and enable it again"))
            }
            if case .notify? = run.step, state == .enabled, !queue.isEmpty {
                let failed = outcomes.filter { !$0.ok }.count
                note("unsent", Finding(
                    line: "left \(queue.count) event(s) unsent in \(label) though the integration was enabled: \(failed) of \(outcomes.count) unsuccessful is below the documented \(Scenario.plainNumber(spec.disableThreshold * 100))%\(outcomes.count < spec.minimumRequests ? " (or under \(spec.minimumRequests) \(spec.disableCounts.unit))" : "")",
                    category: scenario.expect.diagnosis ?? .serviceUnavailable, evidence: queue.prefix(3).map { "not sent: \($0)" },
                    remedy: "deliver every queued event in order while enabled; disable only at the documented 60% in 12 hours"))
                queue.removeAll()
            }
        }
        // A 2xx ends a notification's resends: no event arrives twice.
        let given = observed.runs.flatMap(\.events)
        if let twice = given.first(where: { id in deliveries.filter { ClientWorkspace.body($0.body, carries: id) }.count > 1 }) {
            note("twice", Finding(
                line: "delivered event \(twice) to InsightConnect more than once: a 2xx answer ends its resends",
                category: .incorrectIntegrationParameters, evidence: deliveries.filter { ClientWorkspace.body($0.body, carries: twice) }.prefix(2).map { "delivered at \($0.time.iso8601): \($0.body.prefix(120))" },
                remedy: "stop resending a notification once the trigger answers 2xx"))
        }
        return findings
    }

    /// A notification's attempts against the seed's schedule: the first wait off by more than
    /// the tolerance is named.
    private func scheduleFindings(_ chain: [(index: Int, entry: JournalEntry)], label: String, noted: inout Set<String>) -> [Finding] {
        guard !noted.contains("schedule") else { return [] }
        for attempt in chain.indices.dropFirst() {
            let gap = chain[attempt].entry.elapsed - chain[attempt - 1].entry.elapsed
            let wanted = Self.resendWaits[attempt - 1]
            guard gap + tolerance < wanted || gap > wanted + lateTolerance else { continue }
            noted.insert("schedule")
            let (cycle, place) = Self.cyclePlace(attempt - 1)
            return [Finding(
                line: "resent a notification \(Scenario.formatSeconds((gap * 1000).rounded() / 1000)) after attempt \(attempt) in \(label), where the documented schedule waits \(Scenario.formatSeconds(wanted)) (cycle \(cycle), resend \(place)), or gave it up before its \(Self.attemptsPerNotification) attempts",
                category: scenario.expect.diagnosis ?? .serviceUnavailable,
                evidence: [chain[attempt - 1], chain[attempt]].map { Self.describe($0.entry, number: $0.index + 1) },
                remedy: "resend after 1, 3, 5, 10, 10 s; then 0, 1, 3, 5, 30 s; then 1, 1, 3, 5, 10, 30 min, counting each wait from the attempt before")]
        }
        return []
    }

    /// Resend `index` (from 0) as (cycle, place in it), both from 1.
    static func cyclePlace(_ index: Int) -> (Int, Int) {
        var rest = index
        for (number, cycle) in ResendSchedule.cycles.enumerated() {
            if rest < cycle.count { return (number + 1, rest + 1) }
            rest -= cycle.count
        }
        return (ResendSchedule.cycles.count, rest + 1)
    }
}
