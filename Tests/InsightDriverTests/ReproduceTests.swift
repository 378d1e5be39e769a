import Foundation
import InsightCore
@testable import InsightDriver
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
        #expect(throws: RecordingFileError.self) { try HAR.read(Data(har.utf8), name: "x", file: "x.har", now: Date()) }
    }
}
