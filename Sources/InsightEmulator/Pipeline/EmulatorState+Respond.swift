import Foundation
import InsightCore

/// Who a valid key speaks for, and in which tenant.
struct Principal: Sendable {
    enum Kind: Sendable {
        case organization
        /// The key's owner, by position in the tenant's users (not a copy: copying a user
        /// counts references on strings and arrays every event loop shares).
        case user(Int)
        /// A trigger whose workflow needs no key.
        case anonymous
    }
    let kind: Kind
    let keyID: String
    let tenant: Int
}

extension EmulatorState {
    mutating func respond(to request: HTTPRequest, matches: [RouteMatch], _ context: inout RequestContext) -> Reply {
        var delay = 0.0
        var mangle: FaultRule.Effect?
        for effect in faults.fire(for: request, region: context.region) {
            switch effect {
            case .status(let status, let retryAfter):
                context.reason = "fault \(status)"
                let answer = Self.faultResponse(status, retryAfter: retryAfter)
                capture(request, answer, now: context.now)
                return .respond(answer, after: delay)
            case .answer(let chosen):
                context.reason = "fault \(chosen.status)"
                let answer = chosen.response
                capture(request, answer, now: context.now)
                return .respond(answer, after: delay)
            case .latency(let seconds):
                delay += seconds
            case .reset:
                context.reason = "fault reset"
                return .reset
            case .truncatedBody, .malformedJSON:
                mangle = effect
            }
        }
        var response = route(request, matches, &context)
        switch mangle {
        case .truncatedBody?:
            context.reason += "; fault truncated body"
            // Content-Length promises the whole body; the bytes stop halfway.
            response.headers.set("X-Insight-Replay-Fault", "truncated")
            response.body = response.body.prefix(response.body.count / 2)
        case .malformedJSON?:
            context.reason += "; fault malformed JSON"
            response.body = Data(#"{"data": [{"rrn": "rrn:investigation"#.utf8)
        default:
            break
        }
        return .respond(response, after: delay)
    }

    private mutating func route(_ request: HTTPRequest, _ matches: [RouteMatch], _ context: inout RequestContext) -> HTTPResponse {
        let response = routeAndServe(request, matches, &context)
        if !context.fromRecording { capture(request, response, now: context.now) }
        return response
    }

    /// A recording may hold endpoints the emulator does not know: they still pass authentication.
    static let replayOnly = RouteMatch(route: Route(["GET", "POST", "PUT", "PATCH", "DELETE"], "/", .validate, .platform, .anyValidKey), params: [:])

    private mutating func routeAndServe(_ request: HTTPRequest, _ matches: [RouteMatch], _ context: inout RequestContext) -> HTTPResponse {
        let found = matches.first(where: { $0.route.methods.contains(request.method) }) ?? (replay != nil && replay?.mode != .all ? Self.replayOnly : nil)
        guard let match = found else {
            if let any = matches.first {
                context.reason = "method not allowed"
                let allowed = matches.flatMap(\.route.methods).joined(separator: ", ")
                return .json(405, ["message": "HTTP 405 Method Not Allowed"], headers: ["Allow": allowed])
                    .withSpace(any.route.space, requestID: correlationID())
            }
            context.reason = "no such route"
            return Self.notFound()
        }
        let route = match.route
        // Recordings first: in mode none they alone answer (an unmatched request is a miss, not
        // the tenant's 401); in mode missing the emulator answers what they do not match.
        if let replay, replay.beforeAuthentication, let recorded = replayAnswer(request, &context, final: replay.mode == .none) {
            return recorded
        }
        let principal: Principal
        switch authenticate(request, match, &context) {
        case .success(let found): principal = found
        case .failure(let refusal):
            let denial = refusal.denial ?? (reason: refusal.problem, notFound: false)
            context.reason = denial.reason
            if denial.notFound { return error(404, "Workflow not found", route.space) }
            return route.space == .connect ? error(401, "Unauthorized", .connect) : Self.unauthorized
        }
        let verdict = rateLimits.take(key: principal.keyID, family: route.family, now: context.now)
        var rateHeaders: HTTPHeaders = [:]
        switch verdict {
        case .limited(let limit, let reset):
            context.reason = "rate limited (\(route.family.rawValue))"
            // reference §3: text/plain body and the four rate-limit headers.
            return .text(429, "API rate limit exceeded", headers: [
                "Retry-After": "\(reset)", "X-RateLimit-Limit": "\(limit)", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "\(reset)",
            ])
        case .allowed(let limit, let remaining, let reset):
            // reference §3: every answer carries X-RateLimit-Remaining. ASSUMED: Limit and Reset
            // come with it (lecli reads Reset once Remaining is 0).
            rateHeaders.add("X-RateLimit-Remaining", "\(remaining)")
            rateHeaders.add("X-RateLimit-Limit", "\(limit)")
            rateHeaders.add("X-RateLimit-Reset", "\(reset)")
        case .unlimited:
            break
        }
        if let missing = authorize(principal, route.permission) {
            context.reason = "forbidden: \(missing)"
            return error(403, "Forbidden", route.space)
        }
        context.reason = "ok"
        if let recorded = replayAnswer(request, &context) {
            var answer = recorded
            for field in rateHeaders { answer.headers.set(field.name, field.value) }
            return answer
        }
        if matches.isEmpty, match.route.pattern == ["/"] || match.route.pattern.isEmpty {
            context.reason = "no such route"
            return Self.notFound()
        }
        var response = serve(match, request, principal, &context)
        for field in rateHeaders { response.headers.set(field.name, field.value) }
        return response
    }

    /// An error in the shape of its API: IDR `{"message","correlation_id"}`, Log Search
    /// `{"message"}`, InsightConnect `{"error":{"message","requestId"}}` (reference §2, §7).
    mutating func error(_ status: Int, _ message: String, _ space: APISpace) -> HTTPResponse {
        switch space {
        case .platform:
            return .json(status, ["message": .string(message), "correlation_id": .string(correlationID())])
        case .logSearch:
            return .json(status, ["message": .string(message)])
        case .connect:
            return .json(status, ["error": ["message": .string(message), "requestId": .string(correlationID())]])
        }
    }

    /// The documented `/validate` answers: the hottest path. Made once per thread (`PerThread`):
    /// made per request they cost three allocations; shared by all threads, the server's event
    /// loops counted references on one answer's storage between them, which cost as much.
    static var authorized: HTTPResponse { PerThread.withValues { $0.authorized } }
    static var unauthorized: HTTPResponse { PerThread.withValues { $0.unauthorized } }

    static func notFound() -> HTTPResponse {
        .json(404, ["message": "HTTP 404 Not Found"])
    }

    static let reasonPhrases = [
        500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
        504: "Gateway Timeout", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
        408: "Request Timeout", 409: "Conflict", 410: "Gone", 422: "Unprocessable Entity", 301: "Moved Permanently", 302: "Found",
        303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect",
    ]

    static func faultResponse(_ status: Int, retryAfter: Int?) -> HTTPResponse {
        if status == 429 {
            let retry = retryAfter ?? 60
            return .text(429, "API rate limit exceeded", headers: [
                "Retry-After": "\(retry)", "X-RateLimit-Limit": "1500", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "\(retry)",
            ])
        }
        // ASSUMED: other fault statuses use the 404 shape (`{"message":"HTTP <code> <reason>"}`).
        var headers: HTTPHeaders = [:]
        if let retryAfter { headers.set("Retry-After", "\(retryAfter)") }
        let reason = reasonPhrases[status] ?? "Error"
        return .json(status, ["message": .string("HTTP \(status) \(reason)")], headers: headers)
    }
}

extension HTTPResponse {
    /// Re-shapes a platform error for the space it belongs to.
    func withSpace(_ space: APISpace, requestID: String) -> HTTPResponse {
        guard space == .connect, let message = json?["message"] else { return self }
        return .json(status, ["error": ["message": message, "requestId": .string(requestID)]], headers: headers)
    }
}
