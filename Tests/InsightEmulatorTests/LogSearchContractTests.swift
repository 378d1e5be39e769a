import Foundation
import InsightCore
@testable import InsightEmulator
import Testing

/// The emulator's Log Search answers against facts taken from Rapid7's published OpenAPI
/// description of the Log Search API (`api/openapi.yaml` of ChrisMcKee/rapid7insightops-go,
/// contact support@rapid7.com), written here in the project's own words: each operation's
/// success status, the key its answer travels under, and the required fields of that answer with
/// their JSON types; an unknown id is 404 and a body that is not the kind's object is 400.
@Suite struct LogSearchContractTests {
    let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())
    static let host = "us2.rest.logs.insight.rapid7.com"

    enum Kind { case string, int, bool, object, array }

    /// A required field and its type, dotted from the answer's object.
    typealias Field = (path: String, kind: Kind)

    /// The description's required fields, per answer schema.
    static let savedQuery: [Field] = [("id", .string), ("name", .string)]
    static let label: [Field] = [("id", .string), ("name", .string), ("color", .string), ("reserved", .bool), ("sn", .int)]
    static let variable: [Field] = [("id", .string), ("name", .string), ("value", .string)]
    static let tag: [Field] = [("id", .string), ("name", .string), ("type", .string), ("sources", .array), ("leql.statement", .string)]
    static let event: [Field] = [("timestamp", .int), ("sequence_number", .int), ("log_id", .string), ("message", .string),
                                 ("sequence_number_str", .string)]
    static let context: [Field] = [("logs", .array), ("leql", .object), ("events", .array)]

    func send(_ method: String, _ path: String, _ body: JSON? = nil, key: String = Fixture.adminKey, query: [(String, String)] = []) async throws -> HTTPResponse {
        var request = Fixture.request(method, Self.host, path: path, key: key, query: query.map { URLQueryItem(name: $0.0, value: $0.1) })
        if let body { request.body = body.encoded() }
        return try await emulator.handle(request)
    }

    static func check(_ json: JSON?, _ fields: [Field], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for (path, kind) in fields {
            var value: JSON? = json
            for part in path.split(separator: ".") { value = value?[String(part)] }
            let fits: Bool
            switch (kind, value) {
            case (.string, .string?), (.int, .int?), (.bool, .bool?), (.object, .object?), (.array, .array?): fits = true
            default: fits = false
            }
            #expect(fits, "\(what): \(path) must be a \(kind), is \(String(describing: value))", sourceLocation: sourceLocation)
        }
    }

    /// Create 201, read 200, list 200 with it, modify 200 (read back changed), replace 200,
    /// delete 204, then 404: each kind the description lets clients manage.
    static let samples: [ManagedKind: JSON] = [
        .savedQuery: ["name": "Failed logins", "leql": ["statement": "where(result=FAILED)", "during": ["time_range": "last 1 day"]]],
        .label: ["name": "Triage", "color": "ff0000"],
        .variable: ["name": "admins", "value": "alice, bob", "description": "people"],
    ]

    @Test(arguments: [ManagedKind.savedQuery, .label, .variable])
    func eachKindIsCreatedReadChangedAndDeleted(kind: ManagedKind) async throws {
        let object = try #require(Self.samples[kind])
        let fields = kind == .savedQuery ? Self.savedQuery : kind == .label ? Self.label : Self.variable
        let created = try await send("POST", kind.path, [kind.singular: object])
        #expect(created.status == 201, "\(created.bodyText)")
        let made = try #require(created.json?[kind.singular])
        Self.check(made, fields, "POST \(kind.path)")
        let id = try #require(made["id"]?.stringValue)
        let read = try await send("GET", "\(kind.path)/\(id)")
        #expect(read.status == 200)
        #expect(read.json?[kind.singular] == made)
        let list = try await send("GET", kind.path)
        #expect(list.json?[kind.plural]?.arrayValue?.contains(made) == true)
        if kind != .variable {
            let modified = try await send("PATCH", "\(kind.path)/\(id)", [kind.singular: ["name": "Renamed"]])
            #expect(modified.status == 200, "\(modified.bodyText)")
            #expect(try await send("GET", "\(kind.path)/\(id)").json?[kind.singular]?["name"] == "Renamed")
        }
        let replaced = try await send("PUT", "\(kind.path)/\(id)", [kind.singular: object])
        #expect(replaced.status == 200, "\(replaced.bodyText)")
        Self.check(replaced.json?[kind.singular], fields, "PUT \(kind.path)/{id}")
        #expect(try await send("DELETE", "\(kind.path)/\(id)").status == 204)
        #expect(try await send("GET", "\(kind.path)/\(id)").status == 404)
        #expect(try await send("DELETE", "\(kind.path)/\(id)").status == 404)
        // Invalid payloads: not the kind's object, or a required field missing.
        #expect(try await send("POST", kind.path, ["something": [:]]).status == 400)
        #expect(try await send("POST", kind.path, [kind.singular: [:]]).status == 400)
    }

    /// A basic detection rule ("tag") over one of the tenant's logs; an unknown log is refused.
    @Test func detectionRulesAreManaged() async throws {
        let logID = Fixture.rich().logSources[0].id
        let rule: JSON = ["name": "Many failures", "sources": [["id": .string(logID)]], "leql": ["statement": "where(result=FAILED)"]]
        let created = try await send("POST", "/management/tags", ["tag": rule])
        #expect(created.status == 201, "\(created.bodyText)")
        Self.check(created.json?["tag"], Self.tag, "POST /management/tags")
        #expect(created.json?["tag"]?["type"] == "Alert")
        let id = try #require(created.json?["tag"]?["id"]?.stringValue)
        #expect(try await send("GET", "/management/tags").json?["tags"]?.arrayValue?.count == 1)
        #expect(try await send("PATCH", "/management/tags/\(id)", ["tag": ["priority": 2]]).json?["tag"]?["priority"] == 2)
        let unknownLog = try await send("POST", "/management/tags", ["tag": ["name": "x", "sources": [["id": "nope"]], "leql": ["statement": ""]]])
        #expect(unknownLog.status == 400)
        #expect(try await send("DELETE", "/management/tags/\(id)").status == 204)
        #expect(try await send("GET", "/management/tags").json?["tags"] == [])
    }

    /// The reserved labels read as recorded and cannot be changed; a view-only key may read
    /// but not write ("Read Write or Above").
    @Test func reservedLabelsAndReadOnlyKeys() async throws {
        let labels = try await send("GET", "/management/labels")
        #expect(labels.json?["labels"]?.arrayValue?.count == 7)
        for label in labels.json?["labels"]?.arrayValue ?? [] { Self.check(label, Self.label, "GET /management/labels") }
        let reserved = try #require(labels.json?["labels"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(try await send("DELETE", "/management/labels/\(reserved)").status == 400)
        #expect(try await send("GET", "/management/labels/nope").json == ["code": 404, "message": "HTTP 404 Not Found"])
        let viewOnly = try await send("POST", "/query/saved_queries", ["saved_query": ["name": "x", "leql": ["statement": ""]]], key: Fixture.analystKey)
        #expect(viewOnly.status == 403)
        #expect(try await send("GET", "/query/saved_queries", key: Fixture.analystKey).status == 200)
    }

    /// Notifications and their targets: a target attached to a notification is listed with it.
    @Test func notificationsAndTargets() async throws {
        let target = try await send("POST", "/management/targets", ["target": ["type": "mailto", "params_set": ["direct": "soc@example.com"]]])
        #expect(target.status == 201)
        let targetID = try #require(target.json?["target"]?["id"]?.stringValue)
        let action = try await send("POST", "/management/actions", ["action": ["enabled": true, "type": "Alert"]])
        let actionID = try #require(action.json?["action"]?["id"]?.stringValue)
        let attached = try await send("PATCH", "/management/actions/\(actionID)/targets", ["targets": [["id": .string(targetID)]]])
        #expect(attached.status == 200)
        #expect(try await send("GET", "/management/actions/\(actionID)/targets").json?["targets"]?.arrayValue?.first?["id"]?.stringValue == targetID)
        #expect(try await send("PATCH", "/management/actions/\(actionID)/targets", ["targets": [["id": "nope"]]]).status == 400)
    }

    /// Events carry the description's required fields and their labels; the Context link of
    /// every event answers the entries around it; a saved query runs on its logs.
    @Test func eventsContextAndSavedQueryRuns() async throws {
        let tenant = Fixture.rich(queryPolls: 0)
        let emulator = Emulator(tenants: [tenant], clock: VirtualClock())
        let log = tenant.logSources[0].id
        var request = Fixture.query("/query/logs/\(log)", [("time_range", "last 2 days"), ("per_page", "20")], key: Fixture.adminKey, host: Self.host)
        let page = try await emulator.handle(request)
        let events = try #require(page.json?["events"]?.arrayValue)
        #expect(!events.isEmpty)
        for event in events { Self.check(event, Self.event, "event") }
        #expect(events.contains { !($0["labels"]?.arrayValue ?? []).isEmpty }, "some generated event carries a label")
        let href = try #require(events[5]["links"]?.arrayValue?.first { $0["rel"] == "Context" }?["href"]?.stringValue)
        let url = try #require(URLComponents(string: href))
        request = Fixture.request("GET", url.host!, path: url.path, key: Fixture.adminKey, query: url.queryItems ?? [])
        let context = try await emulator.handle(request)
        #expect(context.status == 200, "\(context.bodyText)")
        Self.check(context.json, Self.context, "GET /query/context/{id}")
        #expect(context.json?["events"]?.arrayValue?.contains { $0["sequence_number"] == events[5]["sequence_number"] } == true)
        let saved = try #require(tenant.managedObjects(.savedQuery).first?["id"]?.stringValue)
        let run = try await emulator.handle(Fixture.request("GET", Self.host, path: "/query/saved_query/\(saved)", key: Fixture.adminKey))
        #expect(run.status == 200, "\(run.bodyText)")
        let onLog = try await emulator.handle(Fixture.request("GET", Self.host, path: "/query/logs/\(log)/\(saved)", key: Fixture.adminKey))
        #expect(onLog.json?["logs"] == [.string(log)])
    }

    /// Log sets queried by name: the union of their logs; an unknown name is a 404.
    @Test func logSetsAreQueriedByName() async throws {
        let tenant = Fixture.rich(queryPolls: 0)
        let emulator = Emulator(tenants: [tenant], clock: VirtualClock())
        let name = tenant.logSources[0].logsetName
        let answer = try await emulator.handle(Fixture.query("/query/logsets", [("logset_name", name), ("time_range", "last 2 days")],
                                                             key: Fixture.adminKey, host: Self.host))
        #expect(answer.status == 200, "\(answer.bodyText)")
        #expect(answer.json?["logs"]?.arrayValue?.count == tenant.logSources.filter { $0.logsetName == name }.count)
        let unknown = try await emulator.handle(Fixture.query("/query/logsets", [("logset_name", "No such set"), ("time_range", "today")],
                                                              key: Fixture.adminKey, host: Self.host))
        #expect(unknown.status == 404)
    }

    /// `calculate(count)` answers `statistics.count`, and `all_exact_result` is a boolean.
    @Test func aCountHasItsCount() async throws {
        let tenant = Fixture.rich(queryPolls: 0)
        let emulator = Emulator(tenants: [tenant], clock: VirtualClock())
        let answer = try await emulator.handle(Fixture.query("/query/logs/\(tenant.logSources[0].id)",
                                                             [("query", "calculate(count)"), ("time_range", "last 2 days")],
                                                             key: Fixture.adminKey, host: Self.host))
        #expect(answer.json?["statistics"]?["count"]?.intValue == 120)
        #expect(answer.json?["statistics"]?["all_exact_result"] == true)
    }
}

/// Every link an answer gives resolves: Self, Next, Context and label links, followed with the
/// same key, never answer 404.
@Suite struct LinkFollowingTests {
    @Test func noAnswerAdvertisesADeadLink() async throws {
        let tenant = Fixture.rich(queryPolls: 1)
        let emulator = Emulator(tenants: [tenant], clock: VirtualClock())
        let host = LogSearchContractTests.host
        var queue: [HTTPRequest] = [
            Fixture.request("GET", host, path: "/management/logs", key: Fixture.adminKey),
            Fixture.request("GET", host, path: "/management/logs/\(tenant.logSources[0].id)", key: Fixture.adminKey),
            Fixture.request("GET", host, path: "/management/logsets", key: Fixture.adminKey),
            Fixture.query("/query/logs/\(tenant.logSources[0].id)", [("time_range", "last 2 days"), ("per_page", "50")], key: Fixture.adminKey, host: host),
            Fixture.query("/audit/logs/\(tenant.auditLog!.id)", [("time_range", "last 2 days")], key: Fixture.adminKey, host: host),
            Fixture.request("GET", host, path: "/query/saved_queries", key: Fixture.adminKey),
            Fixture.request("GET", host, path: "/management/labels", key: Fixture.adminKey),
        ]
        var seen = Set<String>()
        var followed = 0
        while let request = queue.first, followed < 400 {
            queue.removeFirst()
            let answer = try await emulator.handle(request)
            #expect(answer.status != 404, "\(request.method) \(request.host)\(request.path)?\(request.query) answered 404")
            followed += 1
            for href in Self.links(in: answer.json) where seen.insert(href).inserted {
                guard let url = URLComponents(string: href), let linkHost = url.host else {
                    Issue.record("not a URL: \(href)")
                    continue
                }
                queue.append(Fixture.request("GET", linkHost, path: url.path, key: Fixture.adminKey, query: url.queryItems ?? []))
            }
        }
        #expect(followed > 20, "followed \(followed) answers")
        #expect(seen.contains { $0.contains("/query/context/") } && seen.contains { $0.contains("/management/labels/") })
    }

    /// Every `href` in an answer, however deep.
    static func links(in json: JSON?) -> [String] {
        switch json {
        case .object(let object)?:
            return (object["href"]?.stringValue.map { [$0] } ?? []) + object.keys.sorted().flatMap { links(in: object[$0]) }
        case .array(let items)?:
            return items.flatMap { links(in: $0) }
        default:
            return []
        }
    }
}
