import Foundation
import InsightCore

/// Which API a route belongs to, for error shapes.
enum APISpace: Sendable {
    case platform, logSearch, connect
}

/// What a route needs beyond a valid key.
enum Permission: Sendable {
    case anyValidKey
    case insightIDR
    case logSearch
    /// "Read Write or Above" in the Log Search description: a view-only role may not change objects.
    case logSearchWrite
    case platformAdmin
    /// Audit logs: an organization key or a platform admin's user key (reference §6).
    case auditAdmin
    case insightConnect
    /// API triggers: a key only when the workflow requires one.
    case workflowKey
}

/// Every endpoint the emulator answers.
enum Endpoint: Sendable, Hashable {
    case validate
    case investigationsList(version: Int), investigationCreate, investigationSearch
    case investigationGet, investigationPatch, investigationSetField(String), investigationAssign, investigationAlerts
    case alertSearch, alertGet, alertPatch, alertActors, alertEvidences, idrUser, userSearch, accountGet, accountSearch
    case commentsList, commentCreate, commentDelete
    case attachmentsList, attachmentUpload, attachmentGet, attachmentMetadata, attachmentDelete
    case threatCreate, threatIndicators(replace: Bool), threatDelete, bulkClose, productAlerts, assetGet, assetSearch
    case accountUsers
    case triggerLegacy, triggerAsync, workflowsList
    case logsList, logGet, logsetsList, logsetGet
    case queryLogsGet, queryLogsPost, queryLogset, queryLogsetsByName, queryPoll, queryContext(audit: Bool), savedQueryRun
    case managed(ManagedKind, ManagedVerb)
    case actionTargets(modify: Bool)
    case auditLogsList, auditLogGet, auditQueryGet, auditQueryPost, auditPoll
}

/// A class: matches hold a reference, not a copy of the pattern arrays, on every request.
final class Route: Sendable {
    let methods: [String]
    let pattern: [String]
    let endpoint: Endpoint
    let family: EndpointFamily
    let permission: Permission
    let space: APISpace

    init(_ methods: [String], _ pattern: String, _ endpoint: Endpoint, _ family: EndpointFamily, _ permission: Permission,
         _ space: APISpace = .platform)
    {
        self.methods = methods
        self.pattern = pattern.split(separator: "/").map(String.init)
        self.endpoint = endpoint
        self.family = family
        self.permission = permission
        self.space = space
    }
}

/// A route that matched, with its path parameters (`{id}` → value, percent-decoded).
struct RouteMatch {
    let route: Route
    let params: [String: String]
    func param(_ name: String) -> String { params[name] ?? "" }
}

enum Router {
    /// The routes, as every thread's tables and the tests see them (the same definitions).
    static var platform: [Route] { PerThread.withValues { $0.routes.platform } }
    static var logSearch: [Route] { PerThread.withValues { $0.routes.logSearch } }

    /// The route tables, made once per thread (`PerThread`). Routes are objects, and a match
    /// holds its route and the table's array: shared by the server's event loops, each request
    /// would count references on the same objects from both cores (as a shared `/validate`
    /// answer did; see `PerThread`).
    final class Tables {
        let platform: [Route]
        let logSearch: [Route]
        /// Platform paths that only routes without parameters fit (see `fixedMatches`).
        let fixed: [[(path: String, matches: [RouteMatch])]]

        init() {
            platform = Router.platformRoutes()
            logSearch = Router.logSearchRoutes()
            fixed = Router.fixedTable(platform)
        }
    }

    private static func platformRoutes() -> [Route] { [
        Route(["GET", "POST"], "/validate", .validate, .platform, .anyValidKey),
        Route(["GET"], "/idr/v2/investigations", .investigationsList(version: 2), .idr, .insightIDR),
        Route(["POST"], "/idr/v2/investigations", .investigationCreate, .idr, .insightIDR),
        Route(["POST"], "/idr/v2/investigations/_search", .investigationSearch, .idr, .insightIDR),
        Route(["GET"], "/idr/v2/investigations/{id}", .investigationGet, .idr, .insightIDR),
        Route(["PATCH"], "/idr/v2/investigations/{id}", .investigationPatch, .idr, .insightIDR),
        Route(["PUT"], "/idr/v2/investigations/{id}/status/{value}", .investigationSetField("status"), .idr, .insightIDR),
        Route(["PUT"], "/idr/v2/investigations/{id}/priority/{value}", .investigationSetField("priority"), .idr, .insightIDR),
        Route(["PUT"], "/idr/v2/investigations/{id}/disposition/{value}", .investigationSetField("disposition"), .idr, .insightIDR),
        Route(["PUT"], "/idr/v2/investigations/{id}/assignee", .investigationAssign, .idr, .insightIDR),
        Route(["GET"], "/idr/v2/investigations/{id}/alerts", .investigationAlerts, .idr, .insightIDR),
        Route(["GET"], "/idr/v1/investigations", .investigationsList(version: 1), .idr, .insightIDR),
        Route(["PUT"], "/idr/v1/investigations/{id}/status/{value}", .investigationSetField("status"), .idr, .insightIDR),
        Route(["PUT"], "/idr/v1/investigations/{id}/assignee", .investigationAssign, .idr, .insightIDR),
        Route(["POST"], "/idr/at/alerts/ops/search", .alertSearch, .idr, .insightIDR),
        Route(["GET"], "/idr/at/alerts/{rrn}", .alertGet, .idr, .insightIDR),
        Route(["PATCH"], "/idr/at/alerts/{rrn}", .alertPatch, .idr, .insightIDR),
        Route(["GET"], "/idr/at/alerts/{rrn}/actors", .alertActors, .idr, .insightIDR),
        Route(["GET"], "/idr/at/alerts/{rrn}/evidences", .alertEvidences, .idr, .insightIDR),
        Route(["POST"], "/idr/v1/users/_search", .userSearch, .idr, .insightIDR),
        Route(["GET"], "/idr/v1/users/{rrn}", .idrUser, .idr, .insightIDR),
        Route(["POST"], "/idr/v1/assets/_search", .assetSearch, .idr, .insightIDR),
        Route(["GET"], "/idr/v1/assets/{rrn}", .assetGet, .idr, .insightIDR),
        Route(["GET"], "/idr/v1/comments", .commentsList, .idr, .insightIDR),
        Route(["POST"], "/idr/v1/comments", .commentCreate, .idr, .insightIDR),
        Route(["DELETE"], "/idr/v1/comments/{rrn}", .commentDelete, .idr, .insightIDR),
        Route(["GET"], "/idr/v1/attachments", .attachmentsList, .idr, .insightIDR),
        Route(["POST"], "/idr/v1/attachments", .attachmentUpload, .idr, .insightIDR),
        Route(["GET"], "/idr/v1/attachments/{rrn}", .attachmentGet, .idr, .insightIDR),
        Route(["DELETE"], "/idr/v1/attachments/{rrn}", .attachmentDelete, .idr, .insightIDR),
        Route(["GET"], "/idr/v1/attachments/{rrn}/metadata", .attachmentMetadata, .idr, .insightIDR),
        Route(["POST"], "/idr/v1/customthreats", .threatCreate, .idr, .insightIDR),
        Route(["POST"], "/idr/v1/customthreats/key/{key}/indicators/add", .threatIndicators(replace: false), .idr, .insightIDR),
        Route(["POST"], "/idr/v1/customthreats/key/{key}/indicators/replace", .threatIndicators(replace: true), .idr, .insightIDR),
        Route(["POST"], "/idr/v1/customthreats/key/{key}/delete", .threatDelete, .idr, .insightIDR),
        Route(["POST"], "/idr/v1/investigations/bulk_close", .bulkClose, .idr, .insightIDR),
        Route(["POST"], "/idr/v2/investigations/bulk_close", .bulkClose, .idr, .insightIDR),
        Route(["GET"], "/idr/v1/investigations/{id}/product_alerts", .productAlerts, .idr, .insightIDR),
        Route(["GET"], "/idr/v2/investigations/{id}/product_alerts", .productAlerts, .idr, .insightIDR),
        Route(["GET"], "/idr/v2/investigations/{id}/rapid7-product-alerts", .productAlerts, .idr, .insightIDR),
        Route(["GET"], "/idr/v1/accounts/{rrn}", .accountGet, .idr, .insightIDR),
        Route(["POST"], "/idr/v1/accounts/_search", .accountSearch, .idr, .insightIDR),
        // ASSUMED path and shape: the account API ("Rapid7 account controls: get users",
        // docs.rapid7.com/insight/product-apis) is listed publicly but its routes are not.
        Route(["GET"], "/account/api/1/users", .accountUsers, .platform, .platformAdmin),
        Route(["POST"], "/connect/v1/workflows/{id}/events/execute", .triggerLegacy, .connect, .workflowKey, .connect),
        Route(["POST"], "/connect/v1/execute/async/workflows/{id}", .triggerAsync, .connect, .workflowKey, .connect),
        Route(["GET"], "/connect/v2/workflows", .workflowsList, .connect, .insightConnect, .connect),
    ] }

    /// Log Search paths, at the root of `rest.logs` hosts and under `/log_search` on platform hosts.
    private static func logSearchRoutes() -> [Route] { [
        Route(["GET"], "/management/logs", .logsList, .logSearchManagement, .logSearch, .logSearch),
        Route(["GET"], "/management/logs/{id}", .logGet, .logSearchManagement, .logSearch, .logSearch),
        Route(["GET"], "/management/logsets", .logsetsList, .logSearchManagement, .logSearch, .logSearch),
        Route(["GET"], "/management/logsets/{id}", .logsetGet, .logSearchManagement, .logSearch, .logSearch),
        Route(["GET"], "/query/logs/{keys}", .queryLogsGet, .logSearchQuery, .logSearch, .logSearch),
        // A saved query run on the logs it names, or on the logs given (the description's order).
        Route(["GET"], "/query/logs/{keys}/{saved}", .savedQueryRun, .logSearchQuery, .logSearch, .logSearch),
        Route(["GET"], "/query/saved_query/{saved}", .savedQueryRun, .logSearchQuery, .logSearch, .logSearch),
        Route(["POST"], "/query/logs", .queryLogsPost, .logSearchQuery, .logSearch, .logSearch),
        Route(["GET"], "/query/logsets/{id}", .queryLogset, .logSearchQuery, .logSearch, .logSearch),
        Route(["GET"], "/query/logsets", .queryLogsetsByName, .logSearchQuery, .logSearch, .logSearch),
        Route(["GET"], "/query/context/{id}", .queryContext(audit: false), .logSearchQuery, .logSearch, .logSearch),
        Route(["GET"], "/management/actions/{id}/targets", .actionTargets(modify: false), .logSearchManagement, .logSearch, .logSearch),
        Route(["PATCH"], "/management/actions/{id}/targets", .actionTargets(modify: true), .logSearchManagement, .logSearchWrite, .logSearch),
    ] + ManagedKind.allCases.flatMap(managedRoutes) + [
        // After the fixed /query/… routes: the first route that fits is taken.
        Route(["GET"], "/query/{id}", .queryPoll, .logSearchPolling, .logSearch, .logSearch),
        Route(["GET"], "/audit/management/logs", .auditLogsList, .logSearchManagement, .auditAdmin, .logSearch),
        Route(["GET"], "/audit/management/logs/{id}", .auditLogGet, .logSearchManagement, .auditAdmin, .logSearch),
        Route(["GET"], "/audit/logs/{keys}", .auditQueryGet, .logSearchQuery, .auditAdmin, .logSearch),
        // reference §6: one client calls /audit/query/logs/{key}; accept both.
        Route(["GET"], "/audit/query/logs/{keys}", .auditQueryGet, .logSearchQuery, .auditAdmin, .logSearch),
        Route(["POST"], "/audit/query/logs", .auditQueryPost, .logSearchQuery, .auditAdmin, .logSearch),
        // The Context link audit events carry, like every event (ASSUMED on the audit API).
        Route(["GET"], "/audit/query/context/{id}", .queryContext(audit: true), .logSearchQuery, .auditAdmin, .logSearch),
        Route(["GET"], "/audit/query/{id}", .auditPoll, .logSearchPolling, .auditAdmin, .logSearch),
    ] }

    /// A kind's collection and its objects: list and create; read, replace, modify and delete
    /// (targets and variables have no PATCH in the description).
    private static func managedRoutes(_ kind: ManagedKind) -> [Route] {
        let path = kind.path
        var routes = [
            Route(["GET"], path, .managed(kind, .list), .logSearchManagement, .logSearch, .logSearch),
            Route(["POST"], path, .managed(kind, .create), .logSearchManagement, .logSearchWrite, .logSearch),
            Route(["GET"], path + "/{id}", .managed(kind, .get), .logSearchManagement, .logSearch, .logSearch),
            Route(["PUT"], path + "/{id}", .managed(kind, .replace), .logSearchManagement, .logSearchWrite, .logSearch),
            Route(["DELETE"], path + "/{id}", .managed(kind, .delete), .logSearchManagement, .logSearchWrite, .logSearch),
        ]
        if kind != .target && kind != .variable {
            routes.append(Route(["PATCH"], path + "/{id}", .managed(kind, .modify), .logSearchManagement, .logSearchWrite, .logSearch))
        }
        return routes
    }

    /// The space a request's path is in, and its path within that space.
    static func locate(_ request: HTTPRequest, kind: Region.HostKind?) -> (space: APISpace, segments: [String]) {
        var path = request.path
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        if kind == .logSearch {
            return (.logSearch, segments(path))
        }
        if path == "/log_search" || path.hasPrefix("/log_search/") {
            return (.logSearch, segments(String(path.dropFirst("/log_search".count))))
        }
        return (path.hasPrefix("/connect/") ? .connect : .platform, segments(path))
    }

    private static func segments(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
    }

    /// Platform paths that only routes without parameters fit, with those routes, so the
    /// commonest requests (`/validate`, `/idr/v2/investigations`) are matched without splitting
    /// the path. A path a parameterised route also fits (`…/investigations/_search`) is left to
    /// the full match, which lists both. Kept by the path's length in UTF-8 bytes and found by
    /// comparing the few of that length, not by hashing the path (a `String` hash was about
    /// 30 ns of a 310 ns `/validate` in the emulator).
    fileprivate static func fixedTable(_ platform: [Route]) -> [[(path: String, matches: [RouteMatch])]] {
        var table: [[(path: String, matches: [RouteMatch])]] = []
        for route in platform where !route.pattern.contains(where: { $0.hasPrefix("{") }) {
            let path = "/" + route.pattern.joined(separator: "/")
            let alsoFits = platform.contains { other in
                other.pattern.contains(where: { $0.hasPrefix("{") }) && other.pattern.count == route.pattern.count
                    && zip(other.pattern, route.pattern).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
            }
            guard !alsoFits else { continue }
            let length = path.utf8.count
            if table.count <= length { table += Array(repeating: [], count: length + 1 - table.count) }
            if let index = table[length].firstIndex(where: { $0.path == path }) {
                table[length][index].matches.append(RouteMatch(route: route, params: [:]))
            } else {
                table[length].append((path, [RouteMatch(route: route, params: [:])]))
            }
        }
        return table
    }

    /// The routes of a fixed platform path, nil when it is not one.
    static func fixedMatches(_ path: String) -> [RouteMatch]? {
        PerThread.withValues { values in
            let fixed = values.routes.fixed
            let length = path.utf8.count
            guard length < fixed.count else { return nil }
            for index in fixed[length].indices where fixed[length][index].path == path { return fixed[length][index].matches }
            return nil
        }
    }

    /// The routes whose pattern fits the path, whatever their method; the first fits best.
    /// `kind`: the request's host kind, looked up once by the caller.
    static func match(_ request: HTTPRequest, kind: Region.HostKind?) -> [RouteMatch] {
        if kind != .logSearch, let found = fixedMatches(request.path) {
            return found
        }
        return fullMatch(request, kind: kind)
    }

    /// `match` without the shortcut for fixed paths: splits the path and tries every route.
    static func fullMatch(_ request: HTTPRequest, kind: Region.HostKind?) -> [RouteMatch] {
        let (space, segments) = locate(request, kind: kind)
        return PerThread.withValues { values in
            let table = space == .logSearch ? values.routes.logSearch : values.routes.platform
            return table.compactMap { route -> RouteMatch? in
                guard route.pattern.count == segments.count else { return nil }
                var params: [String: String] = [:]
                for (pattern, segment) in zip(route.pattern, segments) {
                    if pattern.hasPrefix("{") {
                        guard !segment.isEmpty else { return nil }
                        params[String(pattern.dropFirst().dropLast())] = segment.removingPercentEncoding ?? segment
                    } else if pattern != segment {
                        return nil
                    }
                }
                return RouteMatch(route: route, params: params)
            }
        }
    }
}
