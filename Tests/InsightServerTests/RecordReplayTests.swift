import Foundation
import InsightClient
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import InsightEmulator
import InsightRecordings
import InsightServer
import Testing

@Suite struct RecordReplayTests {
    static let canary = "c4a7c4a7-5555-4555-8555-c4a7c4a7c4a7"
    static let orgCanary = "c4a7c4a7-6666-4666-8666-c4a7c4a7c4a7"
    static let email = "canary.person@customer.example"

    func tenant(key: String, orgKey: String, investigations: Int) -> Tenant {
        var generator = DataGenerator(seed: 4, label: "record")
        let org = "174e4f99-2ac7-4481-9301-4d24c34baf06"
        return Tenant(
            region: .us2, organizationID: org, organizationName: "Recorded",
            users: [User(email: Self.email, roles: ["Insight IDR Analyst", "Log Search View Only"], products: ["InsightIDR"])],
            keys: [APIKey(id: "main", secret: key, kind: .user, owner: Self.email), APIKey(id: "org", secret: orgKey, kind: .organization)],
            investigations: generator.investigations(count: investigations, region: .us2, organizationID: org, now: VirtualClock.defaultStart, spreadDays: 3))
    }

    func requests(key: String, orgKey: String) -> [HTTPRequest] {
        [HTTPRequest(method: "GET", host: "us2.api.insight.rapid7.com", path: "/validate", headers: ["X-Api-Key": key]),
         HTTPRequest(method: "GET", host: "us2.api.insight.rapid7.com", path: "/idr/v2/investigations",
                     query: [URLQueryItem(name: "size", value: "5")], headers: ["X-Api-Key": key]),
         HTTPRequest(method: "GET", host: "us2.api.insight.rapid7.com", path: "/account/api/1/users",
                     query: [URLQueryItem(name: "email", value: Self.email)], headers: ["X-Api-Key": orgKey])]
    }

    @Test func recordExportImportReplayRoundTripsAndTheCanaryIsNowhereOnDisk() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("record-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let upstream = Emulator(tenants: [tenant(key: Self.canary, orgKey: Self.orgCanary, investigations: 12)], clock: VirtualClock())
        let recorded: [HTTPResponse] = try await withServer(upstream) { server in
            let store = try SQLiteRecordingStore(path: "\(folder)/store.sqlite")
            let proxy = try await RecordingProxy.start(upstream: NetworkTransport(base: server.baseURL), upstreamDescription: server.baseURL,
                                                       store: store, name: "loop")
            let client = NetworkTransport(base: proxy.baseURL)
            var answers: [HTTPResponse] = []
            for request in requests(key: Self.canary, orgKey: Self.orgCanary) { answers.append(try await client.send(request)) }
            #expect(proxy.written == 3)
            #expect(proxy.refused.isEmpty)
            try await proxy.shutdown()
            let recording = try #require(try store.recording(named: "loop"))
            #expect(recording.provenance.region == "us2")
            #expect(recording.provenance.source == "proxy \(server.baseURL)")
            _ = try RecordingFile.export(recording, to: "\(folder)/Recordings")
            return answers
        }
        #expect(recorded.map(\.status) == [200, 200, 200])

        // Nothing secret on disk: database, WAL, exported text.
        for name in try FileManager.default.subpathsOfDirectory(atPath: folder) {
            guard let data = FileManager.default.contents(atPath: "\(folder)/\(name)") else { continue }
            for secret in [Self.canary, Self.orgCanary, Self.email] {
                #expect(data.range(of: Data(secret.utf8)) == nil, "\(secret) found in \(name)")
            }
        }

        // Import into a fresh store, replay from a tenant with other keys and no data.
        let imported = try RecordingFile.load("\(folder)/Recordings/loop.json")
        let fresh = InMemoryRecordingStore()
        try fresh.saveRecording(imported)
        let key = "0f1e2d3c-4b5a-4978-8877-665544332211", orgKey = "1f1e2d3c-4b5a-4978-8877-665544332211"
        let replayer = Emulator(tenants: [tenant(key: key, orgKey: orgKey, investigations: 0)], clock: VirtualClock())
        replayer.loadReplay(try #require(try fresh.recording(named: "loop")).exchanges)
        let replayedAnswers: [HTTPResponse] = try await withServer(replayer) { server in
            let client = NetworkTransport(base: server.baseURL)
            var answers: [HTTPResponse] = []
            for request in requests(key: key, orgKey: orgKey) { answers.append(try await client.send(request)) }
            return answers
        }
        #expect(replayedAnswers.map(\.status) == [200, 200, 200])
        #expect(replayedAnswers[0].body == recorded[0].body)
        #expect(replayedAnswers[1].json?["data"]?.arrayValue?.count == 5, "the recording's investigations, not the empty tenant's")
        #expect(replayedAnswers[1].body == recorded[1].body)
        #expect(replayedAnswers[2].json?.arrayValue?.first?["email"] == "person-1@example.invalid", "pseudonymized when recorded")
        #expect(replayer.replayMisses.isEmpty)
        #expect(replayer.unusedRecordedExchanges.isEmpty)
        // Auth still applies: an unknown key gets the documented 401, not the recording.
        let stranger = try await replayer.handle(HTTPRequest(method: "GET", host: "us2.api.insight.rapid7.com", path: "/validate",
                                                              headers: ["X-Api-Key": "2f1e2d3c-4b5a-4978-8877-665544332211"]))
        #expect(stranger.status == 401)
    }
}

@Suite struct ScenarioReplayTests {
    static let scenario = """
        name: replayed-validate
        provenance: test
        tenant:
          region: us3
          users:
            - { email: svc@example.com, roles: [Insight IDR Analyst, Log Search View Only], products: [InsightIDR] }
          keys:
            - { id: main, kind: user, owner: svc@example.com }
        recordings: [validate-429-then-200]
        client:
          url: https://us3.api.insight.rapid7.com
          token: { key: main }
        steps: [validate]
        expect:
          diagnosis: none
          request_times: [0, 30]
          statuses: [429, 200]
        """

    static let recording = Recording(
        name: "validate-429-then-200", provenance: Provenance(recordedAt: VirtualClock.defaultStart, region: "us3", source: "test", productVersion: nil),
        exchanges: [
            RecordedExchange(method: "GET", host: "us3.api.insight.rapid7.com", path: "/validate", query: [], requestHeaders: [], requestBody: "",
                             status: 429, responseHeaders: [.init("Retry-After", "30"), .init("Content-Type", "text/plain")],
                             responseBody: "API rate limit exceeded", durationMillis: 5, recordedAt: VirtualClock.defaultStart),
            RecordedExchange(method: "GET", host: "us3.api.insight.rapid7.com", path: "/validate", query: [], requestHeaders: [], requestBody: "",
                             status: 200, responseHeaders: [.init("Content-Type", "application/json")],
                             responseBody: #"{"message":"Authorized"}"#, durationMillis: 5, recordedAt: VirtualClock.defaultStart),
            RecordedExchange(method: "GET", host: "us3.api.insight.rapid7.com", path: "/idr/v2/investigations", query: [], requestHeaders: [],
                             requestBody: "", status: 200, responseHeaders: [], responseBody: #"{"data":[]}"#, durationMillis: 5,
                             recordedAt: VirtualClock.defaultStart),
        ])

    @Test func recordedAnswersDriveTheClientInOrder() async throws {
        let runner = ScenarioRunner(recordings: { $0 == Self.recording.name ? Self.recording : nil })
        let result = await runner.run(try ScenarioLoader.parse(Self.scenario, file: "replay.yaml"))
        #expect(result.passed, "\(result.failures)")
        #expect(result.unusedRecorded == ["GET us3.api.insight.rapid7.com/idr/v2/investigations"])
    }

    @Test func aMissFailsTheScenarioWithTheNearestRecordings() async throws {
        let text = Self.scenario.replacingOccurrences(of: "steps: [validate]", with: "steps: [validate, sync]")
            .replacingOccurrences(of: "  diagnosis: none\n  request_times: [0, 30]\n  statuses: [429, 200]", with: "  diagnosis: replay_miss")
        let runner = ScenarioRunner(recordings: { $0 == Self.recording.name ? Self.recording : nil })
        let result = await runner.run(try ScenarioLoader.parse(text, file: "replay.yaml"))
        #expect(!result.passed)
        // Said once (a miss is not retried: the recording will not answer otherwise) and not
        // blamed on the platform.
        #expect(result.failures.count == 1, "\(result.failures)")
        let miss = try #require(result.failures.first)
        #expect(miss.hasPrefix("request unmatched by the recordings: no recorded exchange matches GET us3.api.insight.rapid7.com/idr/v2/investigations?"))
        #expect(miss.contains("1. GET us3.api.insight.rapid7.com/idr/v2/investigations: query differs"))
        #expect(result.diagnosis?.category == .replayMiss)
        #expect(result.diagnosis?.summary.contains("not by Rapid7") == true)
        #expect(!(result.diagnosisText ?? "").contains("contact Rapid7 support"))
        // The same miss four times is one line with its count; alike near matches are one.
        #expect(ScenarioRunner.missLines(["a", "b", "a", "a"]) == ["request unmatched by the recordings (3 times): a", "request unmatched by the recordings: b"])
        let doubled = RecordedExchange(method: "GET", host: "us3.api.insight.rapid7.com", path: "/validate", query: [], requestHeaders: [], requestBody: "",
                                       status: 200, responseHeaders: [], responseBody: "{}", durationMillis: 1, recordedAt: VirtualClock.defaultStart)
        let matcher = ExchangeMatcher(exchanges: [doubled, doubled, doubled])
        #expect(matcher.nearest(HTTPRequest(method: "GET", host: "us3.api.insight.rapid7.com", path: "/validat")).count == 1)
    }

    @Test func aMissingRecordingIsNamed() async throws {
        let result = await ScenarioRunner().run(try ScenarioLoader.parse(Self.scenario, file: "replay.yaml"))
        #expect(result.failures.first == "recording 'validate-429-then-200' is not in the store; import it (insight-replay import FILE) or add Recordings/validate-429-then-200.json")
    }

    @Test func recordModeAllCapturesWhatTheEmulatorAnswered() async throws {
        let text = Self.scenario.replacingOccurrences(of: "recordings: [validate-429-then-200]\n", with: "")
            .replacingOccurrences(of: "  request_times: [0, 30]\n  statuses: [429, 200]", with: "  statuses: [200]")
        let result = await ScenarioRunner(recordMode: .all).run(try ScenarioLoader.parse(text, file: "replay.yaml"))
        #expect(result.passed, "\(result.failures)")
        #expect(result.captured.map(\.summary) == ["GET us3.api.insight.rapid7.com/validate"])
    }

    @Test func anUnknownRecordModeListsTheValidOnes() {
        let error = #expect(throws: EmulatorError.self) { try RecordMode.parse("sometimes") }
        #expect(error?.problem == "record mode 'sometimes' is not one of: none, missing, all")
        #expect(error?.remedy.hasPrefix("none replays") == true)
    }
}
