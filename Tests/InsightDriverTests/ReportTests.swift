import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import Testing

/// run --json, --html and --junit: what each says, for passing and failing scenarios and for
/// scenario files that cannot be loaded.
@Suite struct ReportTests {
    static func catalogue(_ name: String) throws -> Scenario {
        try ScenarioLoader.loadFile(catalogueFile(name))
    }

    static let badFile = ScenarioError(file: "Scenarios/broken.yaml", line: 7, column: 3, field: "client.token",
                                       message: "expected a mapping, found a scalar")

    @Test func aBadScenarioFileIsAJUnitError() throws {
        let xml = JUnitReport.xml([], errors: [Self.badFile], wallSeconds: 0.01, timestamp: Date(timeIntervalSince1970: 0), hostname: "h")
        let document = try XMLDocument(xmlString: xml)
        let errors = try document.nodes(forXPath: "//testcase/error")
        #expect(errors.count == 1)
        #expect(xml.contains("tests=\"1\" failures=\"0\" errors=\"1\""))
        #expect(xml.contains("<testcase classname=\"scenarios.broken\" name=\"broken.yaml\""))
        #expect(xml.contains("message=\"Scenarios/broken.yaml:7:3: client.token: expected a mapping, found a scalar\""))
        #expect(xml.contains("timestamp=\"1970-01-01T00:00:00\" hostname=\"h\""))
    }

    @Test func theJSONReportFollowsItsSchemaShape() async throws {
        let results = [await ScenarioRunner().run(try Self.catalogue("api-key-revoked-mid-sync")),
                       await ScenarioRunner().run(try Self.catalogue("notify-resend-schedule"))]
        let report = RunReport(results: results, errors: [Self.badFile], wallSeconds: 1.25,
                               generatedAt: Date(timeIntervalSince1970: 0), hostname: "h", commit: "abc123")
        let json = try #require(JSON(data: report.json()))
        #expect(json["schema"]?.stringValue == RunReport.schemaID)
        #expect(json["summary"]?["passed"]?.intValue == 2)
        #expect(json["summary"]?["errors"]?.intValue == 1)
        #expect(json["errors"]?.arrayValue?.first?["line"]?.intValue == 7)
        let revoked = try #require(json["scenarios"]?.arrayValue?.first)
        #expect(revoked["diagnosis"]?["category"]?.stringValue == "api_key_issues")
        #expect(revoked["diagnosis"]?["causes"]?.arrayValue?.first?["likelihood"]?.stringValue == "likely")
        #expect(revoked["timeline"]?.arrayValue?.first?["text"]?.stringValue == "key main → revoked")
        #expect(revoked["timeline"]?.arrayValue?.first?["at"]?.intValue == 3600)
        let requests = try #require(revoked["requests"]?.arrayValue)
        #expect(requests.count == 15)
        #expect(requests.last?["at"]?.intValue == 7202)
        #expect(requests.last?["status"]?.intValue == 401)
        // The notifier's resends are retries of the same request, each at its scheduled time.
        let resends = try #require(json["scenarios"]?.arrayValue?.last?["requests"]?.arrayValue)
        #expect(resends.dropFirst().contains { $0["retry"]?.boolValue == true })
    }

    @Test func theHTMLReportIsSelfContainedAndDrawsTheTimeline() async throws {
        let results = [await ScenarioRunner().run(try Self.catalogue("api-key-revoked-mid-sync")),
                       await ScenarioRunner().run(try Self.catalogue("rate-limit-exhausted"))]
        var failing = results[1]
        failing = ScenarioResult(name: failing.name, provenance: failing.provenance, file: failing.file,
                                 failures: ["expected <diagnosis> & more"], diagnosis: failing.diagnosis, diagnosisText: nil,
                                 journal: failing.journal, syncedInvestigations: nil, syncedLogSources: nil,
                                 virtualSeconds: failing.virtualSeconds, wallSeconds: 0)
        let html = HTMLReport.page(RunReport(results: [results[0], failing], wallSeconds: 0.5, hostname: "h"))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // No fetch of any kind: no scripts, no external stylesheets, images or fonts.
        for forbidden in ["<script", "<link", "src=", "url(", "@import", "http://", "https://fonts"] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        #expect(html.contains("<span class=\"pass\">1 passed</span> · <span class=\"fail\">1 failed</span>"))
        #expect(html.contains("expected &lt;diagnosis&gt; &amp; more"))
        #expect(html.contains("<svg class=\"timeline\""))
        #expect(html.contains("<title>1h: key main → revoked</title>"))
        #expect(html.contains("wait 2h"))
        #expect(html.contains("stroke=\"#6a1b9a\""))  // the 429s
        #expect(html.contains("class=\"retry-after\""))  // their Retry-After drawn as a wait
        #expect(html.contains("<span class=\"likelihood likely\">likely</span> API key was manually revoked"))
        // Failures first (the failing rate-limit-exhausted before api-key-revoked-mid-sync, though
        // after it by name), in the table and the sections, with a filter that needs no script.
        let table = try #require(html.range(of: "<table class=\"summary\">").map { String(html[$0.lowerBound...]) })
        #expect(table.range(of: "rate-limit-exhausted")!.lowerBound < table.range(of: "api-key-revoked-mid-sync")!.lowerBound)
        #expect(html.contains("<input type=\"radio\" name=\"show\" id=\"show-failed\"><label for=\"show-failed\">failures only (1)</label>"))
        #expect(html.contains("#show-failed:checked ~ table.summary tr.passed"))
        #expect(html.range(of: "<section class=\"scenario failed\"")!.lowerBound < html.range(of: "<section class=\"scenario passed\"")!.lowerBound)
    }

    /// Axis ticks are chosen by the span: each label distinct, at most six.
    @Test func axisTicksFollowTheSpan() {
        #expect(HTMLReport.ticks(span: 2).map(HTMLReport.duration) == ["0s", "0.5s", "1s", "1.5s", "2s"])
        #expect(HTMLReport.ticks(span: 7202).map(HTMLReport.duration) == ["0s", "30m", "1h", "1h 30m", "2h"])
        #expect(HTMLReport.ticks(span: 43_200).map(HTMLReport.duration) == ["0s", "6h", "12h"])
        for span in [0.3, 1, 3, 17, 59, 61, 600, 3068, 15_340, 90_000, 400_000] {
            let labels = HTMLReport.ticks(span: span).map(HTMLReport.duration)
            #expect(Set(labels).count == labels.count && labels.count <= 6 && labels.count >= 2, "\(span): \(labels)")
        }
    }

    @Test func theConsoleNeverCutsACategory() async throws {
        let result = await ScenarioRunner().run(try Self.catalogue("notify-trigger-url-other-region"))
        let line = ConsoleReport.line(result, nameWidth: 10)
        #expect(line.contains("incorrect_integration_parameters "))
        #expect(ConsoleReport.outcomeWidth == 32)
        #expect(ConsoleReport.line(result, colour: true).hasPrefix("\u{1B}[32mPASS\u{1B}[0m"))
    }

    @Test func reportPathsAreChecked() {
        #expect(ReportPath.problem(NSTemporaryDirectory() + "r.html", option: "--html") == nil)
        #expect(ReportPath.problem("/no-such-folder/r.html", option: "--html")
            == "--html /no-such-folder/r.html: the folder /no-such-folder does not exist; create it first (mkdir -p /no-such-folder)")
        #expect(ReportPath.problem(NSTemporaryDirectory(), option: "--json")?.contains("is a folder") == true)
    }
}
