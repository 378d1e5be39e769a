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
    /// The finished answer's body, written once.
    let result: [UInt8]
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
            // A token and a structure per log, and user_data's keys, as the IDR plugin's
            // get_a_log.json.resp and logs.json.resp show them (values ASSUMED, fixed by the log's id).
            "source_type": "token", "token_seed": .null, "tokens": [.string(Self.derivedUUID(log.id, "token"))],
            "structures": [.string(Self.derivedUUID(log.id, "structure"))],
            "user_data": ["platform_managed": "true", "le_agent_filename": "", "le_agent_follow": "false"],
            "retention_period": "default", "links": [["rel": "Self", "href": .string("\(base)/logs/\(log.id)")]],
        ]
    }

    /// A UUID fixed by a name and a purpose.
    static func derivedUUID(_ name: String, _ purpose: String) -> String {
        var random = SeededRandom(seed: 0, label: "\(name)/\(purpose)")
        return random.uuid()
    }

    mutating func getLog(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let log = tenants[tenant].logSources.first(where: { $0.id == match.param("id") }) else { return Self.notFound() }
        return .json(200, ["log": Self.logJSON(log, region: tenants[tenant].region)])
    }

    private func logsets(_ tenant: Int) -> [JSON] {
        let logs = tenants[tenant].logSources
        var order: [String] = []
        for log in logs where !order.contains(log.logsetID) { order.append(log.logsetID) }
        let base = "https://\(tenants[tenant].region.logSearchHost)/management"
        return order.map { id in
            let members = logs.filter { $0.logsetID == id }
            // description and each log's links: LSO docs (`GET /management/logsets`).
            return ["id": .string(id), "name": .string(members[0].logsetName),
                    "description": .string(IDRLogSet(rawValue: members[0].logsetName)?.description ?? ""),
                    "rrn": .string("rrn:logsearch:\(tenants[tenant].region.code):logset:\(id)"),
                    "logs_info": .array(members.map { log in
                        ["id": .string(log.id), "name": .string(log.name), "rrn": .string("rrn:logsearch:\(tenants[tenant].region.code):log:\(log.id)"),
                         "links": [["rel": "Self", "href": .string("\(base)/logs/\(log.id)")]]]
                    }),
                    "user_data": [:]]
        }
    }

    func listLogsets(tenant: Int) -> HTTPResponse { .json(200, ["logsets": .array(logsets(tenant))]) }

    func getLogset(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let set = logsets(tenant).first(where: { $0["id"]?.stringValue == match.param("id") }) else { return Self.notFound() }
        return .json(200, ["logset": set])
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
        let parsed: LEQLQuery
        do {
            parsed = try LEQL.parseQuery(statement)
        } catch let error as EmulatorError {
            return .json(400, ["message": .string(error.problem)])
        } catch {
            return .json(400, ["message": "Invalid LEQL statement"])
        }
        let leql = parsed.filter
        let newestFirst = request.queryValue("most_recent_first") == "true"
        let after = request.queryValue("sequence_number").flatMap { Int64($0) }
        let logs = audit ? [tenants[tenant].auditEvents] : Array(Set(keys)).sorted().compactMap { tenants[tenant].logEvents[$0] }
        let base = Self.base(request, audit: audit)
        // The window as given: from/to always, and the time_range it came from (LSO docs; the
        // IDR plugin's get_all_saved_queries.json.resp shows all three together).
        var during: [String: JSON] = ["from": .int(window.0), "to": .int(window.1)]
        if let timeRange { during["time_range"] = .string(timeRange) }
        let leqlJSON: JSON = ["statement": .string(statement), "during": .object(during)]
        if parsed.isStatistical {
            let merge = EventMerge(logs: logs, keys: Set(keys), window: window, newestFirst: false, leql: .all)
            let (statistics, searchStats) = Self.statistics(parsed, merge: merge, window: window)
            let result = JSON.object(["logs": .array(keys.map(JSON.string)), "leql": leqlJSON, "statistics": statistics,
                                      "search_stats": searchStats]).canonicalBytes()
            return finishQuery(result: result, partial: Self.partial(parsed, window: window), keys: keys, leqlJSON: leqlJSON,
                               base: base, tenant: tenant, context: context, audit: audit)
        }
        let (page, more) = EventMerge(logs: logs, keys: Set(keys), window: window, newestFirst: newestFirst, leql: leql)
            .page(after: after, size: perPage)
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
        // Written straight to bytes in the canonical key order (events, leql, links, logs): a page
        // of 500 events costs copies, not a JSON tree per event.
        var result: [UInt8] = []
        result.reserveCapacity(256 + page.count * 420)
        result.append(contentsOf: #"{"events":["#.utf8)
        for (offset, event) in page.enumerated() {
            if offset > 0 { result.append(UInt8(ascii: ",")) }
            Self.writeEvent(event, base: base, into: &result)
        }
        result.append(contentsOf: #"],"leql":"#.utf8)
        result.append(contentsOf: leqlJSON.canonicalBytes())
        result.append(contentsOf: #","links":"#.utf8)
        result.append(contentsOf: JSON.array(links).canonicalBytes())
        result.append(contentsOf: #","logs":"#.utf8)
        result.append(contentsOf: JSON.array(keys.map(JSON.string)).canonicalBytes())
        result.append(UInt8(ascii: "}"))
        return finishQuery(result: result, partial: nil, keys: keys, leqlJSON: leqlJSON, base: base, tenant: tenant, context: context, audit: audit)
    }

    /// 200 with the result at once, or 202 with progress (and, for a statistical query, its
    /// `partial` statistics) and the `Self` link to poll.
    mutating func finishQuery(result: [UInt8], partial: JSON?, keys: [String], leqlJSON: JSON, base: String, tenant: Int,
                              context: RequestContext, audit: Bool) -> HTTPResponse {
        let polls = tenants[tenant].queryPolls
        if polls == 0 { return Self.jsonBytes(result) }
        let id = "\(random.uuid()):0:\(String(random.next(), radix: 16)):1:\(String(random.next(), radix: 16)):"
        var progress: [String: JSON] = ["logs": .array(keys.map(JSON.string)), "leql": leqlJSON, "progress": 0, "id": .string(id),
                                        "events": [], "links": [["rel": "Self", "href": .string("\(base)/\(id)")]]]
        if let partial { progress["partial"] = partial }
        queries[id] = LogQuery(id: id, tenant: tenant, keyID: context.keyID ?? "", audit: audit, pollsLeft: polls,
                               lastTouched: context.now, result: result, inProgress: .object(progress))
        return .json(202, .object(progress))
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
        return Self.jsonBytes(query.result)
    }

    /// `https://HOST[/log_search][/audit]/query`, the base of `Self` and `Next` links.
    static func base(_ request: HTTPRequest, audit: Bool) -> String {
        let prefix = Region.lookup(host: request.host)?.kind == .logSearch ? "" : "/log_search"
        return "https://\(request.host)\(prefix)\(audit ? "/audit" : "")/query"
    }

    static func jsonBytes(_ bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Data(bytes))
    }

    /// `eventJSON`'s bytes, written directly (`EventBytesTests` checks they are the same).
    static func writeEvent(_ event: LogSearchEvent, base: String, into bytes: inout [UInt8]) {
        writeLabels(event, base: base, into: &bytes)
        bytes.append(contentsOf: #","links":[{"href":"#.utf8)
        JSON.appendString("\(base)/context/\(event.sequenceNumber)?per_page=50&timestamp=\(event.timestamp)&log_keys=\(event.logID)&context_type=SURROUND", to: &bytes)
        bytes.append(contentsOf: #","rel":"Context"}],"log_id":"#.utf8)
        JSON.appendString(event.logID, to: &bytes)
        bytes.append(contentsOf: #","message":"#.utf8)
        JSON.appendString(event.message, to: &bytes)
        let sequence = String(event.sequenceNumber)
        bytes.append(contentsOf: #","sequence_number":"#.utf8)
        bytes.append(contentsOf: sequence.utf8)
        bytes.append(contentsOf: #","sequence_number_str":""#.utf8)
        bytes.append(contentsOf: sequence.utf8)
        bytes.append(contentsOf: #"","timestamp":"#.utf8)
        bytes.append(contentsOf: String(event.timestamp).utf8)
        bytes.append(UInt8(ascii: "}"))
    }

    /// An event with its `Context` link: the events around it (LSO docs example
    /// `EventsResponsePagination`; the IDR plugin's log_id5.json.resp).
    static func eventJSON(_ event: LogSearchEvent, base: String) -> JSON {
        let context = "\(base)/context/\(event.sequenceNumber)?per_page=50&timestamp=\(event.timestamp)&log_keys=\(event.logID)&context_type=SURROUND"
        return ["log_id": .string(event.logID), "timestamp": .int(event.timestamp), "sequence_number": .int(event.sequenceNumber),
                "sequence_number_str": .string(String(event.sequenceNumber)), "message": .string(event.message),
                "labels": .array(labels(of: event).map { ["id": .string($0), "links": [["rel": "Self", "href": .string(labelHref($0, base: base))]]] }),
                "links": [["rel": "Context", "href": .string(context)]]]
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
