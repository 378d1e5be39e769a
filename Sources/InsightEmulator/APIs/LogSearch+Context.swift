import Foundation
import InsightCore

extension EmulatorState {
    /// `GET /query/context/{sequence_number}?timestamp=&log_keys=&context_type=&per_page=`: the
    /// log entries just before, after or around one (the `Context` link every event carries).
    /// Answers 200 at once with `{logs, leql{statement, during{from, to}}, events, links}` (the
    /// description's context answer: logs, leql and events required); the entry itself is among
    /// the events for SURROUND only. An entry that is not in the log is a 404.
    func queryContext(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int, audit: Bool) -> HTTPResponse {
        guard let sequence = Int64(match.param("id")) else {
            return .json(400, ["message": "the id is the log entry's sequence number"])
        }
        guard let stampText = request.queryValue("timestamp"), let stamp = Int64(stampText) else {
            return .json(400, ["message": "timestamp is required: the log entry's timestamp in Unix milliseconds"])
        }
        guard let key = request.queryValue("log_keys"), !key.isEmpty else {
            return .json(400, ["message": "log_keys is required: the key of the log holding the entry"])
        }
        let kind = (request.queryValue("context_type") ?? "").uppercased()
        guard ["AFTER", "BEFORE", "SURROUND"].contains(kind) else {
            return .json(400, ["message": "context_type is required: AFTER, BEFORE or SURROUND"])
        }
        let perPage = request.queryValue("per_page").map { Int($0) } ?? 50
        guard let perPage, (1...Self.maxPerPage).contains(perPage) else {
            return .json(400, ["message": .string("per_page must be between 1 and \(Self.maxPerPage)")])
        }
        let log = audit ? (tenants[tenant].auditLog?.id == key ? tenants[tenant].auditEvents : nil) : tenants[tenant].logEvents[key]
        guard let events = log else { return .json(404, ["message": .string("Log \(key) not found")]) }
        // The entry's place by binary search: events are kept oldest first.
        var low = events.startIndex, high = events.endIndex
        while low < high {
            let middle = (low + high) / 2
            let event = events[middle]
            if (event.timestamp, event.sequenceNumber) < (stamp, sequence) { low = middle + 1 } else { high = middle }
        }
        guard low < events.endIndex, events[low].timestamp == stamp, events[low].sequenceNumber == sequence else {
            return .json(404, ["message": "Log entry not found"])
        }
        let range: Range<Int>
        switch kind {
        case "AFTER": range = (low + 1)..<min(events.endIndex, low + 1 + perPage)
        case "BEFORE": range = max(events.startIndex, low - perPage)..<low
        default: range = max(events.startIndex, low - perPage / 2)..<min(events.endIndex, low + 1 + perPage / 2)
        }
        let base = Self.base(request, audit: audit)
        let found = range.map { events[$0] }
        let during: JSON = ["from": .int(found.first?.timestamp ?? stamp), "to": .int(found.last?.timestamp ?? stamp)]
        return .json(200, ["logs": [.string(key)], "leql": ["statement": "", "during": during],
                           "events": .array(found.map { Self.eventJSON($0, base: base) }), "links": []])
    }

    /// A saved query run: `GET /query/saved_query/{id}` on the logs it names, or
    /// `GET /query/logs/{keys}/{id}` on the logs given. Its statement and time range are used
    /// unless the request gives its own time (`from`/`to` or `time_range`); then it is an
    /// ordinary query (202 and polling, pages).
    mutating func runSavedQuery(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int, context: RequestContext) -> HTTPResponse {
        guard let saved = tenants[tenant].managedObjects(.savedQuery).first(where: { $0["id"]?.stringValue == match.param("saved") }) else {
            return Self.managedNotFound(.savedQuery)
        }
        let keys = match.params["keys"] ?? (saved["logs"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ":")
        guard !keys.isEmpty else { return .json(400, ["message": "the saved query names no logs: use /query/logs/{log_keys}/{saved_query_id}"]) }
        var query = request.query.filter { !["query"].contains($0.name) }
        query.append(URLQueryItem(name: "query", value: saved["leql"]?["statement"]?.stringValue ?? ""))
        let givesTime = query.contains { ["from", "to", "time_range"].contains($0.name) }
        if !givesTime {
            let during = saved["leql"]?["during"]
            if let range = during?["time_range"]?.stringValue {
                query.append(URLQueryItem(name: "time_range", value: range))
            } else if let from = during?["from"]?.intValue, let to = during?["to"]?.intValue {
                query += [URLQueryItem(name: "from", value: String(from)), URLQueryItem(name: "to", value: String(to))]
            } else {
                return .json(400, ["message": "the saved query has no time range: give from and to, or time_range"])
            }
        }
        let run = HTTPRequest(canonicalMethod: "GET", host: request.host, path: request.path, query: query, headers: request.headers, body: Data())
        return startQuery(.keys(keys), run, tenant: tenant, context: context, audit: false)
    }
}
