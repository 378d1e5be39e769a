import Foundation
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import Testing

/// A diagnosis made from a customer's recording alone must not claim what it never checked.
@Suite struct ReplayDiagnosisTests {
    /// The customer's capture: one 401 from /validate on us, nothing else.
    static let capture = Recording(
        name: "customer-401", provenance: Provenance(recordedAt: Date(timeIntervalSince1970: 0), region: "us", source: "test", productVersion: nil),
        exchanges: [RecordedExchange(
            method: "GET", host: "us.api.insight.rapid7.com", path: "/validate", query: [], requestHeaders: [], requestBody: "",
            status: 401, responseHeaders: [.init("Content-Type", "application/json")], responseBody: #"{"message":"Unauthorized"}"#,
            durationMillis: 120, recordedAt: Date(timeIntervalSince1970: 0))])

    static func scenario(recordedAuth: Bool) throws -> Scenario {
        try ScenarioLoader.parse("""
            name: replay-only-401
            provenance: test
            tenant:
              region: us
              users: [{ email: svc@example.com, roles: [Insight IDR Analyst, Log Search View Only], products: [InsightIDR] }]
              keys: [{ id: main, kind: user, owner: svc@example.com }]
            client: { url: https://us.api.insight.rapid7.com, token: { unknown: true } }
            recordings: [customer-401]
            \(recordedAuth ? "recorded_auth: true" : "")
            steps: [validate]
            expect: { diagnosis: authentication_failed }
            """, file: "replay.yaml")
    }

    @Test func unansweredRegionProbesAreNotCheckedNeverRuledOut() async throws {
        let runner = ScenarioRunner(recordings: { $0 == "customer-401" ? Self.capture : nil })
        let result = await runner.run(try Self.scenario(recordedAuth: true))
        let diagnosis = try #require(result.diagnosis)
        #expect(diagnosis.category == .authenticationFailed)
        let region = try #require(diagnosis.causes.first { $0.text == Cause.wrongRegionalURL })
        #expect(region.likelihood == .notChecked)
        #expect(!diagnosis.causes.contains { $0.likelihood == .ruledOut })
        #expect(diagnosis.summary.contains("8 other region(s) could not be checked"))
        #expect(diagnosis.evidence.contains { $0.hasPrefix("missing evidence: 8 region probe(s) got no real answer: us2 (501)") })
        #expect(result.diagnosisText?.contains("[not checked] Wrong regional API URL") == true)
        // The captured 401 answered: it is used, not reported as never used.
        #expect(result.unusedRecorded.isEmpty)
        #expect(result.journal.first?.status == 401)
    }

    /// Without recorded_auth the tenant's keys answer first: the key is unknown to the tenant, so
    /// the emulator's own 401 answers and the captured one goes unused.
    @Test func withoutRecordedAuthTheTenantAnswersAndThe401IsUnused() async throws {
        let runner = ScenarioRunner(recordings: { $0 == "customer-401" ? Self.capture : nil })
        var scenario = try Self.scenario(recordedAuth: false)
        scenario.expect.diagnosis = nil
        let result = await runner.run(scenario)
        #expect(result.journal.first?.status == 401)
        #expect(result.unusedRecorded.count == 1)
    }

    @Test func recordedAuthNeedsRecordings() {
        // (Before the loader reported every error, this scenario's missing keys hid the point.)
        do {
            _ = try ScenarioLoader.parse("""
                name: x
                provenance: t
                tenant: { region: us, keys: [{ id: main, kind: organization }] }
                client: { url: https://us.api.insight.rapid7.com, token: { unknown: true } }
                recorded_auth: true
                steps: [validate]
                expect: { diagnosis: none }
                """, file: "x.yaml")
            Issue.record("loaded")
        } catch {
            #expect("\(error)" == "x.yaml:5:16: recorded_auth: recorded_auth needs recordings to answer from")
        }
    }
}
