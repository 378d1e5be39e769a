import Foundation
import InsightCore
import InsightEmulator
import Testing

@Suite struct ConnectTests {
    let clock = VirtualClock()
    var emulator: Emulator { Emulator(tenants: [Fixture.rich()], clock: clock) }

    @Test func legacyAnswers200AndAsyncAnswers202AndBothAreKept() async throws {
        let emulator = self.emulator
        let legacy = try await emulator.handle(Fixture.json("POST", "/connect/v1/workflows/\(Fixture.workflowID)/events/execute",
                                                            ["events": [["title": "[Test message] hello"]]]))
        #expect(legacy.status == 200)
        #expect(legacy.json?["job_id"]?.stringValue?.count == 36)
        clock.advance(seconds: 3)
        let async = try await emulator.handle(Fixture.json("POST", "/connect/v1/execute/async/workflows/\(Fixture.workflowID)", ["n": 2]))
        #expect(async.status == 202)
        let deliveries = emulator.deliveries
        #expect(deliveries.map(\.style) == ["legacy", "async"])
        #expect(deliveries.map { $0.time.timeIntervalSince(emulator.epoch) } == [0, 3])
        #expect(deliveries[0].body == #"{"events":[{"title":"[Test message] hello"}]}"#)
        #expect(deliveries.allSatisfy { $0.keyID == "analyst" })
    }

    @Test func aWorkflowThatNeedsNoKeyTakesNone() async throws {
        let emulator = self.emulator
        let response = try await emulator.handle(Fixture.json("POST", "/connect/v1/workflows/\(Fixture.openWorkflowID)/events/execute", [:], key: nil))
        #expect(response.status == 200)
        #expect(emulator.deliveries.first?.keyID == nil)
    }

    @Test func errorsUseTheInsightConnectShape() async throws {
        let emulator = self.emulator
        let noKey = try await emulator.handle(Fixture.json("POST", "/connect/v1/workflows/\(Fixture.workflowID)/events/execute", [:], key: nil))
        #expect(noKey.status == 401)
        #expect(noKey.json?["error"]?["message"] == "Unauthorized")
        #expect(noKey.json?["error"]?["requestId"]?.stringValue?.count == 36)
        let inactive = try await emulator.handle(Fixture.json("POST", "/connect/v1/workflows/\(Fixture.inactiveWorkflowID)/events/execute", [:]))
        #expect(inactive.status == 400)
        #expect(inactive.json?["error"]?["message"] == .string("Workflow \(Fixture.inactiveWorkflowID) is not active"))
        let unknown = try await emulator.handle(Fixture.json("POST", "/connect/v1/execute/async/workflows/00000000-0000-4000-8000-000000000000", [:]))
        #expect(unknown.status == 404)
        #expect(unknown.json?["error"]?["message"] == "Workflow not found")
        var garbage = Fixture.request("POST", path: "/connect/v1/workflows/\(Fixture.workflowID)/events/execute")
        garbage.body = Data("not json".utf8)
        let bad = try await emulator.handle(garbage)
        #expect(bad.status == 400)
        #expect(emulator.deliveries.isEmpty, "nothing delivered on an error")
    }

    @Test func aTriggerURLOfAnotherRegionIsNotFound() async throws {
        let response = try await emulator.handle(Fixture.json("POST", "/connect/v1/workflows/\(Fixture.workflowID)/events/execute", [:],
                                                              host: "us3.api.insight.rapid7.com"))
        #expect(response.status == 404)
    }

    @Test func workflowsAreListedWithTheirState() async throws {
        let response = try await emulator.handle(Fixture.request(path: "/connect/v2/workflows", key: Fixture.adminKey))
        #expect(response.json?["data"]?["meta"] == ["limit": 30, "offset": 0, "total": 3])
        #expect(response.json?["data"]?["workflows"]?.arrayValue?.map { $0["state"] } == ["active", "active", "inactive"])
        #expect(try await emulator.handle(Fixture.request(path: "/connect/v2/workflows")).status == 403)
    }
}

@Suite struct RateLimitTests {
    @Test func everyAnswerCountsDownAndTheQuotaGives429UntilTheWindowResets() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [Fixture.rich(queryPolls: 0)], rateLimits: [.logSearchManagement: RateLimit(limit: 3, window: 900)], clock: clock)
        var remaining: [String?] = []
        for _ in 0..<3 {
            remaining.append(try await emulator.handle(Fixture.request(path: "/log_search/management/logs")).headers["X-RateLimit-Remaining"])
        }
        #expect(remaining == ["2", "1", "0"])
        clock.advance(seconds: 100)
        let limited = try await emulator.handle(Fixture.request(path: "/log_search/management/logs"))
        #expect(limited.status == 429)
        #expect(limited.bodyText == "API rate limit exceeded")
        #expect(limited.headers["X-RateLimit-Limit"] == "3")
        #expect(limited.headers["X-RateLimit-Remaining"] == "0")
        #expect(limited.headers["X-RateLimit-Reset"] == "800")
        #expect(limited.headers["Retry-After"] == "800")
        // Other families and other keys have their own quotas.
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v2/investigations")).status == 200)
        #expect(try await emulator.handle(Fixture.request(path: "/log_search/management/logs", key: Fixture.orgKey)).status == 200)
        clock.advance(seconds: 800)
        let reset = try await emulator.handle(Fixture.request(path: "/log_search/management/logs"))
        #expect(reset.status == 200)
        #expect(reset.headers["X-RateLimit-Remaining"] == "2")
    }

    @Test func theDocumentedLogSearchQuotasAreTheDefaultsAndThePlatformHasNone() async throws {
        #expect(EndpointFamily.logSearchQuery.defaultLimit == 1_500)
        #expect(EndpointFamily.logSearchPolling.defaultLimit == 10_000)
        #expect(EndpointFamily.logSearchManagement.defaultLimit == 1_500)
        #expect(EndpointFamily.idr.defaultLimit == nil)
        let emulator = Emulator(tenants: [Fixture.rich()], clock: VirtualClock())
        let idr = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations"))
        #expect(idr.headers["X-RateLimit-Remaining"] == nil, "no published platform limits, so no header")
        let logs = try await emulator.handle(Fixture.request(path: "/log_search/management/logs"))
        #expect(logs.headers["X-RateLimit-Remaining"] == "1499")
    }

    @Test func aScenarioCanLimitAPlatformFamily() async throws {
        let emulator = Emulator(tenants: [Fixture.rich()], rateLimits: [.idr: RateLimit(limit: 1, window: 60)], clock: VirtualClock())
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v2/investigations")).headers["X-RateLimit-Remaining"] == "0")
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v2/investigations")).status == 429)
    }
}

@Suite struct RicherFaultTests {
    @Test func latencyWaitsOnTheVirtualClock() async throws {
        let clock = VirtualClock()
        let emulator = Emulator(tenants: [Fixture.tenant()], faults: [FaultRule(path: "/validate", effect: .latency(12.5), count: 1)], clock: clock)
        let response = try await emulator.handle(Fixture.request(path: "/validate"))
        #expect(response.status == 200)
        #expect(clock.elapsed == 12.5)
    }

    @Test func aResetIsATransportFailureAndIsJournalled() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], faults: [FaultRule(effect: .reset, count: 1)], clock: VirtualClock())
        await #expect(throws: CoreError.self) { _ = try await emulator.handle(Fixture.request(path: "/validate")) }
        #expect(emulator.journal.ordered.first?.reason == "fault reset")
        #expect(try await emulator.handle(Fixture.request(path: "/validate")).status == 200)
    }

    @Test func truncatedAndMalformedBodiesAreNotJSON() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant(investigations: 5)],
                                faults: [FaultRule(path: "/idr", effect: .truncatedBody, count: 1),
                                         FaultRule(path: "/idr", effect: .malformedJSON, count: 1, after: 1)], clock: VirtualClock())
        let cut = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations"))
        #expect(cut.status == 200)
        #expect(cut.json == nil)
        let malformed = try await emulator.handle(Fixture.request(path: "/idr/v2/investigations"))
        #expect(malformed.json == nil)
        #expect(try await emulator.handle(Fixture.request(path: "/idr/v2/investigations")).json != nil)
    }

    @Test func aProbabilityIsDeterministicForASeed() async throws {
        func statuses(seed: UInt64) async throws -> [Int] {
            let emulator = Emulator(tenants: [Fixture.tenant()], faults: [FaultRule(effect: .status(503, retryAfter: nil), count: 100, probability: 0.3)],
                                    clock: VirtualClock(), seed: seed)
            var result: [Int] = []
            for _ in 0..<40 { result.append(try await emulator.handle(Fixture.request(path: "/validate")).status) }
            return result
        }
        let first = try await statuses(seed: 42)
        #expect(try await statuses(seed: 42) == first)
        let failures = first.filter { $0 == 503 }.count
        #expect((5...20).contains(failures), "about 30% of 40, got \(failures)")
        #expect(try await statuses(seed: 43) != first)
    }

    @Test func aFaultAnswersWithTheStatusBodyAndHeadersItWasGiven() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], faults: [
            FaultRule(path: "/validate", effect: .answer(FaultAnswer(status: 302, headers: ["Location": "https://insight.rapid7.com/login"])), count: 1),
            FaultRule(path: "/validate", effect: .answer(FaultAnswer(status: 409, body: #"{"message":"conflict"}"#, headers: ["X-Request-Id": "r-1"])), count: 1, after: 1),
            FaultRule(path: "/validate", effect: .answer(FaultAnswer(status: 400)), count: 1, after: 2),
        ], clock: VirtualClock())
        let redirect = try await emulator.handle(Fixture.request(path: "/validate"))
        #expect(redirect.status == 302)
        #expect(redirect.headers["Location"] == "https://insight.rapid7.com/login")
        let conflict = try await emulator.handle(Fixture.request(path: "/validate"))
        #expect(conflict.status == 409)
        #expect(conflict.headers["X-Request-Id"] == "r-1")
        #expect(conflict.headers["Content-Type"] == "application/json")
        #expect(String(decoding: conflict.body, as: UTF8.self) == #"{"message":"conflict"}"#)
        // No body given: the platform's error shape for the status.
        let bad = try await emulator.handle(Fixture.request(path: "/validate"))
        #expect(bad.status == 400)
        #expect(bad.json?["message"] == "HTTP 400 Bad Request")
        // The rules spent, the platform answers.
        #expect(try await emulator.handle(Fixture.request(path: "/validate")).status == 200)
    }

    @Test func aFaultCanTargetAMethod() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], faults: [FaultRule(path: "/validate", method: "POST", effect: .status(500, retryAfter: nil), count: 5)],
                                clock: VirtualClock())
        #expect(try await emulator.handle(Fixture.request("GET", path: "/validate")).status == 200)
        #expect(try await emulator.handle(Fixture.request("POST", path: "/validate")).status == 500)
    }
}

@Suite struct AdminInputTests {
    @Test func actionsParseFromJSON() throws {
        #expect(try TimelineEvent.Action(json: ["revoke_key": "main"]) == .setKeyStatus(key: "main", .revoked))
        #expect(try TimelineEvent.Action(json: ["remove_role": ["user": "a@example.com", "role": "Log Search View Only"]])
                == .removeRole(email: "a@example.com", role: "Log Search View Only"))
        #expect(throws: EmulatorError.self) { try TimelineEvent.Action(json: ["explode": "x"]) }
        #expect(throws: EmulatorError.self) { try TimelineEvent.Action(json: ["remove_role": ["user": "a@example.com"]]) }
    }

    @Test func keyRotationKeepsTheOldKeyWorkingUntilRevoked() async throws {
        let emulator = Emulator(tenants: [Fixture.tenant()], clock: VirtualClock())
        let newKey = "99999999-aaaa-4bbb-8ccc-dddddddddddd"
        #expect(emulator.apply(try TimelineEvent.Action(json: ["create_key": ["id": "rotated", "kind": "user", "owner": "analyst@example.com", "secret": .string(newKey)]])))
        #expect(try await emulator.handle(Fixture.request(path: "/validate", key: newKey)).status == 200)
        #expect(try await emulator.handle(Fixture.request(path: "/validate")).status == 200)
        emulator.apply(.setKeyStatus(key: "analyst", .revoked))
        #expect(try await emulator.handle(Fixture.request(path: "/validate")).status == 401)
        #expect(try await emulator.handle(Fixture.request(path: "/validate", key: newKey)).status == 200)
        #expect(emulator.allTenants.first?.keys.filter { $0.id == "rotated" }.count == 1)
    }

    @Test func faultsParseFromJSON() throws {
        let rule = try FaultRule(json: ["path": "/validate", "status": 429, "count": 2, "retry_after": 30])
        #expect(rule == FaultRule(path: "/validate", status: 429, count: 2, retryAfter: 30))
        #expect(try FaultRule(json: ["latency": 2.5, "count": 1]).effect == .latency(2.5))
        #expect(throws: EmulatorError.self) { try FaultRule(json: ["latency": 2.5]) }
        #expect(throws: EmulatorError.self) { try FaultRule(json: ["status": 500, "reset": true]) }
        #expect(throws: EmulatorError.self) { try FaultRule(json: ["status": 500, "colour": "red"]) }
    }
}
