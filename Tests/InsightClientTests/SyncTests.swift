import Foundation
@testable import InsightClient
import InsightCore
import InsightEmulator
import Testing

/// Calls `hook` after the emulator answers a request whose path has `prefix`, the `nth` time.
final class HookedTransport: HTTPTransport, @unchecked Sendable {
    let emulator: Emulator
    let prefix: String
    let nth: Int
    let hook: @Sendable (Emulator) -> Void
    private let lock = NSLock()
    private var seen = 0
    init(_ emulator: Emulator, after prefix: String, nth: Int = 1, hook: @escaping @Sendable (Emulator) -> Void) {
        self.emulator = emulator
        self.prefix = prefix
        self.nth = nth
        self.hook = hook
    }
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await emulator.handle(request)
        if request.path.hasPrefix(prefix), lock.withLock({ seen += 1; return seen }) == nth { hook(emulator) }
        return response
    }
}

enum SyncFixture {
    static func tenant(investigations: Int = 250, alertsEach: Int = 0, logs: Int = 0, eventsPerLog: Int = 0, polls: Int = 1) -> Tenant {
        var tenant = ClientFixture.tenant(.us2)
        var generator = DataGenerator(seed: 9, label: "sync")
        tenant.investigations = generator.investigations(count: investigations, region: .us2, organizationID: tenant.organizationID,
                                                         now: VirtualClock.defaultStart, spreadDays: 10)
        tenant.alerts = generator.alerts(for: tenant.investigations, perInvestigation: alertsEach, region: .us2, organizationID: tenant.organizationID)
        tenant.logSources = generator.logSources(count: logs)
        tenant.logEvents = generator.logEvents(for: tenant.logSources, perLog: eventsPerLog, now: VirtualClock.defaultStart, spreadDays: 2)
        tenant.queryPolls = polls
        return tenant
    }

    static func newInvestigations(_ count: Int, at time: Date, label: String) -> [Investigation] {
        var generator = DataGenerator(seed: 99, label: label)
        return Array(generator.investigations(count: count, region: .us2, organizationID: "org", now: time.addingTimeInterval(61), spreadDays: 0.0001))
    }
}

@Suite struct InvestigationSyncTests {
    @Test func allPagesWithNothingMissedOrRepeated() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [SyncFixture.tenant()], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock)
        let report = try await client.sync()
        #expect(report.investigations == 250)
    }

    @Test func investigationsArrivingBetweenPagesAreNeitherLostNorCountedTwice() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [SyncFixture.tenant()], clock: clock)
        // After the first page, 30 new investigations arrive (newer than any seen) — the total grows.
        let transport = HookedTransport(emulator, after: "/idr/v2/investigations") { emulator in
            emulator.mutateTenants(in: .us2) { $0.investigations += SyncFixture.newInvestigations(30, at: VirtualClock.defaultStart.addingTimeInterval(-3600), label: "late") }
        }
        let client = ClientFixture.client(transport, url: "https://us2.api.insight.rapid7.com", clock: clock)
        let report = try await client.sync()
        #expect(report.investigations == 280)
    }

    @Test func investigationsRemovedBetweenPagesDoNotShiftOthersOut() async throws {
        let clock = VirtualClock()
        let tenant = SyncFixture.tenant()
        let emulator = Emulator(tenants: [tenant], clock: clock)
        // After the first page, the 40 oldest are closed and removed: with index paging the next
        // page would skip 40 unseen ones.
        let transport = HookedTransport(emulator, after: "/idr/v2/investigations") { emulator in
            emulator.mutateTenants(in: .us2) { $0.investigations.removeFirst(40) }
        }
        let client = ClientFixture.client(transport, url: "https://us2.api.insight.rapid7.com", clock: clock)
        let report = try await client.sync()
        #expect(report.investigations == 250, "the 100 of the first page (40 since removed) and all 150 others")
    }

    /// Dense seconds: more than a page in one second (the index steps), and clusters 0.7 s apart
    /// (each request starts a second before the cursor, so it reads the cluster before again:
    /// the rrns the client keeps must reach back that far). Every investigation once, and
    /// nothing again on the next sync.
    @Test func denseSecondsAreReadOnceEach() async throws {
        let clock = VirtualClock()
        var tenant = SyncFixture.tenant(investigations: 0)
        let sizes = [250, 60, 45, 130, 1, 60, 60, 205, 70, 3, 99, 100]
        for (cluster, count) in sizes.enumerated() {
            // Each cluster within 0.05 s, 0.7 s after the one before, an hour before now.
            var generator = DataGenerator(seed: UInt64(cluster), label: "dense")
            let end = VirtualClock.defaultStart.addingTimeInterval(-3600 + Double(cluster) * 0.7)
            tenant.investigations += Array(generator.investigations(count: count, region: .us2, organizationID: tenant.organizationID,
                                                                    now: end, spreadDays: 0.05 / 86_400))
        }
        let total = sizes.reduce(0, +)
        let emulator = Emulator(tenants: [tenant], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock)
        let report = try await client.sync()
        #expect(report.investigations == total)
        #expect(Set(report.investigationRRNs).count == total)
        clock.advance(seconds: 60)
        #expect(try await client.sync().investigations == 0)
    }

    @Test func theNextSyncFetchesOnlyWhatIsNew() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [SyncFixture.tenant()], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock)
        #expect(try await client.sync().investigations == 250)
        clock.advance(seconds: 3600)
        #expect(try await client.sync().investigations == 0)
        emulator.mutateTenants(in: .us2) { $0.investigations += SyncFixture.newInvestigations(7, at: clock.now().addingTimeInterval(-600), label: "new") }
        clock.advance(seconds: 60)
        #expect(try await client.sync().investigations == 7)
        let checkpoint = await client.checkpoint
        #expect(checkpoint.investigationsThrough != nil)
        // A fresh client given the checkpoint (as after a restart) starts where it left off.
        let restarted = InsightClient(settings: IntegrationSettings(url: "https://us2.api.insight.rapid7.com", token: ClientFixture.key),
                                      transport: emulator, clock: clock, checkpoint: checkpoint)
        #expect(try await restarted.sync().investigations == 0)
    }
}

@Suite struct AlertAndLogSyncTests {
    @Test func alertsArePagedByOffsetToTheEnd() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [SyncFixture.tenant(investigations: 120, alertsEach: 2)], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock)
        let report = try await client.sync()
        #expect(report.alerts == 240)
        let offsets = emulator.journal.ordered.filter { $0.path == "/idr/at/alerts/ops/search" }.map(\.query)
        #expect(offsets == ["size=100&index=0", "size=100&index=100", "size=100&index=200"])
    }

    /// Alerts come newest first: one arriving after the first page shifts every later page by
    /// one, and the alert at the boundary is read twice. It is counted once.
    @Test func anAlertArrivingBetweenPagesDoesNotCountTheBoundaryTwice() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [SyncFixture.tenant(investigations: 120, alertsEach: 2)], clock: clock)
        let transport = HookedTransport(emulator, after: "/idr/at/alerts/ops/search") { emulator in
            emulator.mutateTenants(in: .us2) { tenant in
                var arrived = tenant.alerts[0]
                arrived.rrn += "-arrived"
                arrived.createdTime = clock.now().addingTimeInterval(-1)
                tenant.alerts.append(arrived)
            }
        }
        let client = ClientFixture.client(transport, url: "https://us2.api.insight.rapid7.com", clock: clock)
        let report = try await client.sync()
        #expect(report.alerts == 240, "every alert there was at the start, once (the one that arrived is ahead of the offset)")
        #expect(RRNDigest("rrn:alerts:us1:a:alert:1") == RRNDigest("rrn:alerts:us1:a:alert:1"))
        let digests = Set((0..<100_000).map { RRNDigest("rrn:alerts:us1:org:alert:\($0)") })
        #expect(digests.count == 100_000)
    }

    @Test func logEventsFollowNextPagesThroughPolling() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [SyncFixture.tenant(investigations: 1, logs: 3, eventsPerLog: 300)], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock)
        let report = try await client.sync()
        #expect(report.logEvents == 900)
        let queries = emulator.journal.ordered.filter { $0.path.hasPrefix("/log_search/query") }.map(\.status)
        #expect(queries == [202, 200, 202, 200], "two pages of 500, each a query polled once")
        let again = try await client.sync()
        #expect(again.logEvents == 0, "the checkpoint skips what was seen")
    }

    @Test func anExpiredQueryIsRunAgain() async throws {
        let clock = VirtualClock()
        // The first poll is rate limited for 30 s: by then the query has expired (20 s).
        let emulator = Emulator(tenants: [SyncFixture.tenant(investigations: 1, logs: 1, eventsPerLog: 10)],
                                faults: [FaultRule(path: "/log_search/query/", status: 429, count: 1, after: 1, retryAfter: 30)], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock)
        let report = try await client.sync()
        #expect(report.logEvents == 10)
        let statuses = emulator.journal.ordered.filter { $0.path.hasPrefix("/log_search/query") }.map(\.status)
        #expect(statuses == [202, 429, 404, 202, 200])
    }
}

@Suite struct RequestPathTests {
    @Test func aKnownQuotaIsWaitedOutInsteadOfSpent() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [SyncFixture.tenant(investigations: 5)], rateLimits: [.platform: RateLimit(limit: 1, window: 300)], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock)
        _ = try await client.validate()
        _ = try await client.validate()
        #expect(emulator.journal.ordered.map(\.status) == [200, 200])
        #expect(emulator.journal.ordered.map(\.elapsed) == [0, 300])
    }

    @Test func jitterIsSeededAndBounded() async throws {
        func times(seed: UInt64) async throws -> [Double] {
            let clock = VirtualClock()
            let emulator = Emulator(tenants: [SyncFixture.tenant(investigations: 1)], faults: [FaultRule(path: "/validate", status: 503, count: 3)], clock: clock)
            let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock,
                                              retry: RetryPolicy(maxAttempts: 4, baseBackoff: 1, jitter: 0.5, jitterSeed: seed))
            _ = try await client.validate()
            return emulator.journal.ordered.map(\.elapsed)
        }
        let first = try await times(seed: 7)
        #expect(try await times(seed: 7) == first)
        #expect(try await times(seed: 8) != first)
        let waits = zip(first.dropFirst(), first).map { $0 - $1 }
        for (wait, base) in zip(waits, [1.0, 2, 4]) { #expect(wait >= base && wait <= base * 1.5, "\(wait) for \(base)") }
    }

    @Test func anUnreadableBodyIsRetried() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [SyncFixture.tenant(investigations: 3)],
                                faults: [FaultRule(path: "/idr/v2/investigations", effect: .truncatedBody, count: 1),
                                         FaultRule(path: "/idr/v2/investigations", effect: .malformedJSON, count: 1, after: 1)], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock)
        #expect(try await client.sync().investigations == 3)
        #expect(emulator.journal.ordered.filter { $0.path == "/idr/v2/investigations" }.map(\.elapsed) == [0, 1, 3])
    }

    @Test func aResetConnectionIsRetried() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [SyncFixture.tenant(investigations: 3)], faults: [FaultRule(path: "/validate", effect: .reset, count: 2)], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock)
        _ = try await client.validate()
        #expect(emulator.journal.ordered.map(\.status) == [0, 0, 200])
    }
}
