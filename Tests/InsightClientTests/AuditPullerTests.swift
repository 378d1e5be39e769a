import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Testing

/// Collects what a sink receives; can stop (like a killed process) after a number of records.
final class CollectingSink: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [AuditRecord] = []
    let failAfter: Int?
    struct Killed: Error {}
    init(failAfter: Int? = nil) { self.failAfter = failAfter }
    var received: [AuditRecord] { lock.withLock { records } }
    func take(_ record: AuditRecord) throws {
        try lock.withLock {
            if let failAfter, records.count >= failAfter { throw Killed() }
            records.append(record)
        }
    }
}

enum AuditFixture {
    static let adminKey = "c4a7c4a7-3333-4333-8333-c4a7c4a7c4a7"

    /// A us3 tenant whose audit events span the day before and the day after the start.
    static func tenant(events: Int = 60, region: Region = .us3, queryPolls: Int = 1) -> Tenant {
        var tenant = ClientFixture.tenant(region)
        tenant.users.append(User(email: "admin@example.com", roles: ["Platform Admin"], products: ["InsightIDR"], platformAdmin: true))
        tenant.keys.append(APIKey(id: "admin", secret: adminKey, kind: .user, owner: "admin@example.com"))
        var generator = DataGenerator(seed: 5, label: "audit")
        let log = LogSource(id: "a0000000-0000-4000-8000-00000000a001", name: "Audit Log", logsetID: "a0000000-0000-4000-8000-00000000a002", logsetName: "Audit")
        tenant.auditLog = log
        tenant.auditEvents = generator.auditEvents(logID: log.id, count: events, users: tenant.users, organizationID: tenant.organizationID,
                                                   now: VirtualClock.defaultStart.addingTimeInterval(86_400), spreadDays: 2)
        tenant.queryPolls = queryPolls
        return tenant
    }

    static func puller(_ transport: any HTTPTransport, clock: VirtualClock, store: any CheckpointStore = InMemoryCheckpointStore(),
                       region: String = "United States - 3", key: String = ClientFixture.orgKey, perPage: Int = 500) -> AuditPuller
    {
        AuditPuller(settings: AuditSettings(storageRegion: region, apiKey: key), transport: transport, clock: clock, store: store, perPage: perPage)
    }
}

@Suite struct StorageRegionTests {
    @Test(arguments: [("us3", Region.us3), ("United States - 3", .us3), (" united  states-3 ", .us3), ("Europe", .eu), ("AP", .ap)])
    func namesAndCodes(text: String, region: Region) throws {
        #expect(try SettingsCheck.storageRegion(text).get() == region)
    }

    @Test func anUnknownRegionSaysWhereToCopyItFrom() {
        guard case .failure(let diagnosis) = SettingsCheck.storageRegion("United States - 4") else { Issue.record("passed"); return }
        #expect(diagnosis.summary == "'United States - 4' is not a Rapid7 storage region.")
        #expect(diagnosis.remedies.first == "Copy the Data Storage Region value from Settings → Audit Log (e.g. us3 or United States - 3)")
    }
}

@Suite struct AuditPullTests {
    @Test func everyRecordIsDecodedAgainstTheSchema() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [AuditFixture.tenant()], clock: clock)
        let sink = CollectingSink()
        let report = try await AuditFixture.puller(emulator, clock: clock).pull { try sink.take($0) }
        #expect(report.processed == 30, "the events up to now: half of them")
        #expect(report.rejected.isEmpty)
        let record = try #require(sink.received.first)
        #expect(!record.action.isEmpty && record.auditID.count == 36)
        #expect(record.eventTimestamp == record.time)
        #expect(record.time.unixMillis == record.logTimestamp)
        #expect(record.initiator?.customerID == record.customerID)
        #expect(record.serviceInfoType == "AUDIT")
        #expect(record.requestUserEmail != nil)
        #expect(sink.received.map(\.sequenceNumber) == sink.received.map(\.sequenceNumber).sorted())
        // 202 then a poll of the Self link.
        #expect(emulator.journal.ordered.map(\.status) == [200, 202, 200])
    }

    @Test func aLaterPullTakesOnlyWhatIsNew() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [AuditFixture.tenant()], clock: clock)
        let store = InMemoryCheckpointStore()
        let sink = CollectingSink()
        let first = try await AuditFixture.puller(emulator, clock: clock, store: store).pull { try sink.take($0) }
        let again = try await AuditFixture.puller(emulator, clock: clock, store: store).pull { try sink.take($0) }
        #expect(again.processed == 0)
        clock.advance(seconds: 86_400)
        let later = try await AuditFixture.puller(emulator, clock: clock, store: store).pull { try sink.take($0) }
        #expect(first.processed + later.processed == 60)
        let ids = sink.received.map(\.auditID)
        #expect(Set(ids).count == 60, "no duplicate")
        #expect(ids == (emulator.tenant(.us3)?.auditEvents ?? []).map { JSON(data: Data($0.message.utf8))?["audit_id"]?.stringValue ?? "" }, "no gap, in order")
    }

    @Test func aPullKilledMidwayResumesWithNoGapAndNoDuplicate() async throws {
        let clock = VirtualClock()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)").path
        let path = "\(folder)/checkpoint.json"
        // Small pages, a rate limit, a 5xx and a poll delayed past the 20 s expiry along the way.
        let emulator = Emulator(tenants: [AuditFixture.tenant(events: 80)], faults: [
            FaultRule(path: "/audit/logs", status: 429, count: 1, after: 2, retryAfter: 30),
            FaultRule(path: "/audit/query/", status: 503, count: 1, after: 1),
            FaultRule(path: "/audit/query/", status: 429, count: 1, after: 3, retryAfter: 25),
        ], clock: clock)
        clock.advance(seconds: 86_400)
        let sink = CollectingSink(failAfter: 23)
        await #expect(throws: CollectingSink.Killed.self) {
            _ = try await AuditFixture.puller(emulator, clock: clock, store: FileCheckpointStore(path: path), perPage: 10).pull { try sink.take($0) }
        }
        #expect(sink.received.count == 23)
        let saved = try #require(try FileCheckpointStore(path: path).load())
        #expect(saved.sequenceNumber == sink.received.last?.sequenceNumber)

        let resumed = CollectingSink()
        let report = try await AuditFixture.puller(emulator, clock: clock, store: FileCheckpointStore(path: path), perPage: 10).pull { try resumed.take($0) }
        #expect(report.processed == 57)
        let all = sink.received + resumed.received
        #expect(all.count == 80)
        #expect(Set(all.map(\.auditID)).count == 80)
        #expect(all.map(\.sequenceNumber) == (emulator.tenant(.us3)?.auditEvents ?? []).map(\.sequenceNumber))
        #expect(emulator.journal.ordered.contains { $0.status == 404 }, "an expired query was re-issued")
    }

    @Test func invalidRecordsAreReportedWithTheReasonNotDropped() async throws {
        let clock = VirtualClock()
        var tenant = AuditFixture.tenant(events: 3)
        let log = tenant.auditLog!.id
        let base = VirtualClock.defaultStart.unixMillis - 1000
        tenant.auditEvents += [
            LogSearchEvent(logID: log, timestamp: base, sequenceNumber: 9_000_000_000_000_000_001, message: "not json"),
            LogSearchEvent(logID: log, timestamp: base + 1, sequenceNumber: 9_000_000_000_000_000_002, message: #"{"audit_id":"x","time":"2026-01-01T00:00:00Z"}"#),
            LogSearchEvent(logID: log, timestamp: base + 2, sequenceNumber: 9_000_000_000_000_000_003, message: #"{"action":"A","audit_id":"x","time":"yesterday"}"#),
            LogSearchEvent(logID: log, timestamp: base + 3, sequenceNumber: 9_000_000_000_000_000_004, message: #"{"action":"A","audit_id":"x","time":"2026-01-01T00:00:00Z","service_info":{"event":{"timestamp":"soon"}}}"#),
        ]
        let emulator = Emulator(tenants: [tenant], clock: clock)
        let sink = CollectingSink()
        let report = try await AuditFixture.puller(emulator, clock: clock).pull { try sink.take($0) }
        #expect(report.rejected.map(\.reason) == [
            "message is not a JSON object", "missing required field action", "time 'yesterday' is not an RFC 3339 timestamp",
            "service_info.event.timestamp is not unix milliseconds",
        ])
        #expect(report.processed == sink.received.count)
        let second = try await AuditFixture.puller(emulator, clock: clock, store: InMemoryCheckpointStore(report.checkpoint)).pull { try sink.take($0) }
        #expect(second.rejected.isEmpty, "reported once, then passed")
    }

    @Test func aUserKeyWithoutAdminRightsIsNamed() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [AuditFixture.tenant()], clock: clock)
        let failure = await #expect(throws: ClientError.self) {
            _ = try await AuditFixture.puller(emulator, clock: clock, key: ClientFixture.key).pull { _ in }
        }
        #expect(failure?.diagnosis.category == .insufficientPermissions)
        #expect(failure?.diagnosis.topCause?.text == Cause.auditNeedsAdmin)
        let admin = try await AuditFixture.puller(emulator, clock: clock, key: AuditFixture.adminKey).pull { _ in }
        #expect(admin.processed == 30, "a Platform Admin's user key works")
    }

    @Test func auditLoggingOffIsNamed() async throws {
        var tenant = AuditFixture.tenant()
        tenant.auditLog = nil
        let clock = VirtualClock()
        let failure = await #expect(throws: ClientError.self) {
            _ = try await AuditFixture.puller(Emulator(tenants: [tenant], clock: clock), clock: clock).pull { _ in }
        }
        #expect(failure?.diagnosis.category == .auditLoggingNotEnabled)
        #expect(failure?.diagnosis.remedies.first == "Enable audit logging in Rapid7 (Settings → Audit Log)")
    }

    @Test func aStorageRegionThatIsNotTheKeysIsNamed() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [AuditFixture.tenant(region: .us3)], clock: clock)
        let failure = await #expect(throws: ClientError.self) {
            _ = try await AuditFixture.puller(emulator, clock: clock, region: "us").pull { _ in }
        }
        #expect(failure?.diagnosis.summary == "The API key belongs to region us3, but the storage region is us.")
        #expect(failure?.diagnosis.remedies.first == "Set the storage region to us3 (United States 3), the Data Storage Region of Settings → Audit Log")
    }

    @Test func noEventsFor24HoursRaisesTheAlertAndNotBefore() async throws {
        let clock = VirtualClock()
        // Answered at once (no polls), so the only time that passes is the test's own.
        let emulator = Emulator(tenants: [AuditFixture.tenant(events: 0, queryPolls: 0)], clock: clock)
        let store = InMemoryCheckpointStore()
        let first = try await AuditFixture.puller(emulator, clock: clock, store: store).pull { _ in }
        #expect(first.alert == nil)
        clock.advance(seconds: 24 * 3600 - 1)
        #expect(try await AuditFixture.puller(emulator, clock: clock, store: store).pull { _ in }.alert == nil)
        clock.advance(seconds: 1)
        let alert = try #require(try await AuditFixture.puller(emulator, clock: clock, store: store).pull { _ in }.alert)
        #expect(alert.category == .noDataSyncing)
        #expect(alert.summary == "No audit events were processed for 24 h (alert after 24 h).")
    }

    @Test func aCorruptCheckpointFileNamesItsPath() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json").path
        try "{not a checkpoint".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: ClientError.self) { try FileCheckpointStore(path: path).load() }
        #expect(error?.problem.hasPrefix("\(path): the checkpoint file is not a checkpoint") == true)
        #expect(error?.remedy.hasPrefix("move it aside to start over") == true)
        // A puller that meets it says the same, as an audit-pull diagnosis.
        #expect(error?.diagnosis.remedies.first == error?.remedy)
    }
}
