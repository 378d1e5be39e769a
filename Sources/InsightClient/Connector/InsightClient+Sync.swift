import Foundation
import InsightCore

/// What one sync fetched, and a warning when nothing has ever arrived.
public struct SyncReport: Sendable, Hashable {
    /// New investigations this sync, each counted once.
    public let investigations: Int
    public let alerts: Int
    public let logEvents: Int
    public let logSources: Int
    /// The rrns of the investigations handed on as new this sync, in order (what a SIEM ingests).
    public var investigationRRNs: [String] = []
    /// New log events by the log set of their log (seeds/000 "What data is synced": which kinds).
    public var logEventsBySet: [String: Int] = [:]
    /// Requests that returned a page of data (investigations, alerts, log results).
    public let pages: Int
    /// Set when the sync worked but no data has ever arrived (seeds/000 "No Data Syncing").
    public let warning: Diagnosis?
}

/// Where the next sync starts: only what is newer is fetched.
public struct SyncCheckpoint: Codable, Sendable, Equatable {
    /// `created_time` of the newest investigation seen, and the rrns created in that second.
    public var investigationsThrough: Date?
    public var investigationsAtCursor: [String] = []
    public var alertsThrough: Date?
    public var alertsAtCursor: [String] = []
    /// Log Search: (timestamp ms, sequence number) of the newest event seen.
    public var logEventsThrough: Int64?
    public var logSequenceThrough: Int64?
    public init() {}
}

extension InsightClient {
    /// Seconds seeds/000 allows for an initial sync ("Allow up to 15 minutes").
    public static let initialSyncAllowance: Double = 15 * 60
    static let pageSize = 100
    /// Pages per family and sync: enough for 2,000,000 investigations, a bound all the same.
    static let maxRequests = 20_000

    /// Fetches what is new since the last sync: investigations, alerts, and Log Search events.
    public func sync() async throws(ClientError) -> SyncReport {
        let endpoint = try checkedEndpoint()
        let started = clock.now()
        if firstSyncStarted == nil { firstSyncStarted = started }
        var pages = 0
        var rateLimited = 0

        let newRRNs = try await syncInvestigations(endpoint, until: started, pages: &pages, rateLimited: &rateLimited)
        let investigations = newRRNs.count
        lastInvestigationsOK = clock.now()
        let alerts = try await syncAlerts(endpoint, until: started, pages: &pages, rateLimited: &rateLimited)

        let logsOutcome = try await send("GET", host: endpoint.region.platformHost, path: "/log_search/management/logs", token: settings.token)
        rateLimited += logsOutcome.rateLimited
        try await requireSuccess(logsOutcome, endpoint, operation: "sync logs", family: .logSearch)
        let logs = logsOutcome.response.json?["logs"]?.arrayValue ?? []
        let logIDs = logs.compactMap { $0["id"]?.stringValue }
        var setOfLog: [String: String] = [:]
        for log in logs {
            if let id = log["id"]?.stringValue, let set = log["logsets_info"]?.arrayValue?.first?["name"]?.stringValue { setOfLog[id] = set }
        }
        let (events, eventsByLog) = try await syncLogEvents(endpoint, logIDs: logIDs, until: started, pages: &pages)
        lastLogSearchOK = clock.now()
        lastAccepted = clock.now()

        syncedTotal += investigations + alerts + events
        let warning = syncedTotal == 0 ? noData(logSources: logIDs.count, rateLimited: rateLimited, now: clock.now()) : nil
        var report = SyncReport(investigations: investigations, alerts: alerts, logEvents: events, logSources: logIDs.count,
                                pages: pages, warning: warning)
        report.investigationRRNs = newRRNs
        for (log, count) in eventsByLog { report.logEventsBySet[setOfLog[log] ?? "unknown", default: 0] += count }
        return report
    }

    /// Keyset paging on `created_time`: each request starts one second before the newest
    /// investigation seen, oldest first; rrns already seen are skipped. Investigations created
    /// or removed between pages can neither be missed nor counted twice.
    private func syncInvestigations(_ endpoint: PlatformEndpoint, until end: Date, pages: inout Int, rateLimited: inout Int) async throws(ClientError) -> [String] {
        var cursor = checkpoint.investigationsThrough ?? end.addingTimeInterval(-28 * 86_400)
        // The rrns seen that a later request can return again, with their created_time: each
        // request starts a second before the cursor, so those older than two seconds before it
        // (a second's margin for how the start is written) are let go as the cursor moves. A
        // sync of a million investigations holds that window, not a million entries twice over.
        var recent: [String: Date] = [:]
        for rrn in checkpoint.investigationsAtCursor { recent[rrn] = cursor }
        var latest = cursor
        var fresh: [String] = []
        var index = 0
        for _ in 0..<Self.maxRequests {
            let outcome = try await send(
                "GET", host: endpoint.region.platformHost, path: "/idr/v2/investigations",
                query: [URLQueryItem(name: "start_time", value: cursor.addingTimeInterval(-1).iso8601),
                        URLQueryItem(name: "end_time", value: end.iso8601),
                        URLQueryItem(name: "sort", value: "created_time,ASC"),
                        URLQueryItem(name: "index", value: "\(index)"), URLQueryItem(name: "size", value: "\(Self.pageSize)")],
                token: settings.token)
            rateLimited += outcome.rateLimited
            try await requireSuccess(outcome, endpoint, operation: "sync investigations", family: .investigations)
            guard let data = outcome.document?.root["data"]?.items else {
                throw ClientError(unexpected(outcome, operation: "sync investigations (the body is not the documented JSON)"))
            }
            pages += 1
            var newest = cursor
            for item in data {
                guard let rrn = item["rrn"]?.stringValue, let time = item["created_time"]?.stringValue.flatMap(RFC3339.parse) else { continue }
                if recent.updateValue(time, forKey: rrn) == nil { fresh.append(rrn) }
                newest = max(newest, time)
            }
            latest = max(latest, newest)
            if data.count < Self.pageSize { break }
            // A full page: move the cursor on, or, if one second holds more than a page, step the index.
            if newest > cursor {
                cursor = newest
                index = 0
                let kept = cursor.addingTimeInterval(-2)
                recent = recent.filter { $0.value >= kept }
            } else {
                index += 1
            }
        }
        let through = max(cursor, latest)
        checkpoint.investigationsThrough = through
        // The next sync re-reads from one second before `through`: remember what it will see again
        // (all inside the window kept, which reaches two seconds before the cursor).
        checkpoint.investigationsAtCursor = recent.filter { $0.value >= through.addingTimeInterval(-1) }.keys.sorted()
        return fresh
    }

    /// `/idr/at` alert search from the checkpoint, `index` an item offset stepped by the page size.
    private func syncAlerts(_ endpoint: PlatformEndpoint, until end: Date, pages: inout Int, rateLimited: inout Int) async throws(ClientError) -> Int {
        let start = checkpoint.alertsThrough ?? end.addingTimeInterval(-28 * 86_400)
        // Counted once each by digest: a sync of 1,000,000 alerts held their 80-character rrns
        // (about 130 MB); digests are 16 bytes each.
        var seen = Set(checkpoint.alertsAtCursor.map(RRNDigest.init))
        var newest = start
        var atNewest = Set(checkpoint.alertsAtCursor)
        var fresh = 0
        var offset = 0
        for _ in 0..<Self.maxRequests {
            let body: JSON = ["search": ["start_time": .string(start.iso8601), "end_time": .string(end.iso8601)]]
            let outcome = try await sender.send(
                "POST", host: endpoint.region.platformHost, path: "/idr/at/alerts/ops/search",
                query: [URLQueryItem(name: "size", value: "\(Self.pageSize)"), URLQueryItem(name: "index", value: "\(offset)")],
                token: settings.token, body: body.encoded())
            rateLimited += outcome.rateLimited
            try await requireSuccess(outcome, endpoint, operation: "sync alerts", family: .investigations)
            guard let json = outcome.document?.root, let alerts = json["alerts"]?.items else {
                throw ClientError(unexpected(outcome, operation: "sync alerts (the body is not the documented JSON)"))
            }
            pages += 1
            for alert in alerts {
                guard let rrn = alert["rrn"]?.stringValue else { continue }
                if seen.insert(RRNDigest(rrn)).inserted { fresh += 1 }
                if let created = alert["created_at"]?.stringValue.flatMap(RFC3339.parse) {
                    if created > newest { newest = created; atNewest = [rrn] } else if created == newest { atNewest.insert(rrn) }
                }
            }
            if json["metadata"]?["is_last_index"]?.boolValue ?? true || alerts.isEmpty { break }
            offset += alerts.count
        }
        checkpoint.alertsThrough = newest
        checkpoint.alertsAtCursor = atNewest.sorted()
        return fresh
    }

    /// Log Search events of every log since the checkpoint, through 202 polling and `Next` pages.
    private func syncLogEvents(_ endpoint: PlatformEndpoint, logIDs: [String], until end: Date, pages: inout Int) async throws(ClientError) -> (Int, [String: Int]) {
        guard !logIDs.isEmpty else { return (0, [:]) }
        let from = checkpoint.logEventsThrough ?? end.addingTimeInterval(-28 * 86_400).unixMillis
        let first = HTTPRequest(
            method: "GET", host: endpoint.region.platformHost, path: "/log_search/query/logs/\(logIDs.joined(separator: ":"))",
            query: [URLQueryItem(name: "from", value: "\(from)"), URLQueryItem(name: "to", value: "\(end.unixMillis)"),
                    URLQueryItem(name: "per_page", value: "500")],
            headers: ["X-Api-Key": settings.token, "Accept": "application/json"])
        var through = (checkpoint.logEventsThrough ?? -1, checkpoint.logSequenceThrough ?? -1)
        var count = 0
        var byLog: [String: Int] = [:]
        do {
            pages += try await runner.run(first) { events in
                for event in events {
                    let point = (Int64(event["timestamp"]?.intValue ?? -1), Int64(event["sequence_number"]?.intValue ?? -1))
                    guard point > through else { continue }
                    through = point
                    count += 1
                    if let log = event["log_id"]?.stringValue { byLog[log, default: 0] += 1 }
                }
            }
        } catch let error as ClientError {
            switch error.queryStop {
            case nil: throw error
            case .gaveUp(let why)?: throw ClientError(Diagnosis(.serviceUnavailable, summary: "The log query did not finish: \(why)."))
            case .answer(let outcome)?: try await requireSuccess(outcome, endpoint, operation: "sync log events", family: .logSearch)
                throw ClientError(unexpected(outcome, operation: "sync log events"))
            }
        } catch {
            throw ClientError(Diagnosis(.serviceUnavailable, summary: "The log query failed: \(error)"))
        }
        if through.0 >= 0 {
            checkpoint.logEventsThrough = through.0
            checkpoint.logSequenceThrough = through.1
        }
        return (count, byLog)
    }

    enum Family { case investigations, logSearch }

    /// Throws the right diagnosis unless the outcome is a 200.
    func requireSuccess(_ outcome: Outcome, _ endpoint: PlatformEndpoint, operation: String, family: Family) async throws(ClientError) {
        switch outcome.response.status {
        case 200: return
        case 401: throw ClientError(await diagnoseUnauthorized(endpoint, outcome, operation: operation))
        case 403: throw ClientError(await diagnoseForbidden(endpoint, outcome, operation: operation, family: family))
        default: throw ClientError(unexpected(outcome, operation: operation))
        }
    }
}

/// An rrn as 128 bits, for counting each of a great many once without holding their text: two
/// SipHash values of this process's seed, one of the rrn and one of a tag byte and the rrn. Two
/// distinct rrns among a billion share a digest with a probability under 10⁻²⁰.
struct RRNDigest: Hashable {
    let high: Int
    let low: Int

    init(_ rrn: String) {
        var first = Hasher()
        first.combine(rrn)
        var second = Hasher()
        second.combine(0xA5 as UInt8)
        second.combine(rrn)
        high = first.finalize()
        low = second.finalize()
    }
}
