import Foundation
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import InsightRecordings
import Testing

/// `insight-replay reproduce`: browser-style HAR captures of each failure kind become scenarios
/// that fail the same way, with the diagnosis the capture implies.
@Suite struct ReproduceTests {
    static func capture(_ name: String) throws -> HAR.Capture {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "har", subdirectory: "Fixtures/har"))
        return try HAR.read(try Data(contentsOf: url), name: name, file: "\(name).har", now: Date(timeIntervalSince1970: 0))
    }

    @Test(arguments: [
        ("wrong-region", DiagnosisCategory.wrongRegionalURL as DiagnosisCategory?),
        ("auth-failed", .authenticationFailed),
        ("key-revoked", .apiKeyIssues),
        ("no-log-search-role", .insufficientPermissions),
        ("rate-limited", .rateLimited),
        ("server-error", .serviceUnavailable),
        ("server-error-recovers", nil),
        ("path-component", .wrongRegionalURL),
        ("trigger-bad-key", .incorrectIntegrationParameters),
        ("trigger-wrong-workflow", .incorrectIntegrationParameters),
    ])
    func eachFailureKindRoundTrips(name: String, expected: DiagnosisCategory?) async throws {
        let made = try Reproduce.scenario(from: try Self.capture(name).recording, name: "reproduce-\(name)", source: "\(name).har")
        #expect(made.expected == expected)
        #expect(made.yaml.contains("  diagnosis: \(expected?.rawValue ?? "none")\n"))
        let (reproduced, result) = try await Reproduce.verify(made, file: "reproduce-\(name).yaml")
        #expect(reproduced, "\(name): \(result.failures) \(String(describing: result.diagnosis))\n\(made.yaml)")
        #expect(result.passed)
    }

    @Test func whatTheCaptureShowsIsInTheScenario() throws {
        let wrong = try Reproduce.scenario(from: try Self.capture("wrong-region").recording, name: "x", source: "wrong-region.har")
        #expect(wrong.yaml.contains("  region: us3\n"))
        #expect(wrong.yaml.contains("  url: https://us.api.insight.rapid7.com\n"))
        #expect(wrong.yaml.contains("  remedy_mentions: Set URL to https://us3.api.insight.rapid7.com\n"))
        let revoked = try Reproduce.scenario(from: try Self.capture("key-revoked").recording, name: "x", source: "key-revoked.har")
        #expect(revoked.yaml.contains("timeline:\n  - { at: 3600, revoke_key: customer }\n"))
        #expect(revoked.yaml.contains("steps: [validate, sync, { wait: 7200 }, sync]"))
        let limited = try Reproduce.scenario(from: try Self.capture("rate-limited").recording, name: "x", source: "rate-limited.har")
        #expect(limited.yaml.contains("  - { path: /idr/v2/investigations, status: 429, count: 50, retry_after: 60 }\n"))
        #expect(limited.yaml.contains("  max_attempts: 3\n"))
        let path = try Reproduce.scenario(from: try Self.capture("path-component").recording, name: "x", source: "path-component.har")
        #expect(path.yaml.contains("  url: https://us2.api.insight.rapid7.com/api/3\n"))
    }

    /// Browsers export every host a page touched, and fractional times.
    @Test func otherHostsAreSkippedWithAWarningAndTimesRounded() throws {
        let capture = try Self.capture("wrong-region")
        #expect(capture.skipped == ["log.entries[0]: GET https://www.google-analytics.com/g/collect is not a Rapid7 host; skipped"])
        #expect(capture.recording.exchanges.allSatisfy { $0.host.hasSuffix(".rapid7.com") })
        #expect(capture.recording.exchanges.first?.durationMillis == 121)  // "time": 120.538
        #expect(HAR.millis(.double(0.4)) == 0 && HAR.millis(.double(0.6)) == 1 && HAR.millis(.int(-5)) == 0)
    }

    /// A customer's HAR carries their key: it reaches neither the recording nor the scenario.
    @Test func aCanaryKeyInTheCaptureReachesNoScenario() throws {
        let canary = "c4a7a7e1-0000-4c1e-9d7a-ca4a4ca4a4ca"
        let url = try #require(Bundle.module.url(forResource: "key-revoked", withExtension: "har", subdirectory: "Fixtures/har"))
        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"value\": \"[redacted]\"", with: "\"value\": \"\(canary)\"")
        text = text.replacingOccurrences(of: "/idr/v2/investigations\"", with: "/idr/v2/investigations?api_key=\(canary)\"")
        #expect(text.contains(canary))
        let capture = try HAR.read(Data(text.utf8), name: "canary", file: "canary.har", now: Date())
        let made = try Reproduce.scenario(from: capture.recording, name: "reproduce-canary", source: "canary.har")
        let everything = made.yaml + made.findings.joined() + "\(capture.recording)"
        #expect(!everything.contains(canary))
        #expect(!everything.contains(canary.replacingOccurrences(of: "-", with: "%2D")))
    }

    @Test func aCaptureOfNoRapid7HostIsRefused() {
        let har = #"{"log":{"entries":[{"request":{"method":"GET","url":"https://example.com/"},"response":{"status":200}}]}}"#
        #expect(throws: RecordingError.self) { try HAR.read(Data(har.utf8), name: "x", file: "x.har", now: Date()) }
    }

    /// A browser export in which the client only asked eu and was refused three times: the
    /// capture cannot tell an unknown key from one valid elsewhere. It says so, chooses, offers
    /// --key-region, and the run never rules out what the capture did not probe.
    @Test func aRefusalTheCaptureNeverProbedElsewhereIsAnAssumptionNotAFact() async throws {
        let made = try Reproduce.scenario(from: try Self.capture("eu-refused-only").recording, name: "x", source: "eu-refused-only.har")
        #expect(made.expected == .authenticationFailed)
        #expect(made.findings.contains("key #1 is refused on eu.api.insight.rapid7.com (401); the capture never asked us, us2, us3, ca, au, ap whether it works there"))
        #expect(!made.findings.contains { $0.contains("no region accepts it") })
        #expect(made.assumptions == ["key #1 is unknown in every region (chosen; the capture cannot tell)"])
        #expect(made.alternatives.first?.contains("--key-region us") == true)
        #expect(made.yaml.contains("assumed:\n  - { cause: Wrong regional API URL, because: "))
        let (reproduced, result) = try await Reproduce.verify(made, file: "x.yaml")
        #expect(reproduced, "\(result.failures)")
        let causes = try #require(result.diagnosis?.causes)
        #expect(!causes.contains { $0.likelihood == .ruledOut }, "\(causes)")
        #expect(causes.first { $0.text == Cause.wrongRegionalURL }?.likelihood == .notChecked)
        #expect(causes.first { $0.text == Cause.wrongRegionalURL }?.because?.hasPrefix("not checked by the capture: the capture asked only eu.api.insight.rapid7.com") == true)
        // The other world, chosen: the key is us3's, the URL's region wrong.
        let other = try Reproduce.scenario(from: try Self.capture("eu-refused-only").recording, name: "x", source: "eu-refused-only.har",
                                           keyWorld: .region(.us3))
        #expect(other.expected == .wrongRegionalURL && other.yaml.contains("  region: us3\n"))
        #expect(try await Reproduce.verify(other, file: "x.yaml").reproduced)
    }

    /// 200s with one key, a 401 sent with another, a 429, then 200s with the first key: the
    /// first key was never revoked, the 429 stays a 429, and the run recovers as the capture did.
    @Test func aKeyAnswered200AfterA401WasNotRevokedAndEveryFaultIsKept() async throws {
        let made = try Reproduce.scenario(from: try Self.capture("other-key-then-rate-limit").recording, name: "x", source: "o.har")
        #expect(!made.yaml.contains("revoke_key"))
        #expect(made.yaml.contains("  - { path: /idr/v2/investigations, status: 429, count: 1, after: 1, retry_after: 30 }\n"))
        #expect(made.yaml.contains("{ set_token: { unknown: true } }, validate, { wait: 1800 }, { set_token: { key: customer-1 } }, validate, sync]"))
        #expect(made.findings.contains("the requests carried 2 different keys (#1, #2)"))
        #expect(made.expected == nil && made.yaml.contains("  step_diagnoses: [none, none, authentication_failed, none, none]\n"))
        let (reproduced, result) = try await Reproduce.verify(made, file: "x.yaml")
        #expect(reproduced, "\(result.failures)\n\(made.yaml)")
        #expect(result.journal.contains { $0.status == 429 })
    }

    /// When the emulator's client does not fail the way the capture did, it is not reproduced.
    @Test func aScenarioThatDoesNotFailAsTheCaptureDidIsNotReproduced() async throws {
        var made = try Reproduce.scenario(from: try Self.capture("eu-refused-only").recording, name: "x", source: "eu-refused-only.har")
        made = Reproduce.Made(yaml: made.yaml.replacingOccurrences(of: "token: { unknown: true }", with: "token: { key: customer }"),
                              name: made.name, findings: made.findings, expected: made.expected)
        let (reproduced, result) = try await Reproduce.verify(made, file: "x.yaml")
        #expect(!reproduced)
        #expect(result.failures.first?.hasPrefix("expected diagnosis authentication_failed, got none") == true, "\(result.failures)")
    }

    @Test func anAssumptionNamesACauseOfTheTable() {
        let text = try! String(contentsOf: Bundle.module.url(forResource: "valid", withExtension: "yaml", subdirectory: "Fixtures")!, encoding: .utf8)
        let bad = text.replacingOccurrences(of: "expect:", with: "assumed:\n  - { cause: Wrong region URL, because: not asked }\nexpect:")
        #expect(loaderError(bad).hasSuffix("assumed[0].cause: 'Wrong region URL' is not part of any cause of the troubleshooting table; did you mean 'Wrong regional API URL'?"), "\(loaderError(bad))")
        let fine = text.replacingOccurrences(of: "expect:", with: "assumed:\n  - { cause: Wrong regional API URL, because: not asked }\nexpect:")
        #expect(loaderError(fine) == "no error")
    }
}
