import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Logging
import Testing

@Suite struct RegionProbingTests {
    @Test func aKeyFromAnotherRegionIsFoundByProbing() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [ClientFixture.tenant(.eu)], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us.api.insight.rapid7.com", clock: clock)
        let failure = await #expect(throws: ClientError.self) { try await client.validate() }
        let diagnosis = try #require(failure?.diagnosis)
        #expect(diagnosis.category == .wrongRegionalURL)
        #expect(diagnosis.remedies.first == "Set URL to https://eu.api.insight.rapid7.com")
        #expect(diagnosis.topCause == RankedCause(Cause.incorrectRegionalEndpoint, .confirmed, because: "key validates on eu"))
        // us (401), then probes in the seed's order until eu answers: us2, us3, eu.
        #expect(emulator.journal.ordered.map(\.host) == [
            "us.api.insight.rapid7.com", "us2.api.insight.rapid7.com", "us3.api.insight.rapid7.com", "eu.api.insight.rapid7.com",
        ])
    }

    @Test func aKeyNoRegionKnowsIsAnAuthenticationFailure() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [ClientFixture.tenant(.us)], clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us.api.insight.rapid7.com", clock: clock,
                                          token: "0f1e2d3c-4b5a-4978-8877-665544332211")
        let failure = await #expect(throws: ClientError.self) { try await client.validate() }
        #expect(failure?.diagnosis.category == .authenticationFailed)
        #expect(failure?.diagnosis.causes.last == RankedCause(Cause.wrongRegionalURL, .ruledOut, because: "no region accepts the key"))
        #expect(emulator.journal.ordered.count == 9)
    }

    @Test func anUnresolvableHostIsAWrongURL() async throws {
        let client = ClientFixture.client(
            FailingTransport(error: CoreError.transport(.nameResolution, host: "us.api.insight.rapid7.com")),
            url: "https://us.api.insight.rapid7.com", clock: VirtualClock())
        let failure = await #expect(throws: ClientError.self) { try await client.validate() }
        #expect(failure?.diagnosis.category == .wrongRegionalURL)
        #expect(failure?.diagnosis.summary == "The host us.api.insight.rapid7.com does not resolve.")
    }
}

@Suite struct RetryTests {
    func run(faults: [FaultRule], retry: RetryPolicy = RetryPolicy()) async -> (Result<Validation, ClientError>, [Double], VirtualClock) {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [ClientFixture.tenant(.us2)], faults: faults, clock: clock)
        let client = ClientFixture.client(emulator, url: "https://us2.api.insight.rapid7.com", clock: clock, retry: retry)
        let result: Result<Validation, ClientError>
        do { result = .success(try await client.validate()) } catch { result = .failure(error) }
        return (result, emulator.journal.ordered.map(\.elapsed), clock)
    }

    @Test func retryAfterIsHonouredToTheSecond() async throws {
        let (result, times, _) = await run(faults: [FaultRule(path: "/validate", status: 429, count: 2, retryAfter: 45)])
        #expect(try result.get().region == .us2)
        #expect(times == [0, 45, 90])
    }

    @Test func withoutRetryAfterTheResetHeaderIsUsed() async throws {
        // A 503 carries Retry-After only when set; the 429 fault always does, so check the header parse directly.
        let response = HTTPResponse(status: 429, headers: ["X-RateLimit-Reset": "120"])
        let clock = VirtualClock()
        let transport = ScriptedTransport([response, HTTPResponse.json(200, ["message": "Authorized"])])
        let client = ClientFixture.client(transport, url: "https://us2.api.insight.rapid7.com", clock: clock)
        _ = try await client.validate()
        #expect(clock.elapsed == 120)
    }

    @Test func attemptsAreBoundedAndTheDiagnosisSaysRateLimited() async throws {
        let (result, times, _) = await run(faults: [FaultRule(status: 429, count: 100, retryAfter: 10)], retry: RetryPolicy(maxAttempts: 3))
        guard case .failure(let failure) = result else { Issue.record("expected a failure"); return }
        #expect(failure.diagnosis.category == .rateLimited)
        #expect(failure.diagnosis.summary == "The platform kept answering 429 rate limit exceeded (Retry-After 10 s).")
        #expect(times == [0, 10, 20])
    }

    @Test func aRetryAfterLongerThanTheCapIsNotWaitedOut() async throws {
        let (result, times, clock) = await run(faults: [FaultRule(status: 429, count: 5, retryAfter: 3600)],
                                               retry: RetryPolicy(maxRetryAfter: 900))
        guard case .failure(let failure) = result else { Issue.record("expected a failure"); return }
        #expect(failure.diagnosis.category == .rateLimited)
        #expect(times == [0])
        #expect(clock.elapsed == 0)
    }

    @Test func serverErrorsBackOffExponentially() async throws {
        let (result, times, _) = await run(faults: [FaultRule(status: 503, count: 3)], retry: RetryPolicy(maxAttempts: 4, baseBackoff: 2))
        #expect(try result.get().region == .us2)
        #expect(times == [0, 2, 6, 14])
    }

    @Test func persistentServerErrorsAreServiceUnavailable() async throws {
        let (result, times, _) = await run(faults: [FaultRule(status: 502, count: 10)], retry: RetryPolicy(maxAttempts: 2))
        guard case .failure(let failure) = result else { Issue.record("expected a failure"); return }
        #expect(failure.diagnosis.category == .serviceUnavailable)
        #expect(failure.diagnosis.summary == "The platform answered 502 on every attempt.")
        #expect(times == [0, 1])
    }
}

@Suite struct SecretSafetyTests {
    /// Every failure path the client has, with the canary key: the key reaches no diagnosis and no log line.
    @Test func theTokenNeverAppearsInADiagnosisOrALog() async throws {
        let handler = CapturingLogHandler()
        let logger = Logger(label: "canary") { _ in handler }
        var texts: [String] = []
        let cases: [(Tenant, String, [FaultRule], String)] = [
            (ClientFixture.tenant(.eu), "https://us.api.insight.rapid7.com", [], ClientFixture.key),
            (ClientFixture.tenant(.us), "https://us.api.insight.rapid7.com", [], "  \(ClientFixture.key)"),
            (ClientFixture.tenant(.us, status: .suspended), "https://us.api.insight.rapid7.com", [], ClientFixture.key),
            (ClientFixture.tenant(.us, roles: []), "https://us.api.insight.rapid7.com", [], ClientFixture.key),
            (ClientFixture.tenant(.us), "https://us.api.insight.rapid7.com", [FaultRule(status: 429, count: 9)], ClientFixture.key),
            (ClientFixture.tenant(.us), "https://us.api.insight.rapid7.com/api/3", [], ClientFixture.key),
            (ClientFixture.tenant(.us), "https://us.api.insight.rapid7.com", [], String(ClientFixture.key.dropLast())),
        ]
        for (tenant, url, faults, token) in cases {
            let clock = VirtualClock()
            let emulator = Emulator(tenants: [tenant], faults: faults, clock: clock)
            let client = ClientFixture.client(
                emulator, url: url, clock: clock, token: token, retry: RetryPolicy(maxAttempts: 2),
                admin: AdminCheck(token: ClientFixture.orgKey, serviceUser: "svc@example.com"), logger: logger)
            do {
                _ = try await client.validate()
                let report = try await client.sync()
                texts.append(report.warning?.description ?? "")
            } catch {
                texts.append(error.diagnosis.description)
            }
        }
        #expect(texts.count == cases.count)
        #expect(texts.filter(\.isEmpty).isEmpty, "every case fails or warns")
        #expect(!handler.lines.isEmpty)
        for text in texts + handler.lines {
            #expect(!text.contains("c4a7c4a7-1111"), "\(text)")
            #expect(!text.contains("c4a7c4a7-2222"), "\(text)")
            #expect(!text.contains("svc@example.com"), "\(text)")
        }
    }
}

@Suite struct SecretSafetyOfTheOtherClientsTests {
    /// The audit puller's and the notifier's failure paths, with canary keys: no key, no email.
    @Test func noKeyOrEmailInAuditOrNotifierDiagnosesAndLogs() async throws {
        let handler = CapturingLogHandler()
        let logger = Logger(label: "canary") { _ in handler }
        var texts: [String] = []
        for (region, key) in [("us", ClientFixture.orgKey), ("us3", ClientFixture.key), ("mars", ClientFixture.orgKey)] {
            let clock = VirtualClock()
            let puller = AuditPuller(settings: AuditSettings(storageRegion: region, apiKey: key), transport: Emulator(tenants: [AuditFixture.tenant()], clock: clock),
                                     clock: clock, store: InMemoryCheckpointStore(), logger: logger)
            do { _ = try await puller.pull { _ in } } catch let failure as ClientError { texts.append(failure.diagnosis.description) }
        }
        for url in [TriggerFixture.url(.us), TriggerFixture.url(.us3, TriggerFixture.inactive), "http://x"] {
            let clock = VirtualClock()
            let emulator = Emulator(tenants: [TriggerFixture.tenant()], faults: [FaultRule(path: "/connect/", status: 500, count: 3)], clock: clock)
            let notifier = Notifier(settings: TriggerSettings(url: url, apiKey: ClientFixture.key), transport: emulator, clock: clock, logger: logger)
            if case .failure(let failure) = await notifier.sendTest() { texts.append(failure.diagnosis.description) }
            _ = await notifier.enqueue(["user": "svc@example.com"])
            let report = await notifier.deliver()
            texts += report.undelivered.map(\.diagnosis.description)
        }
        #expect(texts.count >= 6)
        for text in texts + handler.lines {
            #expect(!text.contains("c4a7c4a7-1111"), "\(text)")
            #expect(!text.contains("c4a7c4a7-2222"), "\(text)")
            #expect(!text.contains("svc@example.com"), "\(text)")
        }
    }
}

/// Answers requests from a fixed list, in order.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var responses: [HTTPResponse]
    init(_ responses: [HTTPResponse]) { self.responses = responses }
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { responses.isEmpty ? HTTPResponse(status: 599) : responses.removeFirst() }
    }
}
