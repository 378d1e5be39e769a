import Foundation
import InsightClient
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import Testing

/// Steps go on after a failure, each with its own outcome; `diagnosis` is the last step's;
/// `stop_on_failure` keeps the user who gives up at the first failure.
@Suite struct RecoveryTests {
    static func scenario(_ name: String) throws -> (text: String, path: String) {
        let path = try #require(["seed-000", "seed-003"].map { repositoryRoot + "/Scenarios/\($0)/\(name).yaml" }
            .first { FileManager.default.fileExists(atPath: $0) })
        return (try String(contentsOfFile: path, encoding: .utf8), path)
    }

    static func run(_ text: String, path: String = "r.yaml") async throws -> ScenarioResult {
        await ScenarioRunner().run(try ScenarioLoader.parse(text, file: path))
    }

    @Test func aRunGoesOnAfterAFailedStepAndEndsWithTheLastStepsOutcome() async throws {
        let (text, path) = try Self.scenario("recovery-key-rotated-after-failure")
        let result = try await Self.run(text, path: path)
        #expect(result.failures == [])
        #expect(result.diagnosis == nil)
        #expect(result.steps.map(\.number) == [1, 2, 4, 6])
        #expect(result.steps.map(\.diagnosis) == [nil, nil, "api_key_issues", nil])
        #expect(result.steps.map(\.failed) == [false, false, true, false])
        #expect(StepOutcome.describe(result.steps).last == "6 sync at 5404s: none (recovered)")
        // Told otherwise, the check says which step ended how.
        let wrong = try await Self.run(text.replacingOccurrences(of: "step_diagnoses: [none, none, api_key_issues, none]",
                                                                 with: "step_diagnoses: [none, none, none, none]"))
        #expect(wrong.failures == ["expected the steps to end none, none, none, none; they ended: 1 validate at 0s: none; 2 sync at 2s: none; 4 sync at 5402s: api_key_issues (failed); 6 sync at 5404s: none (recovered)"])
    }

    @Test func stopOnFailureEndsTheRunAtTheFailure() async throws {
        let (text, _) = try Self.scenario("recovery-key-rotated-after-failure")
        let stopped = text.replacingOccurrences(of: "  step_diagnoses: [none, none, api_key_issues, none]\n", with: "")
            .replacingOccurrences(of: "tenant:", with: "stop_on_failure: true\ntenant:")
        let result = try await Self.run(stopped)
        #expect(result.diagnosis?.category == .apiKeyIssues)
        #expect(result.steps.count == 3)
        #expect(result.failures.first?.hasPrefix("expected diagnosis none, got api_key_issues") == true, "\(result.failures)")
    }

    @Test func stepDiagnosesAreReadStrictly() throws {
        let (text, _) = try Self.scenario("recovery-key-rotated-after-failure")
        #expect(loaderError(text.replacingOccurrences(of: "[none, none, api_key_issues, none]", with: "[none, api_key_issues, none]"))
            == "bad.yaml:22:3: expect: step_diagnoses has 3 entries, the steps have 4 outcome(s): one per validate, sync, sync, sync (wait, set_token and notifier steps have none)")
        #expect(loaderError(text.replacingOccurrences(of: "[none, none, api_key_issues, none]", with: "[none, none, key_issues, none]"))
            == "bad.yaml:23:32: expect.step_diagnoses[2]: 'key_issues' is not one of: none, authentication_failed, insufficient_permissions, no_data_syncing, wrong_regional_url, api_key_issues, service_user_account_problems, rate_limited, service_unavailable, audit_logging_not_enabled, incorrect_integration_parameters, integration_disabled, integration_deleted, replay_miss")
        #expect(loaderError(text.replacingOccurrences(of: "tenant:", with: "stop_on_failure: true\ntenant:"))
            == "bad.yaml:23:3: expect: step_diagnoses describes every step; with stop_on_failure the steps after a failure do not run (use diagnosis)")
        #expect(loaderError(text.replacingOccurrences(of: "tenant:", with: "stop_on_failure: maybe\ntenant:")).hasPrefix("bad.yaml:6:18: stop_on_failure: "))
    }

    @Test func everyReportShowsWhereTheFailureAndTheRecoveryWere() async throws {
        let (text, path) = try Self.scenario("recovery-role-restored")
        let result = try await Self.run(text, path: path)
        #expect(result.failures == [])
        let line = ConsoleReport.line(result)
        #expect(line.contains("steps: 1 validate at 0s: none · 2 sync at 2s: none · 4 sync at 3602s: insufficient_permissions (failed) · 6 sync at 7204s: none (recovered)"), "\(line)")
        let junit = JUnitReport.xml([result], wallSeconds: 1)
        #expect(junit.contains("steps:\n  1 validate at 0s: none\n  2 sync at 2s: none\n  4 sync at 3602s: insufficient_permissions (failed)\n  6 sync at 7204s: none (recovered)\n"))
        let report = RunReport(results: [result], wallSeconds: 1)
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(json.contains(#""diagnosis":null"#) && json.contains(#""diagnosis":"insufficient_permissions""#), "\(json.prefix(400))")
        let html = HTMLReport.page(report)
        #expect(html.contains("✕ 4 sync: insufficient_permissions") && html.contains("✓ 6 sync: recovered"))
        #expect(html.contains("<tr class=\"recovered\"><td>6 sync</td>"))
        // A run without a failure shows no step list anywhere.
        let (plain, plainPath) = try Self.scenario("happy-path-us2-sync")
        let quiet = try await Self.run(plain, path: plainPath)
        #expect(!ConsoleReport.line(quiet).contains("steps:"))
        #expect(!HTMLReport.page(RunReport(results: [quiet], wallSeconds: 1)).contains("table class=\"steps\""))
    }
}

/// Every diagnosis the catalogue's runs make speaks only of the product it was made for: the
/// audit-log pull's wrong region has no "Remove any path components like /api/3".
@Suite struct ProductDiagnosesTests {
    @Test func everyCataloguedDiagnosisListsOnlyItsProductsCausesAndRemedies() async throws {
        let scenarios = try ScenarioLoader.load(paths: [repositoryRoot + "/Scenarios"])
        let results = await ScenarioRunner().run(scenarios)
        var seen: Set<String> = []
        for (scenario, result) in zip(scenarios, results) {
            guard let diagnosis = result.diagnosis, let kind = scenario.clientKind else { continue }
            let product: Product = kind == .siem ? .siemConnector : kind == .audit ? .auditPull : .notifier
            #expect(diagnosis.category.entry.products.contains(product), "\(scenario.name): \(diagnosis.category) is not a \(product) row")
            let foreign = product.foreignWords(in: diagnosis)
            #expect(foreign.isEmpty, "\(scenario.name) (\(product)): \(foreign) in \(diagnosis.remedies) / \(diagnosis.causes.map(\.text))")
            seen.insert("\(diagnosis.category.rawValue) × \(product.rawValue)")
        }
        #expect(seen.count >= 16, "\(seen.sorted())")
    }
}
