import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Testing

enum TriggerFixture {
    static let workflow = "5e2b1c4d-6a7f-4b8c-9d0e-1f2a3b4c5d6e"
    static let inactive = "6f3c2d5e-7b8a-4c9d-8e1f-2a3b4c5d6e7f"

    static func tenant(_ region: Region = .us3) -> Tenant {
        var tenant = ClientFixture.tenant(region)
        tenant.workflows = [Workflow(id: workflow, name: "Notify"), Workflow(id: inactive, name: "Old", active: false)]
        return tenant
    }

    static func url(_ region: Region = .us3, _ id: String = workflow, async: Bool = false) -> String {
        async ? "https://\(region.platformHost)/connect/v1/execute/async/workflows/\(id)"
              : "https://\(region.platformHost)/connect/v1/workflows/\(id)/events/execute"
    }

    static func notifier(_ emulator: Emulator, clock: VirtualClock, url: String = url(), key: String = ClientFixture.key,
                         capacity: Int = 1_000, whileDisabled: WhileDisabled = .drop, counting: DisableCounting = .notifications) -> Notifier
    {
        Notifier(settings: TriggerSettings(url: url, apiKey: key), transport: emulator, clock: clock, queueCapacity: capacity,
                 whileDisabled: whileDisabled, counting: counting)
    }

    static let triggerPath = "/connect/v1/workflows/\(workflow)/events/execute"
}

@Suite struct TriggerURLCheckTests {
    @Test(arguments: [
        ("https://us.api.insight.rapid7.com/connect/v1/workflows/abc-123/events/execute", Region.us, TriggerEndpoint.Style.legacy),
        ("https://us2.api.insight.rapid7.com/connect/v1/workflows/abc-123/events/execute", .us2, .legacy),
        ("https://us3.api.insight.rapid7.com/connect/v1/execute/async/workflows/abc-123", .us3, .async),
        ("https://aps2.api.insight.rapid7.com/connect/v1/execute/async/workflows/abc-123", .aps2, .async),
        ("https://me1.api.insight.rapid7.com/connect/v2/workflows/abc-123/events/execute", .me1, .legacy),
    ])
    func everyRegionAndBothStylesPass(url: String, region: Region, style: TriggerEndpoint.Style) throws {
        let endpoint = try SettingsCheck.triggerURL(url).get()
        #expect(endpoint.region == region)
        #expect(endpoint.style == style)
        #expect(endpoint.workflowID == "abc-123")
        #expect(endpoint.url == url)
    }

    @Test(arguments: [
        ("", "The API URL is empty."),
        ("http://us.api.insight.rapid7.com/connect/v1/workflows/abc/events/execute", "The API URL uses http://; triggers are served over https only."),
        ("https://us4.api.insight.rapid7.com/connect/v1/workflows/abc/events/execute", "us4.api.insight.rapid7.com is not a Rapid7 platform API host."),
        ("https://us.rest.logs.insight.rapid7.com/connect/v1/workflows/abc/events/execute", "us.rest.logs.insight.rapid7.com is not a Rapid7 platform API host."),
        ("https://us.api.insight.rapid7.com/connect/v1/workflows/abc", "The API URL is incomplete: it has no workflow id and action."),
        ("https://us.api.insight.rapid7.com/connect/v1/execute/async/workflows", "The API URL is incomplete: it has no workflow id and action."),
        ("https://us.api.insight.rapid7.com/validate", "The API URL is not an InsightConnect API trigger URL."),
        ("https://us.api.insight.rapid7.com/connect/v1/workflows/abc/events/execute?x=1", "The API URL carries a query or fragment."),
    ])
    func badURLsAreIncorrectParameters(url: String, summary: String) {
        guard case .failure(let diagnosis) = SettingsCheck.triggerURL(url) else {
            Issue.record("\(url) passed")
            return
        }
        #expect(diagnosis.category == .incorrectIntegrationParameters)
        #expect(diagnosis.summary == summary)
    }
}

@Suite struct ResendScheduleTests {
    /// seeds/003: 1, 3, 5, 10, 10 s; 0, 1, 3, 5, 30 s; 1, 1, 3, 5, 10, 30 min — to the second.
    static let times: [Double] = [0, 1, 4, 9, 19, 29, 29, 30, 33, 38, 68, 128, 188, 368, 668, 1268, 3068]

    @Test func aFailingTriggerIsResentOnExactlyTheSeedsSchedule() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant()], faults: [FaultRule(path: TriggerFixture.triggerPath, status: 503, count: 100)], clock: clock)
        let notifier = TriggerFixture.notifier(emulator, clock: clock)
        #expect(await notifier.enqueue(["title": "hit"]) == .queued(id: 1))
        let report = await notifier.deliver()
        #expect(emulator.journal.ordered.map(\.elapsed) == Self.times)
        #expect(report.undelivered.map(\.attempts) == [17])
        #expect(report.undelivered.first?.diagnosis.category == .serviceUnavailable)
        #expect(report.delivered.isEmpty)
        #expect(await notifier.queue.isEmpty, "reported, not kept forever")
    }

    @Test func deliveryStopsAtTheFirst2xx() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant()], faults: [FaultRule(path: TriggerFixture.triggerPath, status: 500, count: 7)], clock: clock)
        let notifier = TriggerFixture.notifier(emulator, clock: clock)
        _ = await notifier.enqueue(["title": "hit"])
        let report = await notifier.deliver()
        #expect(report.delivered.map(\.attempts) == [8])
        #expect(emulator.journal.ordered.map(\.elapsed) == Array(Self.times.prefix(8)))
        #expect(emulator.deliveries.map(\.body) == [#"{"events":[{"title":"hit"}]}"#])
    }

    @Test func anyNon2xxIsResentIncluding4xx() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant()], clock: clock)
        let notifier = TriggerFixture.notifier(emulator, clock: clock, url: TriggerFixture.url(.us3, TriggerFixture.inactive))
        _ = await notifier.enqueue(["title": "hit"])
        let report = await notifier.deliver()
        #expect(emulator.journal.ordered.count == 17)
        let diagnosis = try #require(report.undelivered.first?.diagnosis)
        #expect(diagnosis.category == .incorrectIntegrationParameters)
        #expect(diagnosis.topCause?.text == Cause.workflowInactive)
    }

    @Test func noEventIsLostWhileRetryingAndOrderIsKept() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant()], faults: [FaultRule(path: TriggerFixture.triggerPath, status: 502, count: 3)], clock: clock)
        let notifier = TriggerFixture.notifier(emulator, clock: clock)
        for n in 1...3 { _ = await notifier.enqueue(["n": .int(Int64(n))]) }
        let report = await notifier.deliver()
        #expect(report.delivered.map(\.id) == [1, 2, 3])
        #expect(emulator.deliveries.map(\.body) == [#"{"events":[{"n":1}]}"#, #"{"events":[{"n":2}]}"#, #"{"events":[{"n":3}]}"#])
    }

    @Test func theQueueIsBoundedAndOverflowIsReported() async throws {
        let clock = VirtualClock()
        let notifier = TriggerFixture.notifier(Emulator(tenants: [TriggerFixture.tenant()], clock: clock), clock: clock, capacity: 2)
        let results = [await notifier.enqueue(["n": 1]), await notifier.enqueue(["n": 2]), await notifier.enqueue(["n": 3]), await notifier.enqueue(["n": 4])]
        #expect(results == [.queued(id: 1), .queued(id: 2), .overflow(queued: 2), .overflow(queued: 2)])
        #expect(await notifier.overflowed == 2)
    }
}

@Suite struct AutoDisableTests {
    /// Runs notifications in order; `true` delivers, `false` fails its whole schedule.
    func run(_ batches: [[Bool]], gapBetweenBatches: Double, whileDisabled: WhileDisabled = .drop) async -> (Notifier, [DeliveryReport], Emulator) {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant()], clock: clock)
        let notifier = TriggerFixture.notifier(emulator, clock: clock, whileDisabled: whileDisabled)
        var reports: [DeliveryReport] = []
        for (index, batch) in batches.enumerated() {
            if index > 0 { clock.advance(seconds: gapBetweenBatches) }
            for succeeds in batch {
                // Make the next notification fail through its whole schedule, or pass at once.
                if !succeeds { emulator.addFault(FaultRule(path: TriggerFixture.triggerPath, status: 500, count: 17)) }
                _ = await notifier.enqueue(["ok": .bool(succeeds)])
                reports.append(await notifier.deliver())
            }
        }
        return (notifier, reports, emulator)
    }

    @Test func sixtyPercentDisablesAndTheNoticeSaysSo() async throws {
        let (notifier, reports, _) = await run([[true, false, true, false, false]], gapBetweenBatches: 0)
        #expect(await notifier.state == .disabled)
        #expect(reports.last?.disabled?.category == .integrationDisabled)
        let notices = await notifier.systemNotices
        #expect(notices == ["The InsightConnect integration was automatically disabled: 3 of 5 notifications (60%) were unsuccessful in the last 12 hours. Its settings are kept; re-enable it after fixing the cause."])
    }

    /// Counting every send: a trigger that fails 3 times then recovers reaches 3 of 5 at the
    /// second notification's send and disables, the third notification not sent.
    @Test func countingAttemptsDisablesOnResends() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant()], clock: clock)
        emulator.addFault(FaultRule(path: TriggerFixture.triggerPath, status: 503, count: 3))
        let notifier = TriggerFixture.notifier(emulator, clock: clock, counting: .attempts)
        for number in 1...3 { _ = await notifier.enqueue(["n": .string("\(number)")]) }
        let report = await notifier.deliver()
        #expect(report.delivered.map(\.attempts) == [4, 1])
        #expect(report.notSent == 1)
        #expect(report.disabled?.summary.hasPrefix("The InsightConnect integration was automatically disabled: 3 of 5 requests (sends and resends) (60%)") == true)
        // Counted as notifications, the same answers disable nothing.
        let calm = VirtualClock()
        let other = Emulator(tenants: [TriggerFixture.tenant()], clock: calm)
        other.addFault(FaultRule(path: TriggerFixture.triggerPath, status: 503, count: 3))
        let byNotification = TriggerFixture.notifier(other, clock: calm)
        for number in 1...3 { _ = await byNotification.enqueue(["n": .string("\(number)")]) }
        #expect(await byNotification.deliver().delivered.count == 3)
        #expect(await byNotification.state == .enabled)
    }

    @Test func justUnderSixtyPercentDoesNot() async throws {
        // 4 of 7 = 57%: enabled.
        let (notifier, reports, _) = await run([[true, false, true, false, true, false, false]], gapBetweenBatches: 0)
        #expect(await notifier.state == .enabled)
        #expect(reports.allSatisfy { $0.disabled == nil })
    }

    // Three failures give up at +3068, +6136 and +9204 s; two deliveries follow after a gap G.
    // The first failure leaves the 12-hour window when 6136 + G ≥ 43200, i.e. G ≥ 37064 s.

    @Test func failuresJustInside12HoursCount() async throws {
        // G = 37063: 3 failures of 5 in the window (60%).
        let (notifier, _, _) = await run([[false, false, false], [true, true]], gapBetweenBatches: 37_063)
        #expect(await notifier.state == .disabled)
    }

    @Test func failures12HoursOldDoNot() async throws {
        // G = 37064: the first failure is 12 h old; 2 of 4 remain, under the 5-request minimum.
        let (notifier, _, _) = await run([[false, false, false], [true, true]], gapBetweenBatches: 37_064)
        #expect(await notifier.state == .enabled)
    }

    @Test func disabledKeepsSettingsAndDropsWhatArisesMeanwhile() async throws {
        let (notifier, _, emulator) = await run([[false, false, false, false, false]], gapBetweenBatches: 0)
        #expect(await notifier.state == .disabled)
        #expect(await notifier.enqueue(["while": true]) == .notSent)
        let idle = await notifier.deliver()
        #expect(idle.stillQueued == 0 && idle.delivered.isEmpty)
        #expect(await notifier.notSentWhileDisabled == 1)
        #expect(await notifier.disabledDiagnosis(notSent: 1).topCause?.text == Cause.failuresReachedThreshold, "the rule disabled it, not a user")
        #expect(await notifier.settings?.url == TriggerFixture.url())
        await notifier.enable()
        #expect(await notifier.systemNotices.last == "The InsightConnect integration was enabled again with its settings kept; the 1 event(s) not sent while it was disabled will not be sent later.")
        _ = await notifier.enqueue(["after": true])
        let resumed = await notifier.deliver()
        #expect(resumed.delivered.count == 1)
        #expect(emulator.deliveries.count == 1 && emulator.deliveries.last?.body == #"{"events":[{"after":true}]}"#)
        await notifier.delete()
        #expect(await notifier.settings == nil)
        #expect(await notifier.enqueue(["x": 1]) == .deleted)
        #expect(await notifier.refusedAfterDelete == 1)
        guard case .failure(let failure) = await notifier.sendTest() else { Issue.record("a deleted integration sent a test"); return }
        #expect(failure.diagnosis.category == .integrationDeleted)
    }

    @Test func disabledWithQueueHoldsWhatArisesAndSendsItOnEnable() async throws {
        let (notifier, _, emulator) = await run([[false, false, false, false, false]], gapBetweenBatches: 0, whileDisabled: .queue)
        #expect(await notifier.state == .disabled)
        _ = await notifier.enqueue(["after": true])
        let idle = await notifier.deliver()
        #expect(idle.stillQueued == 1, "nothing sent while disabled, nothing lost")
        await notifier.enable()
        let resumed = await notifier.deliver()
        #expect(resumed.delivered.count == 1)
        #expect(emulator.deliveries.last?.body == #"{"events":[{"after":true}]}"#)
        await notifier.delete()
        #expect(await notifier.settings == nil)
        #expect(await notifier.enqueue(["x": 1]) == .deleted)
    }
}

@Suite struct TestMessageTests {
    @Test func theTestMessageCarriesThePrefixAndArrives() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant()], clock: clock)
        let notifier = TriggerFixture.notifier(emulator, clock: clock, url: TriggerFixture.url(async: true))
        let result = await notifier.sendTest(name: "Acme WAF")
        #expect((try? result.get()) != nil)
        let body = try #require(emulator.deliveries.first?.body)
        #expect(body.contains("[Test message] Acme WAF: test notification"))
        #expect(emulator.deliveries.first?.style == "async")
    }

    @Test func aTriggerURLForAnotherRegionNamesTheRightOne() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant(.us3)], clock: clock)
        let notifier = TriggerFixture.notifier(emulator, clock: clock, url: TriggerFixture.url(.us))
        guard case .failure(let failure) = await notifier.sendTest() else { Issue.record("expected a failure"); return }
        #expect(failure.diagnosis.category == .incorrectIntegrationParameters)
        #expect(failure.diagnosis.summary == "The API key belongs to region us3, but the API URL points at us.")
        #expect(failure.diagnosis.remedies.first == "Use the API URL of the workflow in us3: \(TriggerFixture.url(.us3))")
        #expect(emulator.deliveries.isEmpty, "probing never posts to another region's trigger")
        #expect(!failure.diagnosis.description.contains(ClientFixture.key))
    }

    @Test func aRevokedKeyIsNamed() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant()], timeline: [TimelineEvent(at: 0, .setKeyStatus(key: "main", .revoked))], clock: clock)
        let notifier = TriggerFixture.notifier(emulator, clock: clock)
        guard case .failure(let failure) = await notifier.sendTest() else { Issue.record("expected a failure"); return }
        #expect(failure.diagnosis.topCause?.text == Cause.triggerKeyRejected)
    }

    @Test func badSettingsFailBeforeAnyRequest() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [TriggerFixture.tenant()], clock: clock)
        let notifier = TriggerFixture.notifier(emulator, clock: clock, url: "http://us3.api.insight.rapid7.com/x")
        guard case .failure(let failure) = await notifier.sendTest() else { Issue.record("expected a failure"); return }
        #expect(failure.diagnosis.category == .incorrectIntegrationParameters)
        #expect(emulator.journal.ordered.isEmpty)
    }
}
