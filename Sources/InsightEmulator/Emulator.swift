import Foundation
import InsightCore

/// The Rapid7 Insight platform as pure logic: `handle(request) -> response`, no sockets.
///
/// State (tenants, faults, timeline, journal) belongs to the instance a test or scenario
/// creates; there is no global registry. Time comes from the injected clock.
public actor Emulator {
    public nonisolated let clock: any InsightClock
    /// The instant the emulator was created: timeline offsets and journal times count from here.
    public nonisolated let epoch: Date
    var tenants: [Region: Tenant]
    var faults: FaultPlan
    var pendingTimeline: [TimelineEvent]
    public private(set) var journal: Journal
    var correlation: SeededRandom

    public init(
        tenants: [Tenant], faults: [FaultRule] = [], timeline: [TimelineEvent] = [],
        clock: any InsightClock, journalCapacity: Int = 10_000, seed: UInt64 = 1
    ) {
        self.clock = clock
        epoch = clock.now()
        self.tenants = Dictionary(tenants.map { ($0.region, $0) }, uniquingKeysWith: { first, _ in first })
        self.faults = FaultPlan(faults)
        pendingTimeline = timeline.sorted { $0.at < $1.at }
        journal = Journal(capacity: journalCapacity)
        correlation = SeededRandom(seed: seed, label: "correlation")
    }

    /// Answers one request as the platform would.
    ///
    /// - Throws: `TransportError.nameResolution` for a host that is not a Rapid7 regional host,
    ///   as a DNS lookup would fail before any HTTP exchange.
    public func handle(_ request: HTTPRequest) async throws -> HTTPResponse {
        let now = clock.now()
        applyTimeline(until: now)
        guard let region = Region(host: request.host) else {
            throw TransportError(.nameResolution, host: request.host, detail: "not a Rapid7 Insight host")
        }
        var context = RequestContext(region: region, now: now)
        let response = respond(to: request, &context)
        journal.append { sequence in
            JournalEntry(
                sequence: sequence, time: now, elapsed: now.timeIntervalSince(epoch), method: request.method,
                host: request.host, path: request.path,
                query: request.query.map { "\($0.name)=\($0.value ?? "")" }.joined(separator: "&"),
                keyID: context.keyID, status: response.status, reason: context.reason)
        }
        return response
    }

    /// The tenant of a region, as it stands now.
    public func tenant(_ region: Region) -> Tenant? { tenants[region] }

    /// Applies a state change at once (the admin API and tests use this).
    @discardableResult
    public func apply(_ action: TimelineEvent.Action) -> Bool {
        var applied = false
        for region in tenants.keys {
            if tenants[region]!.apply(action) { applied = true }
        }
        return applied
    }

    public func addFault(_ rule: FaultRule) { faults.append(rule) }
    public func resetJournal() { journal.reset() }

    private func applyTimeline(until now: Date) {
        while let next = pendingTimeline.first, epoch.addingTimeInterval(next.at) <= now {
            pendingTimeline.removeFirst()
            apply(next.action)
        }
    }

    /// Per-request facts the journal records.
    struct RequestContext {
        let region: Region
        let now: Date
        var keyID: String?
        var reason = ""
    }

    private func respond(to request: HTTPRequest, _ context: inout RequestContext) -> HTTPResponse {
        if let fault = faults.fire(for: request, region: context.region) {
            context.reason = "fault \(fault.status)"
            return Self.faultResponse(fault)
        }
        guard let route = Route.match(request) else {
            context.reason = "no such route"
            return Self.notFound()
        }
        guard route.methods.contains(request.method) else {
            context.reason = "method not allowed"
            return .json(405, ["message": "HTTP 405 Method Not Allowed"], headers: ["Allow": route.methods.joined(separator: ", ")])
        }
        let principal: Principal
        switch authenticate(request, &context) {
        case .success(let found): principal = found
        case .failure(let denial):
            context.reason = denial.reason
            return .json(401, ["message": "Unauthorized"])
        }
        if let missing = authorize(principal, for: route.permission) {
            context.reason = "forbidden: \(missing)"
            return .json(403, ["message": "Forbidden", "correlation_id": .string(correlation.uuid())])
        }
        context.reason = "ok"
        return serve(route, request, principal, context)
    }

    static func notFound() -> HTTPResponse {
        .json(404, ["message": "HTTP 404 Not Found"])
    }

    static let reasonPhrases = [
        500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
        504: "Gateway Timeout", 400: "Bad Request", 408: "Request Timeout", 409: "Conflict",
    ]

    static func faultResponse(_ fault: FaultRule) -> HTTPResponse {
        switch fault.status {
        case 429:
            // reference §3: text/plain body and the four rate-limit headers.
            let retry = fault.retryAfter ?? 60
            return .text(429, "API rate limit exceeded", headers: [
                "Retry-After": "\(retry)", "X-RateLimit-Limit": "1500", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "\(retry)",
            ])
        default:
            // ASSUMED: 5xx bodies follow the 404 shape (`{"message":"HTTP <code> <reason>"}`).
            var headers: HTTPHeaders = [:]
            if let retry = fault.retryAfter { headers.set("Retry-After", "\(retry)") }
            let reason = reasonPhrases[fault.status] ?? "Server Error"
            return .json(fault.status, ["message": .string("HTTP \(fault.status) \(reason)")], headers: headers)
        }
    }
}
