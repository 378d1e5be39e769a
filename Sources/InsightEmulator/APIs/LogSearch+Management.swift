import Foundation
import InsightCore

/// The Log Search objects clients create, read, change and delete, each answered as Rapid7's
/// published OpenAPI description of the Log Search API gives it (`api/openapi.yaml` of
/// ChrisMcKee/rapid7insightops-go, contact support@rapid7.com): create 201 with the object, read
/// and change 200, delete 204, an unknown id 404, a body that is not a JSON object of the kind 400,
/// each object under its kind's key (`{"saved_query": {…}}`) and a list under the plural
/// (`{"saved_queries": […]}`). Changes persist within the tenant.
public enum ManagedKind: String, CaseIterable, Sendable {
    case savedQuery, label, tag, action, target, variable

    /// The key an object travels under, and a list's key.
    var singular: String {
        switch self {
        case .savedQuery: return "saved_query"
        case .label: return "label"
        case .tag: return "tag"
        case .action: return "action"
        case .target: return "target"
        case .variable: return "variable"
        }
    }

    var plural: String { self == .savedQuery ? "saved_queries" : singular + "s" }

    /// The collection's path.
    var path: String {
        switch self {
        case .savedQuery: return "/query/saved_queries"
        case .variable: return "/query/variables"
        default: return "/management/\(plural)"
        }
    }

    /// What the 404 of an unknown id says (the recorded saved-query and label 404s, ref §5).
    var notFound: String { "HTTP 404 Not Found" }

    /// Fields a create or a replace must carry, dotted, with the JSON type each must have: the
    /// OpenAPI description's required properties of the kind's create schema.
    var required: [(path: String, type: ManagedField)] {
        switch self {
        case .savedQuery: return [("name", .string), ("leql.statement", .string)]
        case .label: return [("name", .string), ("color", .string)]
        case .tag: return [("name", .string), ("sources", .array), ("leql.statement", .string)]
        case .variable: return [("name", .string), ("value", .string)]
        // ASSUMED: the description's notification and target schemas are not checked field by field.
        case .action, .target: return []
        }
    }
}

public enum ManagedField: String, Sendable {
    case string, array, object

    func matches(_ value: JSON?) -> Bool {
        switch (self, value) {
        case (.string, .string?), (.array, .array?), (.object, .object?): return true
        default: return false
        }
    }
}

/// What a request does to a kind of object.
enum ManagedVerb: Sendable, Hashable {
    case list, create, get, replace, modify, delete
}

extension Tenant {
    /// A kind's objects as they stand: what the API wrote, else what every account starts with
    /// (its saved queries; the reserved labels); nothing for the others.
    func managedObjects(_ kind: ManagedKind) -> [JSON] {
        if let written = managed[kind.rawValue] { return written }
        switch kind {
        case .savedQuery: return savedQueries().map(\.json)
        case .label: return EmulatorState.labels.values.sorted { ($0["sn"]?.intValue ?? 0) < ($1["sn"]?.intValue ?? 0) }
        default: return []
        }
    }
}

extension EmulatorState {
    /// At most this many objects of a kind an organization (ASSUMED; the platform publishes none).
    static let maxManaged = 1_000

    mutating func manage(_ kind: ManagedKind, _ verb: ManagedVerb, _ match: RouteMatch, _ request: HTTPRequest,
                         tenant: Int, now: Date) -> HTTPResponse
    {
        var objects = tenants[tenant].managedObjects(kind)
        let id = match.param("id")
        let index = objects.firstIndex { $0["id"]?.stringValue == id }
        switch verb {
        case .list:
            return .json(200, [kind.plural: .array(objects)])
        case .get:
            guard let index else { return Self.managedNotFound(kind) }
            return .json(200, [kind.singular: objects[index]])
        case .delete:
            guard let index else { return Self.managedNotFound(kind) }
            if objects[index]["reserved"] == .bool(true) { return Self.managedBad("the \(kind.singular) \(id) is reserved: it cannot be deleted") }
            objects.remove(at: index)
            tenants[tenant].managed[kind.rawValue] = objects
            return HTTPResponse(status: 204, headers: HTTPHeaders(), body: Data())
        case .create, .replace, .modify:
            if verb != .create {
                guard let index else { return Self.managedNotFound(kind) }
                if objects[index]["reserved"] == .bool(true) { return Self.managedBad("the \(kind.singular) \(id) is reserved: it is read-only") }
            }
            guard let body = JSON(data: request.body), case .object(let given)? = body[kind.singular] else {
                return Self.managedBad("the body must be a JSON object {\"\(kind.singular)\": {…}}")
            }
            var object: [String: JSON]
            switch verb {
            case .modify:
                guard case .object(let existing) = objects[index!] else { return Self.managedBad("not an object") }
                object = Self.merged(existing, given)
            default:
                object = given
            }
            for (path, type) in kind.required where !type.matches(Self.value(.object(object), at: path)) {
                return Self.managedBad("\(kind.singular).\(path) is required, a JSON \(type.rawValue)")
            }
            if kind == .tag, case .array(let sources)? = object["sources"],
               let unknown = sources.compactMap({ $0["id"]?.stringValue }).first(where: { source in !tenants[tenant].logSources.contains { $0.id == source } })
            {
                return Self.managedBad("tag.sources: no log \(unknown) in this organization")
            }
            let stamp = now.iso8601
            switch verb {
            case .create:
                guard objects.count < Self.maxManaged else { return Self.managedBad("at most \(Self.maxManaged) \(kind.plural) an organization") }
                object["id"] = .string(random.uuid())
                Self.fill(&object, kind, created: stamp)
                objects.append(.object(object))
                tenants[tenant].managed[kind.rawValue] = objects
                return .json(201, [kind.singular: .object(object)])
            default:
                object["id"] = .string(id)
                if case .object(let existing) = objects[index!] {
                    for keep in ["sn", "created", "user_id", "reserved"] where object[keep] == nil { object[keep] = existing[keep] }
                }
                Self.fill(&object, kind, created: stamp)
                if kind == .variable { object["updated"] = .string(stamp) }
                objects[index!] = .object(object)
                tenants[tenant].managed[kind.rawValue] = objects
                return .json(200, [kind.singular: .object(object)])
            }
        }
    }

    /// The fields an answer always carries that a client need not send.
    private static func fill(_ object: inout [String: JSON], _ kind: ManagedKind, created: String) {
        switch kind {
        case .label:
            if object["sn"] == nil { object["sn"] = .int(Int64(stableHash(object["id"]?.stringValue ?? "") % 1_000_000 + 1000)) }
            object["reserved"] = object["reserved"] ?? false
        case .tag:
            object["type"] = object["type"] ?? "Alert"
            for (name, empty) in [("actions", JSON.array([])), ("labels", .array([])), ("user_data", .object([:])), ("description", .string(""))]
            where object[name] == nil {
                object[name] = empty
            }
        case .savedQuery:
            object["logs"] = object["logs"] ?? .array([])
        case .variable:
            if object["created"] == nil { object["created"] = .string(created) }
            object["updated"] = object["updated"] ?? .string(created)
            object["description"] = object["description"] ?? .null
            object["reserved"] = object["reserved"] ?? false
        case .action, .target:
            break
        }
    }

    /// PATCH: the given fields over the existing ones, objects merged key by key.
    static func merged(_ existing: [String: JSON], _ given: [String: JSON]) -> [String: JSON] {
        var result = existing
        for (key, value) in given {
            if case .object(let inner) = value, case .object(let old)? = existing[key] {
                result[key] = .object(merged(old, inner))
            } else {
                result[key] = value
            }
        }
        return result
    }

    static func value(_ object: JSON, at path: String) -> JSON? {
        var value: JSON? = object
        for part in path.split(separator: ".") { value = value?[String(part)] }
        return value
    }

    /// A label's 404 carries its code too (IDR plugin label_404.json.resp); a saved query's does
    /// not (get_a_saved_query_404.json.resp).
    static func managedNotFound(_ kind: ManagedKind) -> HTTPResponse {
        kind == .label ? .json(404, ["code": 404, "message": .string(kind.notFound)]) : .json(404, ["message": .string(kind.notFound)])
    }
    static func managedBad(_ message: String) -> HTTPResponse { .json(400, ["message": .string(message)]) }

    /// `GET /management/actions/{id}/targets` and its PATCH (`{"targets": [{"id": …}]}`): the
    /// notification's targets, each the whole target.
    mutating func actionTargets(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int, modify: Bool) -> HTTPResponse {
        var actions = tenants[tenant].managedObjects(.action)
        guard let index = actions.firstIndex(where: { $0["id"]?.stringValue == match.param("id") }) else { return Self.managedNotFound(.action) }
        let targets = tenants[tenant].managedObjects(.target)
        if modify {
            guard case .array(let given)? = JSON(data: request.body)?["targets"] else {
                return Self.managedBad("the body must be {\"targets\": [{\"id\": …}]}")
            }
            var chosen: [JSON] = []
            for item in given {
                guard let id = item["id"]?.stringValue, let target = targets.first(where: { $0["id"]?.stringValue == id }) else {
                    return Self.managedBad("targets: no target \(item["id"]?.stringValue ?? "without an id")")
                }
                chosen.append(target)
            }
            if case .object(var action) = actions[index] {
                action["targets"] = .array(chosen)
                actions[index] = .object(action)
                tenants[tenant].managed[ManagedKind.action.rawValue] = actions
            }
        }
        return .json(200, ["targets": actions[index]["targets"] ?? .array([])])
    }
}
