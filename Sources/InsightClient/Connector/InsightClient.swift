import Foundation
import InsightCore
import Logging

/// An optional admin credential that lets the client check the service user's account the way
/// seeds/000 tells an admin to ("Log in as admin and verify the service user exists").
public struct AdminCheck: Sendable {
    public var token: String
    /// The service user's email, looked up through the account API.
    public var serviceUser: String?
    public init(token: String, serviceUser: String?) {
        self.token = token
        self.serviceUser = serviceUser
    }
}

/// The integration client of seeds/000 (URL + Token): validates, syncs, and explains failures.
///
/// Transport-agnostic (in-process emulator or a socket) and clock-injected: every wait goes
/// through `clock.sleep`, so a virtual clock runs retry schedules in no wall time.
public actor InsightClient {
    public nonisolated let settings: IntegrationSettings
    let transport: any HTTPTransport
    let clock: any InsightClock
    let retry: RetryPolicy
    let admin: AdminCheck?
    let logger: Logger
    let sender: RequestSender

    /// When the platform last accepted the key; evidence that a later 401 is a key change.
    public internal(set) var lastAccepted: Date?
    /// When the first sync began; within 15 minutes of it, empty data is an initial sync.
    public internal(set) var firstSyncStarted: Date?
    /// When a sync last succeeded with the IDR endpoints; evidence that a later 403 is a role change.
    var lastInvestigationsOK: Date?
    var lastLogSearchOK: Date?
    /// Where the next sync starts.
    public internal(set) var checkpoint: SyncCheckpoint
    /// Items synced since this client was made; none ever means "No Data Syncing".
    var syncedTotal = 0
    let runner: LogQueryRunner

    /// The same integration with another token (the user pasted a rotated key): where syncing
    /// stands is kept — the checkpoint, the first sync, what was synced — and what was learnt
    /// about the old key is not.
    public func replacingToken(_ token: String) async -> InsightClient {
        let client = InsightClient(settings: IntegrationSettings(url: settings.url, token: token), transport: transport, clock: clock,
                                   retry: retry, admin: admin, checkpoint: checkpoint, logger: logger)
        await client.carryOver(firstSyncStarted: firstSyncStarted, syncedTotal: syncedTotal,
                               investigationsOK: lastInvestigationsOK, logSearchOK: lastLogSearchOK)
        return client
    }

    private func carryOver(firstSyncStarted: Date?, syncedTotal: Int, investigationsOK: Date?, logSearchOK: Date?) {
        self.firstSyncStarted = firstSyncStarted
        self.syncedTotal = syncedTotal
        lastInvestigationsOK = investigationsOK
        lastLogSearchOK = logSearchOK
    }

    public init(
        settings: IntegrationSettings, transport: any HTTPTransport, clock: any InsightClock,
        retry: RetryPolicy = RetryPolicy(), admin: AdminCheck? = nil, checkpoint: SyncCheckpoint = SyncCheckpoint(),
        logger: Logger = Logger(label: "insight-replay.client")
    ) {
        self.checkpoint = checkpoint
        self.settings = settings
        self.transport = transport
        self.clock = clock
        self.retry = retry
        self.admin = admin
        self.logger = logger
        sender = RequestSender(transport: transport, clock: clock, retry: retry, logger: logger, product: .siemConnector)
        runner = LogQueryRunner(sender: sender, clock: clock)
    }

    /// The endpoint after the local checks, or the diagnosis that stops us before any request.
    func checkedEndpoint() throws(ClientError) -> PlatformEndpoint {
        let endpoint: PlatformEndpoint
        switch SettingsCheck.url(settings.url) {
        case .success(let found): endpoint = found
        case .failure(let diagnosis): throw ClientError(diagnosis)
        }
        if let diagnosis = SettingsCheck.token(settings.token) { throw ClientError(diagnosis) }
        return endpoint
    }

    /// Sends through the shared request path (retries, quotas, jitter; see `RequestSender`).
    func send(
        _ method: String, host: String, path: String, query: [URLQueryItem] = [], token: String,
        retries: Bool = true
    ) async throws(ClientError) -> Outcome {
        try await sender.send(method, host: host, path: path, query: query, token: token, retries: retries)
    }

    static func transportDiagnosis(_ error: TransportFailure, url: String, product: Product) -> Diagnosis {
        switch error.kind {
        case .nameResolution:
            let remedy: String
            switch product {
            case .siemConnector: remedy = "Set URL to your region's base URL (https://REGION.api.insight.rapid7.com)"
            case .auditPull: remedy = "Set the storage region to the Data Storage Region shown in Settings → Audit Log"
            case .notifier: remedy = "Copy the API URL of the workflow's API trigger again: it names the workflow's region"
            }
            return Diagnosis(
                product: product, .wrongRegionalURL, summary: "The host \(error.host) does not resolve.",
                evidence: ["\(url): \(error)"],
                ranked: [RankedCause(product == .siemConnector ? Cause.incorrectRegionalEndpoint : product == .auditPull ? Cause.wrongStorageRegion : Cause.triggerURLWrong,
                                     .confirmed, because: "no such host")],
                remedies: [remedy])
        default:
            return Diagnosis(
                product: product, .serviceUnavailable, summary: "Could not reach \(error.host): \(error).",
                evidence: ["\(url): \(error)"],
                ranked: [RankedCause(Cause.serverError, .likely, because: "\(error.kind.rawValue)")])
        }
    }

    /// The diagnosis for a final response that is not one the operation handles itself.
    func unexpected(_ outcome: Outcome, operation: String) -> Diagnosis {
        if let miss = RequestSender.replayMissDiagnosis(outcome, product: .siemConnector) { return miss }
        let status = outcome.response.status
        let line = "\(operation): \(status) from \(outcome.url) after \(outcome.attempts) attempt(s)"
        switch status {
        case 429:
            let wait = RequestSender.retryAfter(outcome.response).map { " (Retry-After \(Int($0)) s)" } ?? ""
            return Diagnosis(
                .rateLimited, summary: "The platform kept answering 429 rate limit exceeded\(wait).",
                evidence: [line],
                ranked: [RankedCause(Cause.rateLimitsReached, .confirmed, because: "\(outcome.rateLimited) answer(s) 429")],
                remedies: ["Lower the sync frequency or wait for the quota window to reset"])
        case 500...599:
            return Diagnosis(
                .serviceUnavailable, summary: "The platform answered \(status) on every attempt.",
                evidence: [line],
                ranked: [RankedCause(Cause.serverError, .confirmed, because: "\(outcome.attempts) attempt(s) answered \(status)")])
        case 300...399:
            return Redirect.diagnosis(status: status, location: outcome.response.headers["Location"], requestURL: outcome.url, product: .siemConnector)
        case 404:
            return Diagnosis(
                .wrongRegionalURL, summary: "\(outcome.url) does not exist on the platform.",
                evidence: [line],
                ranked: [RankedCause(Cause.pathComponents, .likely, because: "404 for a documented endpoint"),
                         RankedCause(Cause.oldEndpointFormat, .likely)],
                remedies: ["Set URL to the base URL only, e.g. https://us2.api.insight.rapid7.com"])
        default:
            return Diagnosis(
                .serviceUnavailable, summary: "Unexpected answer \(status) from the platform.",
                evidence: [line, "body: \(String(outcome.response.bodyText.prefix(200)))"])
        }
    }
}
