import Foundation
import InsightCore
import Logging

/// The two inputs seeds/002 asks for: the Data Storage Region and an API key.
public struct AuditSettings: Sendable {
    /// A code (`us3`) or the name Rapid7 shows (`United States - 3`), any case and spacing.
    public var storageRegion: String
    public var apiKey: String
    public init(storageRegion: String, apiKey: String) {
        self.storageRegion = storageRegion
        self.apiKey = apiKey
    }
}

extension SettingsCheck {
    /// Checks the storage region of seeds/002.
    public static func storageRegion(_ text: String) -> Result<Region, Diagnosis> {
        if let region = Region(name: text) { return .success(region) }
        let known = Region.allCases.map { "\($0.code) (\($0.displayName))" }.joined(separator: ", ")
        let shown = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return .failure(Diagnosis(product: .auditPull,
            .wrongRegionalURL, summary: shown.isEmpty ? "The storage region is empty." : "'\(shown)' is not a Rapid7 storage region.",
            evidence: ["storage region field: '\(shown)'; known: \(known)"],
            ranked: [RankedCause(Cause.wrongStorageRegion, .confirmed, because: "unknown region")],
            remedies: ["Copy the Data Storage Region value from Settings → Audit Log (e.g. us3 or United States - 3)"]))
    }
}

/// What one pull did.
public struct AuditPullReport: Sendable {
    public var processed = 0
    public var rejected: [RejectedRecord] = []
    public var pages = 0
    public var checkpoint: PullCheckpoint?
    /// Set when no record was processed for `noEventsAlertAfter` (seeds/002's alert).
    public var alert: Diagnosis?
}

/// Pulls Rapid7 audit logs incrementally (seeds/002): Log Search on the audit log, from the
/// checkpoint to now, 202 polling and `Next` pages, each event decoded against
/// `Rapid7.AuditLog`. The checkpoint advances after every record the sink accepts, so a pull
/// stopped at any record resumes at the next one: no gap, no duplicate.
public actor AuditPuller {
    public nonisolated let settings: AuditSettings
    let sender: RequestSender
    let runner: LogQueryRunner
    let clock: any InsightClock
    let store: any CheckpointStore
    let logger: Logger
    /// How far back the first pull reaches.
    public let initialLookback: Double
    /// seeds/002: alert when no events were processed for this long (default 24 h).
    public let noEventsAlertAfter: Double
    public let perPage: Int

    public init(
        settings: AuditSettings, transport: any HTTPTransport, clock: any InsightClock, store: any CheckpointStore,
        retry: RetryPolicy = RetryPolicy(), initialLookback: Double = 30 * 86_400, noEventsAlertAfter: Double = 24 * 3600,
        perPage: Int = 500, logger: Logger = Logger(label: "insight-replay.audit")
    ) {
        self.settings = settings
        self.clock = clock
        self.store = store
        self.logger = logger
        self.initialLookback = initialLookback
        self.noEventsAlertAfter = noEventsAlertAfter
        self.perPage = min(500, max(1, perPage))
        sender = RequestSender(transport: transport, clock: clock, retry: retry, logger: logger, product: .auditPull)
        runner = LogQueryRunner(sender: sender, clock: clock)
    }

    /// Pulls what is new and hands each valid record to `sink`, in order. A record the sink
    /// refuses (throws) is not checkpointed: the next pull starts with it.
    public func pull(sink: @Sendable (AuditRecord) async throws -> Void) async throws -> AuditPullReport {
        let region: Region
        switch SettingsCheck.storageRegion(settings.storageRegion) {
        case .success(let found): region = found
        case .failure(let diagnosis): throw ClientError(diagnosis)
        }
        if let diagnosis = SettingsCheck.token(settings.apiKey) { throw ClientError(diagnosis) }
        let now = clock.now()
        var checkpoint: PullCheckpoint?
        do {
            checkpoint = try store.load()
        } catch {
            throw (error as? ClientError) ?? ClientError(Diagnosis(product: .auditPull, .serviceUnavailable, summary: "The checkpoint cannot be read: \(error)"))
        }
        let firstRunAt = checkpoint?.firstRunAt ?? now
        var report = AuditPullReport()

        let logID = try await auditLogID(region)
        let from = checkpoint?.timestamp ?? (now.addingTimeInterval(-initialLookback).unixMillis)
        let host = region.logSearchHost
        let first = HTTPRequest(
            method: "GET", host: host, path: "/audit/logs/\(logID)",
            query: [URLQueryItem(name: "from", value: "\(from)"), URLQueryItem(name: "to", value: "\(now.unixMillis)"),
                    URLQueryItem(name: "per_page", value: "\(perPage)")],
            headers: ["X-Api-Key": settings.apiKey, "Accept": "application/json"])
        var current = checkpoint
        do {
            report.pages = try await runner.run(first) { events in
                for event in events {
                    let stamp = Int64(event["timestamp"]?.intValue ?? -1)
                    let sequence = Int64(event["sequence_number"]?.intValue ?? -1)
                    if let point = current, !point.isBefore(timestamp: stamp, sequence: sequence) { continue }
                    switch AuditDecoder.decode(event.json) {
                    case .record(let record):
                        try await sink(record)
                        report.processed += 1
                    case .rejected(let rejected):
                        logger.warning("audit record \(rejected.sequenceNumber) rejected: \(rejected.reason)")
                        report.rejected.append(rejected)
                    }
                    let accepted = PullCheckpoint(timestamp: stamp, sequenceNumber: sequence, firstRunAt: firstRunAt,
                                                  lastRecordAt: report.processed > 0 ? self.clock.now() : current?.lastRecordAt)
                    try self.store.save(accepted)
                    current = accepted
                }
            }
        } catch let error as ClientError where error.queryStop != nil {
            throw ClientError(await explain(error.queryStop!, region: region))
        }
        if current == nil {
            current = PullCheckpoint(timestamp: from, sequenceNumber: -1, firstRunAt: firstRunAt, lastRecordAt: nil)
            try store.save(current!)
        }
        report.checkpoint = current
        let quietSince = current?.lastRecordAt ?? firstRunAt
        let quiet = clock.now().timeIntervalSince(quietSince)
        if report.processed == 0, quiet >= noEventsAlertAfter {
            report.alert = Diagnosis(product: .auditPull,
                .noDataSyncing,
                summary: "No audit events were processed for \(Self.hours(quiet)) (alert after \(Self.hours(noEventsAlertAfter))).",
                evidence: ["last record at \(current?.lastRecordAt?.iso8601 ?? "never (first pull \(firstRunAt.iso8601))")"],
                ranked: [RankedCause(Cause.noEventsYet, .likely, because: "the audit log is reachable and answers, but empty"),
                         RankedCause(Cause.auditLoggingOff, .ruledOut, because: "the audit log exists")])
        }
        return report
    }

    /// The id of the organization's audit log, or why there is none.
    private func auditLogID(_ region: Region) async throws -> String {
        let outcome = try await sender.send("GET", host: region.logSearchHost, path: "/audit/management/logs", token: settings.apiKey)
        guard outcome.response.status == 200 else {
            throw ClientError(await explain(.answer(outcome), region: region))
        }
        guard let id = outcome.response.json?["logs"]?.arrayValue?.first?["id"]?.stringValue else {
            throw ClientError(Diagnosis(product: .auditPull,
                .auditLoggingNotEnabled, summary: "The organization in \(region.code) has no audit log: audit logging is not enabled.",
                evidence: ["GET \(outcome.url): no audit log listed"],
                ranked: [RankedCause(Cause.auditLoggingOff, .confirmed, because: "no audit log")]))
        }
        return id
    }

    private func explain(_ stop: LogQueryRunner.Stop, region: Region) async -> Diagnosis {
        switch stop {
        case .gaveUp(let why):
            return Diagnosis(product: .auditPull, .serviceUnavailable, summary: "The audit query did not finish: \(why).")
        case .answer(let outcome):
            if let miss = RequestSender.replayMissDiagnosis(outcome, product: .auditPull) { return miss }
            let line = "\(outcome.url): \(outcome.response.status)"
            switch outcome.response.status {
            case 401:
                if let other = await sender.regionAccepting(settings.apiKey, excluding: region).region {
                    return Diagnosis(product: .auditPull,
                        .wrongRegionalURL, summary: "The API key belongs to region \(other.code), but the storage region is \(region.code).",
                        evidence: [line, "the key is accepted in \(other.code)"],
                        ranked: [RankedCause(Cause.wrongStorageRegion, .confirmed, because: "key valid in \(other.code)")],
                        remedies: ["Set the storage region to \(other.code) (\(other.displayName)), the Data Storage Region of Settings → Audit Log"])
                }
                return Diagnosis(product: .auditPull, .authenticationFailed, summary: "The platform rejects the API key in every region.", evidence: [line],
                                 ranked: [RankedCause(Cause.keyIncorrectOrExpired, .likely, because: "401 everywhere")])
            case 403:
                return Diagnosis(product: .auditPull,
                    .insufficientPermissions, summary: "The key may not read audit logs: they need an organization key or a Platform Admin's user key.",
                    evidence: [line],
                    ranked: [RankedCause(Cause.auditNeedsAdmin, .confirmed, because: "403 on the audit API")],
                    remedies: ["Create an organization key (Administrator API Keys → Generate New Organization Key), as the audit-log pull's guide recommends"])
            case 404:
                return Diagnosis(product: .auditPull, .auditLoggingNotEnabled, summary: "The audit log was not found: audit logging is not enabled.", evidence: [line],
                                 ranked: [RankedCause(Cause.auditLoggingOff, .likely, because: "404 for the audit log")])
            case 300...399:
                return Redirect.diagnosis(status: outcome.response.status, location: outcome.response.headers["Location"],
                                          requestURL: outcome.url, product: .auditPull)
            case 429:
                return Diagnosis(product: .auditPull, .rateLimited, summary: "The audit API kept answering 429.", evidence: [line],
                                 ranked: [RankedCause(Cause.rateLimitsReached, .confirmed, because: "429")])
            default:
                return Diagnosis(product: .auditPull, .serviceUnavailable, summary: "The audit API answered \(outcome.response.status).", evidence: [line])
            }
        }
    }

    static func hours(_ seconds: Double) -> String {
        seconds.truncatingRemainder(dividingBy: 3600) == 0 ? "\(Int(seconds / 3600)) h" : "\(Int(seconds)) s"
    }
}
