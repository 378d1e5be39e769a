import Foundation
import InsightCore

/// A Log Search query between its 202 and its result (reference §5 "Polling In-Progress Queries").
struct LogQuery: Sendable {
    let id: String
    let tenant: Int
    let keyID: String
    let audit: Bool
    var pollsLeft: Int
    var lastTouched: Date
    let result: JSON
    let inProgress: JSON
}

/// Where a query's logs come from.
enum QueryTarget {
    case keys(String)
    case logset(String)
    case body
}

extension EmulatorState {
    /// A query not polled within this many seconds expires (reference §5).
    static let queryExpiry: Double = 20
    static let maxPerPage = 500

    // MARK: Management

    static func logJSON(_ log: LogSource, region: Region) -> JSON {
        let base = "https://\(region.logSearchHost)/management"
        return [
            "id": .string(log.id), "name": .string(log.name), "rrn": .string("rrn:logsearch:\(region.code):log:\(log.id)"),
            "logsets_info": [["id": .string(log.logsetID), "name": .string(log.logsetName),
                              "rrn": .string("rrn:logsearch:\(region.code):logset:\(log.logsetID)"),
                              "links": [["rel": "Self", "href": .string("\(base)/logsets/\(log.logsetID)")]]]],
            "source_type": "token", "token_seed": .null, "tokens": [], "structures": [], "user_data": [:],
            "retention_period": "default", "links": [["rel": "Self", "href": .string("\(base)/logs/\(log.id)")]],
        ]
    }

    mutating func getLog(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let log = tenants[tenant].logSources.first(where: { $0.id == match.param("id") }) else { return Self.notFound() }
        return .json(200, ["log": Self.logJSON(log, region: tenants[tenant].region)])
    }

    private func logsets(_ tenant: Int) -> [JSON] {
        let logs = tenants[tenant].logSources
        var order: [String] = []
        for log in logs where !order.contains(log.logsetID) { order.append(log.logsetID) }
        return order.map { id in
            let members = logs.filter { $0.logsetID == id }
            return ["id": .string(id), "name": .string(members[0].logsetName),
                    "rrn": .string("rrn:logsearch:\(tenants[tenant].region.code):logset:\(id)"),
                    "logs_info": .array(members.map { ["id": .string($0.id), "name": .string($0.name)] }),
                    "user_data": [:]]
        }
    }

    func listLogsets(tenant: Int) -> HTTPResponse { .json(200, ["logsets": .array(logsets(tenant))]) }

    func getLogset(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let set = logsets(tenant).first(where: { $0["id"]?.stringValue == match.param("id") }) else { return Self.notFound() }
        return .json(200, ["logset": set])
    }

    /// The reserved labels every account has (ASSUMED set; the shape is the documented one).
    static let labels: [String: JSON] = [
        "00000000-0000-0000-0000-000000000001": ["id": "00000000-0000-0000-0000-000000000001", "sn": 1, "name": "Login Failure", "color": "e0e000", "reserved": true],
        "00000000-0000-0000-0000-000000000002": ["id": "00000000-0000-0000-0000-000000000002", "sn": 2, "name": "Error", "color": "ff0000", "reserved": true],
    ]

    func getLabel(_ match: RouteMatch) -> HTTPResponse {
        guard let label = Self.labels[match.param("id")] else { return .json(404, ["code": 404, "message": "HTTP 404 Not Found"]) }
        return .json(200, ["label": label])
    }

    // MARK: Audit logs (seeds/002; reference §6)

    func listAuditLogs(tenant: Int) -> HTTPResponse {
        let logs = tenants[tenant].auditLog.map { [Self.logJSON($0, region: tenants[tenant].region)] } ?? []
        return .json(200, ["logs": .array(logs)])
    }

    func getAuditLog(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let log = tenants[tenant].auditLog, log.id == match.param("id") else { return Self.notFound() }
        return .json(200, ["log": Self.logJSON(log, region: tenants[tenant].region)])
    }

    // MARK: Queries

    /// Starts a query: 200 with the events when the tenant answers at once (`queryPolls` 0),
    /// else 202 with a `Self` link to poll.
    mutating func startQuery(_ target: QueryTarget, _ request: HTTPRequest, tenant: Int, context: RequestContext, audit: Bool) -> HTTPResponse {
        var keys: [String]
        var statement = request.queryValue("query") ?? ""
        var from = request.queryValue("from").map { Int64($0) }
        var to = request.queryValue("to").map { Int64($0) }
        var timeRange = request.queryValue("time_range")
        switch target {
        case .keys(let text):
            keys = text.split(separator: ":").map(String.init)
        case .logset(let id):
            keys = tenants[tenant].logSources.filter { $0.logsetID == id }.map(\.id)
            if keys.isEmpty { return .json(404, ["message": "HTTP 404 Not Found"]) }
        case .body:
            guard let body = JSON(data: request.body), case .object = body else {
                return .json(400, ["message": "The request body must be JSON: {\"logs\":[…],\"leql\":{\"statement\":…,\"during\":{…}}}"])
            }
            keys = body["logs"]?.arrayValue?.compactMap(\.stringValue) ?? []
            statement = body["leql"]?["statement"]?.stringValue ?? ""
            let during = body["leql"]?["during"]
            from = during?["from"].map { $0.intValue.map(Int64.init) }
            to = during?["to"].map { $0.intValue.map(Int64.init) }
            timeRange = during?["time_range"]?.stringValue
        }
        if keys.isEmpty { return .json(400, ["message": "No logs given: name at least one log key"]) }
        let available = audit ? (tenants[tenant].auditLog.map { [$0.id] } ?? []) : tenants[tenant].logSources.map(\.id)
        if let unknown = keys.first(where: { !available.contains($0) }) {
            return .json(404, ["message": .string("Log \(unknown) not found\(audit && tenants[tenant].auditLog == nil ? "; audit logging is not enabled" : "")")])
        }
        // Time: from/to (ms) or time_range, not both.
        if from == .some(nil) || to == .some(nil) { return .json(400, ["message": "from and to must be Unix times in milliseconds"]) }
        let window: (Int64, Int64)
        if let timeRange {
            if from != nil || to != nil { return .json(400, ["message": "Use either from/to or time_range, not both"]) }
            guard let range = Self.timeRange(timeRange, now: context.now) else {
                return .json(400, ["message": .string("time_range '\(timeRange)' is not understood; use e.g. today, yesterday, last 30 days")])
            }
            window = range
        } else {
            guard let start = from ?? nil, let end = to ?? nil else {
                return .json(400, ["message": "Give from and to (Unix ms) or time_range"])
            }
            guard start <= end else { return .json(400, ["message": "from must not be after to"]) }
            window = (start, end)
        }
        let perPage = request.queryValue("per_page").map { Int($0) } ?? 50
        guard let perPage, (1...Self.maxPerPage).contains(perPage) else {
            return .json(400, ["message": .string("per_page must be between 1 and \(Self.maxPerPage)")])
        }
        let leql: LEQL
        do {
            leql = try LEQL.parse(statement)
        } catch let failure as LEQL.ParseError {
            return .json(400, ["message": .string("Invalid LEQL statement at position \(failure.position): \(failure.message)")])
        } catch {
            return .json(400, ["message": "Invalid LEQL statement"])
        }
        let newestFirst = request.queryValue("most_recent_first") == "true"
        let after = request.queryValue("sequence_number").flatMap { Int64($0) }
        let logs = audit ? [tenants[tenant].auditEvents] : Array(Set(keys)).sorted().compactMap { tenants[tenant].logEvents[$0] }
        let (page, more) = EventMerge(logs: logs, keys: Set(keys), window: window, newestFirst: newestFirst, leql: leql)
            .page(after: after, size: perPage)
        let base = Self.base(request, audit: audit)
        var links: [JSON] = []
        if more, let last = page.last {
            var next = URLComponents(string: "\(base)/logs/\(keys.joined(separator: ":"))")!
            var items = [URLQueryItem(name: "from", value: "\(window.0)"), URLQueryItem(name: "to", value: "\(window.1)"),
                         URLQueryItem(name: "per_page", value: "\(perPage)"), URLQueryItem(name: "sequence_number", value: "\(last.sequenceNumber)")]
            if !statement.isEmpty { items.insert(URLQueryItem(name: "query", value: statement), at: 0) }
            if newestFirst { items.append(URLQueryItem(name: "most_recent_first", value: "true")) }
            next.queryItems = items
            links.append(["rel": "Next", "href": .string(next.string ?? "")])
        }
        let leqlJSON: JSON = ["statement": .string(statement), "during": ["from": .int(window.0), "to": .int(window.1)]]
        let result: JSON = ["logs": .array(keys.map(JSON.string)), "leql": leqlJSON,
                            "events": .array(page.map(Self.eventJSON)), "links": .array(links)]
        let polls = tenants[tenant].queryPolls
        if polls == 0 { return .json(200, result) }
        let id = "\(random.uuid()):0:\(String(random.next(), radix: 16)):1:\(String(random.next(), radix: 16)):"
        let progress: JSON = ["logs": .array(keys.map(JSON.string)), "leql": leqlJSON, "progress": 0, "id": .string(id),
                              "events": [], "links": [["rel": "Self", "href": .string("\(base)/\(id)")]]]
        queries[id] = LogQuery(id: id, tenant: tenant, keyID: context.keyID ?? "", audit: audit, pollsLeft: polls,
                               lastTouched: context.now, result: result, inProgress: progress)
        return .json(202, progress)
    }

    /// `GET /query/{id}`: 202 with progress until the query is done, then 200 with the events.
    /// ASSUMED: an unknown or expired id is a 404 saying why.
    mutating func pollQuery(_ id: String, _ request: HTTPRequest, tenant: Int, context: RequestContext, audit: Bool) -> HTTPResponse {
        guard var query = queries[id], query.tenant == tenant, query.audit == audit, query.keyID == context.keyID else {
            return .json(404, ["message": .string("Query \(id) not found")])
        }
        if context.now.timeIntervalSince(query.lastTouched) > Self.queryExpiry {
            queries[id] = nil
            return .json(404, ["message": .string("Query \(id) expired: poll its Self link at least every 20 seconds, or run it again")])
        }
        query.pollsLeft -= 1
        query.lastTouched = context.now
        if query.pollsLeft > 0 {
            queries[id] = query
            var progress = query.inProgress
            if case .object(var object) = progress {
                object["progress"] = .int(Int64(100 * (tenants[tenant].queryPolls - query.pollsLeft) / max(1, tenants[tenant].queryPolls)))
                progress = .object(object)
            }
            return .json(202, progress)
        }
        queries[id] = nil
        return .json(200, query.result)
    }

    /// `https://HOST[/log_search][/audit]/query`, the base of `Self` and `Next` links.
    static func base(_ request: HTTPRequest, audit: Bool) -> String {
        let prefix = Region.lookup(host: request.host)?.kind == .logSearch ? "" : "/log_search"
        return "https://\(request.host)\(prefix)\(audit ? "/audit" : "")/query"
    }

    static func eventJSON(_ event: LogSearchEvent) -> JSON {
        ["log_id": .string(event.logID), "timestamp": .int(event.timestamp), "sequence_number": .int(event.sequenceNumber),
         "sequence_number_str": .string(String(event.sequenceNumber)), "message": .string(event.message), "labels": [], "links": []]
    }

    /// `today`, `yesterday`, `last N minutes|hours|days|weeks` (any case) as a ms window.
    static func timeRange(_ text: String, now: Date) -> (Int64, Int64)? {
        let words = text.lowercased().replacingOccurrences(of: "+", with: " ").split(separator: " ").map(String.init)
        let midnight = RFC3339.startOfDay(now)
        switch words {
        case ["today"]: return (midnight.unixMillis, now.unixMillis)
        case ["yesterday"]: return (midnight.addingTimeInterval(-86_400).unixMillis, midnight.unixMillis - 1)
        default:
            guard words.count == 3, words[0] == "last", let count = Double(words[1]), count > 0 else { return nil }
            let unit: Double
            switch words[2] {
            case "minute", "minutes": unit = 60
            case "hour", "hours": unit = 3_600
            case "day", "days": unit = 86_400
            case "week", "weeks": unit = 604_800
            default: return nil
            }
            return (now.addingTimeInterval(-count * unit).unixMillis, now.unixMillis)
        }
    }
}
