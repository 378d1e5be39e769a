import Foundation
import InsightCore

/// What the emulator decided for a request: an answer (possibly after a delay), or a dropped
/// connection. The server acts on it on its event loop; the in-process transport sleeps the
/// delay on the injected clock.
public enum Reply: Sendable {
    case respond(HTTPResponse, after: Double)
    case reset
}

/// The Rapid7 Insight platform as pure logic: `handle(request) -> response`, no sockets.
///
/// State (tenants, faults, timeline, rate limits, queries, deliveries, journal) belongs to the
/// instance a test or scenario creates; there is no global registry. Time comes from the
/// injected clock. The core is synchronous under a lock so a server can answer on its event
/// loop without a task hop.
public final class Emulator: HTTPTransport, @unchecked Sendable {
    public let clock: any InsightClock
    /// The instant the emulator was created: timeline offsets and journal times count from here.
    public let epoch: Date
    private let lock = AdaptiveLock()
    var state: EmulatorState

    public init(
        tenants: [Tenant], faults: [FaultRule] = [], timeline: [TimelineEvent] = [],
        rateLimits: [EndpointFamily: RateLimit] = [:], clock: any InsightClock,
        journalCapacity: Int = 10_000, seed: UInt64 = 1
    ) {
        self.clock = clock
        epoch = clock.now()
        state = EmulatorState(tenants: tenants, faults: FaultPlan(faults, seed: seed),
                              timeline: timeline.sorted { $0.at < $1.at }, rateLimits: RateLimiter(overrides: rateLimits),
                              journal: Journal(capacity: journalCapacity), random: SeededRandom(seed: seed, label: "emulator"))
    }

    /// Answers one request as the platform would, waiting any fault latency on the clock.
    ///
    /// - Throws: `CoreError.transport(.nameResolution)` for a host that is not a Rapid7 regional host
    ///   (as a DNS lookup fails before any HTTP exchange), `.transport(.connectionReset)`
    ///   for a reset fault.
    public func handle(_ request: HTTPRequest) async throws -> HTTPResponse {
        switch try process(request) {
        case .respond(let response, let delay):
            if delay > 0 { try await clock.sleep(seconds: delay) }
            return response
        case .reset:
            throw CoreError.transport(.connectionReset, host: request.host, detail: "fault: connection reset")
        }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await handle(request)
    }

    /// The decision for one request, synchronously. Throws only for an unknown host.
    public func process(_ request: HTTPRequest) throws -> Reply {
        guard let (region, kind) = Region.lookup(host: request.host) else {
            throw CoreError.transport(.nameResolution, host: request.host, detail: "not a Rapid7 Insight host")
        }
        return process(request, region: region, kind: kind)
    }

    /// The decision for a request whose host is already known to be `kind` of `region` (the
    /// server has looked it up to route it: this saves a second lookup per request).
    public func process(_ request: HTTPRequest, region: Region, kind: Region.HostKind) -> Reply {
        let now = clock.now()
        // Matching is a pure function of the request: do it before taking the lock.
        let matches = Router.match(request, kind: kind)
        return withState { state in
            state.applyTimeline(until: now, epoch: epoch)
            var context = RequestContext(region: region, now: now, epoch: epoch)
            let reply = state.respond(to: request, matches: matches, &context)
            let status: Int
            var retryAfter: Double?
            switch reply {
            case .respond(let response, _):
                status = response.status
                retryAfter = response.headers["retry-after"].flatMap(Double.init)
            case .reset: status = 0
            }
            state.journal.append(time: now, elapsed: now.timeIntervalSince(epoch), JournalEntry.Template(
                method: Journal.clip(request.method), region: region, hostKind: kind, path: Journal.clip(request.path),
                query: request.query.isEmpty ? "" : Journal.queryText(request.query), keyID: context.keyID, status: status,
                reason: context.reason, headerList: Journal.headerList(request.headers), retryAfter: retryAfter))
            return reply
        }
    }

    func withState<T>(_ body: (inout EmulatorState) -> T) -> T {
        lock.withLock { body(&state) }
    }

    func withState<T>(_ body: (inout EmulatorState) throws -> T) throws -> T {
        try lock.withLock { try body(&state) }
    }

    // MARK: Inspection and control (the admin API and tests use these)

    /// The journal, oldest first.
    public var journal: Journal { withState { $0.journal } }
    /// Every event InsightConnect triggers received, oldest first.
    public var deliveries: [Delivery] { withState { $0.deliveries } }
    /// The tenants of a region, as they stand now.
    public func tenants(in region: Region) -> [Tenant] { withState { $0.tenants.filter { $0.region == region } } }
    /// The first tenant of a region.
    public func tenant(_ region: Region) -> Tenant? { tenants(in: region).first }
    public var allTenants: [Tenant] { withState { $0.tenants } }

    /// Applies a state change at once; false when no tenant has the key or user it names.
    @discardableResult
    public func apply(_ action: TimelineEvent.Action) -> Bool {
        let now = clock.now()
        return withState { $0.apply(action, at: now) }
    }

    /// Applies an admin change to the tenants it names (every tenant when it names none) and
    /// says which changed, as "us2 (Example Organization US2)". A key id or secret that exists
    /// anywhere is refused (409): an id names one key, and a secret is valid in one region.
    public func apply(_ change: AdminChange) throws -> [String] {
        let now = clock.now()
        return try withState { state in
            let chosen = state.tenants.indices.filter { change.matches(state.tenants[$0]) }
            guard !chosen.isEmpty else {
                throw EmulatorError.adminRefused(404, "no tenant is \([change.region?.code, change.organization].compactMap { $0 }.joined(separator: " / ")); tenants: \(state.tenantNames)",
                                                remedy: "name one of those tenants by its region or organization")
            }
            if case .createKey(let key) = change.action {
                if let holder = state.tenants.first(where: { $0.keys.contains { $0.id == key.id } }) {
                    throw EmulatorError.adminRefused(409, "a key '\(key.id)' exists already (in \(holder.region.code))", remedy: "key ids name one key: choose another id")
                }
                if state.tenants.contains(where: { $0.keys.contains { $0.secret == key.secret } }) {
                    throw EmulatorError.adminRefused(409, "that secret belongs to another key already", remedy: "a secret is valid in one region only: make a new one")
                }
                guard chosen.count == 1 || change.region != nil || change.organization != nil else {
                    throw EmulatorError.adminRefused(400, "create_key: \(chosen.count) tenants could hold the key (\(state.tenantNames))",
                                                    remedy: "name the tenant it is for, \"region\" or \"organization\" beside the action")
                }
                guard let index = chosen.first(where: { state.tenants[$0].apply(change.action, at: now) }) else {
                    throw EmulatorError.adminRefused(404, "create_key: \(key.owner.map { "no user \($0) in the tenant named" } ?? "the key could not be made")",
                                                    remedy: "give as owner a user of that tenant")
                }
                return ["\(state.tenants[index].region.code) (\(state.tenants[index].organizationName))"]
            }
            let changed = chosen.filter { state.tenants[$0].apply(change.action, at: now) }
            guard !changed.isEmpty else {
                throw EmulatorError.adminRefused(404, "no tenant named has the key or user this names", remedy: "`GET /_admin/keys` lists each tenant's keys")
            }
            state.investigationBytes = [:]
            return changed.map { "\(state.tenants[$0].region.code) (\(state.tenants[$0].organizationName))" }
        }
    }

    public func addFault(_ rule: FaultRule) { withState { $0.faults.append(rule) } }

    /// The faults in force, each with how many requests it has seen (`GET /_admin/faults`).
    public var faultsInForce: [(rule: FaultRule, seen: Int)] { withState { $0.faults.inForce } }

    /// Removes every fault (`DELETE /_admin/faults`); how many there were.
    @discardableResult
    public func clearFaults() -> Int { withState { $0.faults.clear() } }

    /// Changes the tenants of a region in place (data arriving or disappearing mid-sync, in tests).
    public func mutateTenants(in region: Region, _ body: (inout Tenant) -> Void) {
        withState { state in
            for index in state.tenants.indices where state.tenants[index].region == region { body(&state.tenants[index]) }
            state.investigationBytes = [:]
        }
    }
    public func resetJournal() { withState { $0.journal.reset() } }

    /// Replaces every tenant, fault and timeline event (loading another scenario's world).
    public func load(tenants: [Tenant], faults: [FaultRule], timeline: [TimelineEvent], seed: UInt64) {
        withState { state in
            state.tenants = tenants
            state.investigationBytes = [:]
            state.faults = FaultPlan(faults, seed: seed)
            state.timeline = timeline.sorted { $0.at < $1.at }
            state.queries = [:]
            state.deliveries = []
        }
    }
}

/// Per-request facts the journal records.
struct RequestContext {
    let region: Region
    let now: Date
    let epoch: Date
    var keyID: String?
    var reason = ""
    /// The answer came from a recording (or its miss): not captured again.
    var fromRecording = false
}

/// Everything the emulator holds, mutated only under its lock.
struct EmulatorState {
    var tenants: [Tenant]
    var faults: FaultPlan
    var timeline: [TimelineEvent]
    var rateLimits: RateLimiter
    var journal: Journal
    var random: SeededRandom
    var queries: [String: LogQuery] = [:]
    var deliveries: [Delivery] = []
    var replay: ReplayState?
    /// v2 bytes of generated, unedited investigations by `tenant << 48 | position` (see `v2Page`);
    /// emptied whenever the tenants are replaced or changed from outside.
    var investigationBytes: [Int: [UInt8]] = [:]

    /// The tenants as an admin answer names them: `us (Acme), eu (Acme EU)`.
    var tenantNames: String { tenants.map { "\($0.region.code) (\($0.organizationName))" }.joined(separator: ", ") }

    mutating func applyTimeline(until now: Date, epoch: Date) {
        while let next = timeline.first, epoch.addingTimeInterval(next.at) <= now {
            timeline.removeFirst()
            _ = apply(next.action, at: epoch.addingTimeInterval(next.at))
        }
    }

    mutating func apply(_ action: TimelineEvent.Action, at now: Date) -> Bool {
        if case .createKey = action {
            // A new key belongs to one organization: the first that can own it.
            return tenants.indices.contains { tenants[$0].apply(action, at: now) }
        }
        var applied = false
        for index in tenants.indices where tenants[index].apply(action, at: now) { applied = true }
        return applied
    }

    mutating func correlationID() -> String { random.uuid() }
}
