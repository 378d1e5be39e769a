import Foundation
import InsightCore
import Logging

/// The resend schedule of seeds/003: after a non-2xx answer the request is sent again after each
/// of these waits, in order, until a 2xx.
public enum ResendSchedule {
    public static let cycles: [[Double]] = [
        [1, 3, 5, 10, 10],
        [0, 1, 3, 5, 30],
        [60, 60, 180, 300, 600, 1800],
    ]
    /// Every wait, first cycle first (16 resends after the first attempt).
    public static let waits: [Double] = cycles.flatMap { $0 }
}

/// One event waiting to be delivered.
public struct PendingNotification: Sendable, Hashable {
    public let id: Int
    public let event: JSON
    public let enqueuedAt: Date
}

/// What happened to the notifications a `deliver()` call handled.
public struct DeliveryReport: Sendable {
    public struct Delivered: Sendable, Hashable {
        public let id: Int
        public let attempts: Int
        public let at: Date
    }
    public struct Undelivered: Sendable {
        public let id: Int
        public let attempts: Int
        public let diagnosis: Diagnosis
    }
    public var delivered: [Delivered] = []
    /// Notifications whose whole schedule failed: reported, never dropped silently.
    public var undelivered: [Undelivered] = []
    /// Set when this call disabled the integration.
    public var disabled: Diagnosis?
    /// Still queued (the integration is disabled, or was disabled mid-way, with `.queue`).
    public var stillQueued: Int = 0
    /// Events not sent because the integration is disabled (`.drop`): in this call.
    public var notSent: Int = 0
}

/// The notifier of seeds/003: sends events to an InsightConnect API trigger, resends on the
/// documented schedule, and disables itself when unsuccessful requests reach 60% in 12 hours.
///
/// ASSUMED (the seed is silent): what a "request" is in the 60% rule (`DisableCounting`, one
/// notification by default); the rule applies once the window holds `minimumRequests`; a
/// notification whose last resend fails is reported undelivered; events are not sent later when
/// they arise while disabled (`WhileDisabled`).
public actor Notifier {
    public enum State: Sendable, Equatable {
        case enabled
        case disabled
        /// Deleted: the settings are gone and nothing more is sent.
        case deleted
    }

    public private(set) var state: State = .enabled
    /// Kept while disabled, dropped on delete.
    public private(set) var settings: TriggerSettings?
    /// Messages the integration emits about itself ("automatically disabled …").
    public private(set) var systemNotices: [String] = []
    public let queueCapacity: Int
    public let failureThreshold: Double
    public let window: Double
    public let minimumRequests: Int
    public let whileDisabled: WhileDisabled
    public let counting: DisableCounting
    public private(set) var queue: [PendingNotification] = []
    /// Events refused because the queue was full.
    public private(set) var overflowed = 0
    /// Events not sent because the integration was disabled (`.drop`), over its life, and since
    /// it was last disabled.
    public private(set) var notSentWhileDisabled = 0
    private var notSentSinceDisabled = 0
    /// Events offered after the integration was deleted.
    public private(set) var refusedAfterDelete = 0
    /// Set when the rule disables the integration, for the report of the call it happened in.
    private var autoDisabled: Diagnosis?
    /// Disabled by the 60% rule rather than by a user (the cause a later step names).
    private var disabledByRule = false
    /// Final outcomes in the window: (when, delivered?).
    private var outcomes: [(at: Date, ok: Bool)] = []
    private var nextID = 1
    private let sender: RequestSender
    private let clock: any InsightClock
    private let logger: Logger

    public init(
        settings: TriggerSettings, transport: any HTTPTransport, clock: any InsightClock, queueCapacity: Int = 1_000,
        failureThreshold: Double = 0.6, window: Double = 12 * 3600, minimumRequests: Int = 5,
        whileDisabled: WhileDisabled = .drop, counting: DisableCounting = .notifications,
        logger: Logger = Logger(label: "insight-replay.notifier")
    ) {
        self.whileDisabled = whileDisabled
        self.counting = counting
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.queueCapacity = max(1, queueCapacity)
        self.failureThreshold = failureThreshold
        self.window = window
        self.minimumRequests = max(1, minimumRequests)
        // One attempt per scheduled send: the schedule is the retry policy.
        sender = RequestSender(transport: transport, clock: clock, retry: RetryPolicy(maxAttempts: 1), logger: logger, product: .notifier)
    }

    public enum EnqueueResult: Sendable, Equatable {
        case queued(id: Int)
        /// The queue is full: the event was not taken; `overflowed` counts it.
        case overflow(queued: Int)
        /// The integration is disabled (`.drop`): the event is not sent, now or later.
        case notSent
        case deleted
    }

    /// Queues an event for delivery. A full queue refuses it and says so.
    public func enqueue(_ event: JSON) -> EnqueueResult {
        guard state != .deleted else {
            refusedAfterDelete += 1
            return .deleted
        }
        if state == .disabled, whileDisabled == .drop {
            notSentWhileDisabled += 1
            notSentSinceDisabled += 1
            return .notSent
        }
        guard queue.count < queueCapacity else {
            overflowed += 1
            logger.warning("notification queue full (\(queueCapacity)); event refused, \(overflowed) refused so far")
            return .overflow(queued: queue.count)
        }
        let id = nextID
        nextID += 1
        queue.append(PendingNotification(id: id, event: event, enqueuedAt: clock.now()))
        return .queued(id: id)
    }

    /// Delivers the queue in order, each notification on the resend schedule. Stops, keeping
    /// what is left queued, if the integration becomes disabled.
    public func deliver() async -> DeliveryReport {
        var report = DeliveryReport()
        let notSentBefore = notSentWhileDisabled
        while state == .enabled, !queue.isEmpty {
            // Out of the queue while it is sent: a disable mid-way (counting attempts) drops or
            // keeps what waits behind it, and this one ends delivered or undelivered.
            let next = queue.removeFirst()
            switch await deliverOne(next) {
            case .delivered(let attempts):
                report.delivered.append(.init(id: next.id, attempts: attempts, at: clock.now()))
                if counting == .notifications { record(ok: true) }
            case .gaveUp(let attempts, let diagnosis):
                report.undelivered.append(.init(id: next.id, attempts: attempts, diagnosis: diagnosis))
                if counting == .notifications { record(ok: false) }
            case .invalid(let diagnosis):
                report.undelivered.append(.init(id: next.id, attempts: 0, diagnosis: diagnosis))
            }
            if counting == .notifications { checkThreshold() }
            if let disabled = autoDisabled {
                report.disabled = disabled
                autoDisabled = nil
            }
        }
        report.stillQueued = queue.count
        report.notSent = notSentWhileDisabled - notSentBefore
        return report
    }

    /// "Test integration": one message prefixed `[Test message]`, one attempt, and a diagnosis
    /// if it does not arrive.
    public func sendTest(name: String = "InsightReplay") async -> Result<Void, ClientError> {
        let event: JSON = ["title": .string("[Test message] \(name): test notification"), "type": "test",
                           "text": "[Test message] If you can read this, the integration works."]
        guard let settings, state != .deleted else {
            return .failure(ClientError(Notifier.deleted))
        }
        let endpoint: TriggerEndpoint
        switch SettingsCheck.triggerURL(settings.url) {
        case .success(let found): endpoint = found
        case .failure(let diagnosis): return .failure(ClientError(diagnosis))
        }
        if let diagnosis = SettingsCheck.token(settings.apiKey) { return .failure(ClientError(diagnosis)) }
        do {
            let outcome = try await post(event, to: endpoint, key: settings.apiKey)
            if (200...299).contains(outcome.response.status) { return .success(()) }
            return .failure(ClientError(await diagnose(outcome, endpoint: endpoint, key: settings.apiKey)))
        } catch {
            return .failure(error)
        }
    }

    /// Turns the integration on again with the settings it kept; the failures that disabled it
    /// no longer count.
    public func enable() {
        guard state == .disabled else { return }
        state = .enabled
        outcomes.removeAll()
        let missed = notSentSinceDisabled == 0 ? ""
            : "; the \(notSentSinceDisabled) event(s) not sent while it was disabled will not be sent later"
        systemNotices.append("The InsightConnect integration was enabled again with its settings kept\(missed).")
        notSentSinceDisabled = 0
    }

    /// seeds/003 "Disabling and deleting an integration": disabling stops sending and keeps the
    /// settings (and the queue) for re-enabling; both actions are announced as system events.
    public func disable() {
        guard state == .enabled else { return }
        state = .disabled
        disabledByRule = false
        let dropped = dropQueueOnDisable()
        systemNotices.append("The InsightConnect integration was disabled; its settings are kept\(dropped).")
    }

    /// With `.drop`, what waits when the integration is disabled is not sent either; the words
    /// that say so in the system message.
    private func dropQueueOnDisable() -> String {
        notSentSinceDisabled = 0
        guard whileDisabled == .drop, !queue.isEmpty else {
            return queue.isEmpty ? "" : "; \(queue.count) queued notification(s) wait for it to be enabled again"
        }
        let count = queue.count
        queue.removeAll()
        notSentWhileDisabled += count
        notSentSinceDisabled += count
        return "; \(count) queued notification(s) will not be sent"
    }

    /// Deletes the integration: settings and queue are gone; nothing more is sent.
    public func delete() {
        guard state != .deleted else { return }
        let dropped = queue.count
        state = .deleted
        settings = nil
        queue.removeAll()
        systemNotices.append("The InsightConnect integration was deleted with its settings" + (dropped > 0 ? "; \(dropped) queued notification(s) dropped." : "."))
    }

    /// What a deleted integration answers: deleted on purpose, nothing sent; no parameter error.
    public static let deleted = Diagnosis(product: .notifier,
        .integrationDeleted, summary: "The integration was deleted; nothing is sent any more.",
        ranked: [RankedCause(Cause.deletedByUser, .confirmed, because: "the integration was deleted")])

    /// Disabled (by a user, or earlier by the rule): nothing is sent until it is enabled again.
    public func disabledDiagnosis(notSent: Int) -> Diagnosis {
        let what = whileDisabled == .drop
            ? "\(notSent) event(s) were not sent and will not be when it is enabled again"
            : "\(queue.count) notification(s) wait for it to be enabled again"
        let cause = disabledByRule ? RankedCause(Cause.failuresReachedThreshold, .confirmed, because: "disabled by the rule earlier")
            : RankedCause(Cause.disabledByUser, .confirmed, because: "disabled by a user")
        return Diagnosis(product: .notifier, .integrationDisabled, summary: "The integration is disabled; \(what).", ranked: [cause],
                         remedies: ["Enable the integration again when notifications should resume; its settings were kept"])
    }

    // MARK: Internals

    private enum Result1 {
        case delivered(attempts: Int)
        case gaveUp(attempts: Int, Diagnosis)
        case invalid(Diagnosis)
    }

    private func deliverOne(_ item: PendingNotification) async -> Result1 {
        guard let settings else { return .invalid(Notifier.deleted) }
        let endpoint: TriggerEndpoint
        switch SettingsCheck.triggerURL(settings.url) {
        case .success(let found): endpoint = found
        case .failure(let diagnosis): return .invalid(diagnosis)
        }
        if let diagnosis = SettingsCheck.token(settings.apiKey) { return .invalid(diagnosis) }
        var attempts = 0
        var last: Result<Outcome, ClientError>?
        for wait in [0] + ResendSchedule.waits {
            if attempts > 0 { try? await clock.sleep(seconds: wait) }
            guard state == .enabled else { break }
            attempts += 1
            do {
                let outcome = try await post(["events": [item.event]], to: endpoint, key: settings.apiKey)
                let ok = (200...299).contains(outcome.response.status)
                if counting == .attempts {
                    record(ok: ok)
                    checkThreshold()
                }
                if ok { return .delivered(attempts: attempts) }
                last = .success(outcome)
            } catch {
                if counting == .attempts {
                    record(ok: false)
                    checkThreshold()
                }
                last = .failure(error)
            }
        }
        let diagnosis: Diagnosis
        switch last {
        case .success(let outcome)?: diagnosis = await diagnose(outcome, endpoint: endpoint, key: settings.apiKey)
        case .failure(let error)?: diagnosis = error.diagnosis
        case nil: diagnosis = Diagnosis(product: .notifier, .integrationDisabled, summary: "The integration was disabled before the notification was sent.")
        }
        return .gaveUp(attempts: attempts, diagnosis)
    }

    private func post(_ body: JSON, to endpoint: TriggerEndpoint, key: String) async throws(ClientError) -> Outcome {
        try await sender.send("POST", host: endpoint.region.platformHost, path: endpoint.path, token: key,
                              body: body.encoded(), retries: false)
    }

    private func record(ok: Bool) {
        let now = clock.now()
        outcomes.append((now, ok))
        outcomes.removeAll { now.timeIntervalSince($0.at) >= window }
    }

    /// Disables the integration when unsuccessful requests (`counting` says what one is) reach
    /// the threshold in the window; the diagnosis waits in `autoDisabled` for the report.
    private func checkThreshold() {
        guard state == .enabled, outcomes.count >= minimumRequests else { return }
        let failed = outcomes.filter { !$0.ok }.count
        let ratio = Double(failed) / Double(outcomes.count)
        guard ratio >= failureThreshold else { return }
        state = .disabled
        disabledByRule = true
        let percent = Int((ratio * 100).rounded())
        let hours = Int(window / 3600)
        let dropped = dropQueueOnDisable()
        let notice = "The InsightConnect integration was automatically disabled: \(failed) of \(outcomes.count) \(counting.unit) (\(percent)%) were unsuccessful in the last \(hours) hours. Its settings are kept\(dropped); re-enable it after fixing the cause."
        systemNotices.append(notice)
        logger.warning("\(notice)")
        autoDisabled = Diagnosis(product: .notifier,
            .integrationDisabled, summary: notice,
            evidence: ["\(failed) unsuccessful of \(outcomes.count) \(counting.unit) since \(outcomes.first.map { $0.at.iso8601 } ?? "")"],
            ranked: [RankedCause(Cause.failuresReachedThreshold, .confirmed, because: "\(percent)% ≥ \(Int(failureThreshold * 100))% of \(counting.unit)")])
    }

    /// Explains a non-2xx answer from the trigger.
    private func diagnose(_ outcome: Outcome, endpoint: TriggerEndpoint, key: String) async -> Diagnosis {
        if let miss = RequestSender.replayMissDiagnosis(outcome, product: .notifier) { return miss }
        let status = outcome.response.status
        let message = outcome.response.json?["error"]?["message"]?.stringValue ?? outcome.response.bodyText.prefix(120).description
        var evidence = ["POST \(outcome.url): \(status) \(message)"]
        switch status {
        case 400 where message.localizedCaseInsensitiveContains("not active"):
            return Diagnosis(product: .notifier, .incorrectIntegrationParameters, summary: "The workflow \(endpoint.workflowID) is not active.",
                             evidence: evidence,
                             ranked: [RankedCause(Cause.workflowInactive, .confirmed, because: message)],
                             remedies: ["Activate the workflow in Automation → Workflows, then Test integration"])
        case 401, 404:
            // Where does the key work? /validate has no side effects (posting the trigger elsewhere would run it).
            if let region = await sender.regionAccepting(key, excluding: endpoint.region).region {
                evidence.append("the API key is accepted in \(region.code), not in \(endpoint.region.code)")
                return Diagnosis(product: .notifier,
                    .incorrectIntegrationParameters,
                    summary: "The API key belongs to region \(region.code), but the API URL points at \(endpoint.region.code).",
                    evidence: evidence,
                    ranked: [RankedCause(Cause.triggerURLWrong, .likely, because: "key valid in \(region.code)")],
                    remedies: ["Use the API URL of the workflow in \(region.code): \(endpoint.inRegion(region).url)"])
            }
            if status == 401 {
                return Diagnosis(product: .notifier, .incorrectIntegrationParameters, summary: "The trigger refuses the API key (401).", evidence: evidence,
                                 ranked: [RankedCause(Cause.triggerKeyRejected, .likely, because: "401 from the trigger")],
                                 remedies: ["Generate a new user key (Settings → API Keys → New User Key) and paste it into the API key field"])
            }
            return Diagnosis(product: .notifier, .incorrectIntegrationParameters, summary: "There is no workflow \(endpoint.workflowID) in \(endpoint.region.code).",
                             evidence: evidence,
                             ranked: [RankedCause(Cause.triggerURLWrong, .likely, because: "404 from the trigger")])
        case 300...399:
            return Redirect.diagnosis(status: status, location: outcome.response.headers["Location"], requestURL: outcome.url, product: .notifier)
        case 429:
            return Diagnosis(product: .notifier, .rateLimited, summary: "The trigger answered 429 rate limit exceeded.", evidence: evidence)
        case 500...599:
            return Diagnosis(product: .notifier, .serviceUnavailable, summary: "InsightConnect answered \(status).", evidence: evidence,
                             ranked: [RankedCause(Cause.serverError, .confirmed, because: "\(status)")])
        default:
            return Diagnosis(product: .notifier, .incorrectIntegrationParameters, summary: "The trigger answered \(status).", evidence: evidence)
        }
    }
}
