import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import InsightRecordings
import Testing

@Suite struct RunnerTests {
    let valid = try! String(contentsOf: Bundle.module.url(forResource: "valid", withExtension: "yaml", subdirectory: "Fixtures")!, encoding: .utf8)

    @Test func aScenarioRunsOnItsOwnVirtualClock() async throws {
        let scenario = try ScenarioLoader.parse(valid, file: "valid.yaml")
        let result = await ScenarioRunner().run(scenario)
        #expect(result.passed, "\(result.failures)")
        #expect(result.diagnosis?.category == .wrongRegionalURL)
        #expect(result.journal.map(\.status) == [401, 401, 200])
        #expect(result.virtualSeconds == 0)
    }

    @Test func unmetExpectationsSayWhatWasExpected() async throws {
        let text = valid.replacingOccurrences(of: "requests: 3", with: "requests: 2\n  request_times: [0, 0, 5]")
        let result = await ScenarioRunner().run(try ScenarioLoader.parse(text, file: "valid.yaml"))
        #expect(!result.passed)
        #expect(result.failures == [
            "expected 2 request(s), the emulator received 3: GET us.api.insight.rapid7.com/validate → 401; GET us2.api.insight.rapid7.com/validate → 401; GET us3.api.insight.rapid7.com/validate → 200",
            "expected requests at [0s, 0s, 5s], they came at [0s, 0s, 0s]",
        ])
    }

    /// Each diagnosis expectation passes on the fixture's diagnosis and fails, saying why, when
    /// the scenario claims otherwise.
    @Test func causesRanksLikelihoodsAndNegativeMentionsAreChecked() async throws {
        func failures(_ expect: String) async throws -> [String] {
            let text = valid.replacingOccurrences(of: "  requests: 3", with: "  requests: 3\n" + expect)
            return await ScenarioRunner().run(try ScenarioLoader.parse(text, file: "valid.yaml")).failures
        }
        let list = "1. [confirmed] Using incorrect regional endpoint | 2. [possible] Including path components in URL | 3. [possible] Using old API endpoint format"
        #expect(try await failures("""
              causes:
                - { cause: incorrect regional endpoint, rank: 1, likelihood: confirmed }
                - { cause: path components, likelihood: possible }
                - old API endpoint
              not_causes: [rate limits]
              ranked: [incorrect regional, path components, old API]
              not_mentions: [Retry-After]
            """) == [])
        #expect(try await failures("  causes: [{ cause: path components, rank: 1 }]") == ["expected 'path components' at rank 1; it is at 2: \(list)"])
        #expect(try await failures("  causes: [{ cause: incorrect regional endpoint, likelihood: ruled_out }]")
            == ["expected 'incorrect regional endpoint' to be ruled out; it is confirmed"])
        #expect(try await failures("  causes: [rate limits]") == ["expected a cause 'rate limits'; the causes are: \(list)"])
        #expect(try await failures("  not_causes: [old API]") == ["expected no cause 'old API'; 'Using old API endpoint format' is possible: \(list)"])
        #expect(try await failures("  ranked: [incorrect regional, old API]")
            == ["expected the causes 1. incorrect regional | 2. old API; they are: \(list)"])
        #expect(try await failures("  evidence_lines: [401 Unauthorized, accepted by https://us3]") == [])
        #expect(try await failures("  evidence_lines: [accepted by https://us3]")
            == ["expected the evidence 1. accepted by https://us3; it is: 1. validate: 401 Unauthorized from https://us.api.insight.rapid7.com/validate | 2. the same key is accepted by https://us3.api.insight.rapid7.com/validate"])
        #expect(try await failures("  not_mentions: [us3.api]")
            == ["expected the diagnosis not to mention 'us3.api'; it does: evidence: the same key is accepted by https://us3.api.insight.rapid7.com/validate"])
    }

    /// The notifier's lifecycle: a state and system messages that do not match are said.
    @Test func theNotifiersEndStateAndSystemMessagesAreChecked() async throws {
        let path = repositoryRoot + "/Scenarios/seed-003/notify-disabled-events-not-sent-later.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(await ScenarioRunner().run(try ScenarioLoader.parse(text, file: path)).failures == [])
        let wrong = text.replacingOccurrences(of: "state: enabled", with: "state: disabled")
            .replacingOccurrences(of: "    - was disabled; its settings are kept\n", with: "    - re-enabled\n")
            .replacingOccurrences(of: "not_sent: 3", with: "not_sent: 0")
        let failures = await ScenarioRunner().run(try ScenarioLoader.parse(wrong, file: path)).failures
        #expect(failures == [
            "expected 0 event(s) not sent because the integration was disabled, got 3",
            "expected the notifier to end disabled, it ended enabled",
            "expected a system message mentioning 're-enabled'; the integration said: The InsightConnect integration was disabled; its settings are kept. | The InsightConnect integration was enabled again with its settings kept; the 3 event(s) not sent while it was disabled will not be sent later.",
        ])
    }

    /// A rotation works because of set_token: without it the old key's deletion ends the sync.
    @Test func aKeyCreatedMidRunAndSetTokenCarryARotation() async throws {
        let path = repositoryRoot + "/Scenarios/seed-000/key-rotation-without-a-failed-sync.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let rotated = await ScenarioRunner().run(try ScenarioLoader.parse(text, file: path))
        #expect(rotated.passed, "\(rotated.failures)")
        #expect(rotated.timeline.map(\.text).contains("key new created"))
        let forgotten = await ScenarioRunner().run(try ScenarioLoader.parse(text.replacingOccurrences(of: "{ set_token: { key: new } }, ", with: ""), file: path))
        #expect(forgotten.diagnosis?.category == .apiKeyIssues)
        #expect(forgotten.journal.last?.status == 401)
    }

    /// `audit.with_fields` counts every processed record: a field only some carry fails, with the count.
    @Test func auditFieldsAreCheckedOnEveryRecord() async throws {
        let path = repositoryRoot + "/Scenarios/seed-002/audit-every-schema-field.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(await ScenarioRunner().run(try ScenarioLoader.parse(text, file: path)).passed)
        let partial = text.replacingOccurrences(of: "with_fields: [action,", with: "with_fields: [service_info.event.initiatorIdentification.apiKeyId, action,")
        let failures = await ScenarioRunner().run(try ScenarioLoader.parse(partial, file: path)).failures
        #expect(failures.count == 1)
        #expect(failures.first?.hasPrefix("expected every processed audit record to carry service_info.event.initiatorIdentification.apiKeyId; ") == true)
        #expect(failures.first?.hasSuffix(" of 40 did") == true)
        #expect(loaderError(partial.replacingOccurrences(of: "with_fields: [service_info", with: "with_fields: [service_inf")).contains("'service_inf.event.initiatorIdentification.apiKeyId' is not a Rapid7.AuditLog field"))
    }

    /// Scenarios run side by side give the results they give one at a time, in the same order.
    @Test func jobsRunSideBySideAndReportInOrder() async throws {
        let catalogue = try ScenarioLoader.load(paths: [repositoryRoot + "/Scenarios/seed-003", repositoryRoot + "/Scenarios/seed-002"])
        var alone: [(Int, String, Bool, [Int])] = []
        await ScenarioRunner().run(catalogue, jobs: 1) { alone.append(($0, $1.name, $1.passed, $1.journal.map(\.status))) }
        var together: [(Int, String, Bool, [Int])] = []
        await ScenarioRunner().run(catalogue, jobs: 4) { together.append(($0, $1.name, $1.passed, $1.journal.map(\.status))) }
        #expect(together.map(\.0) == Array(catalogue.indices))
        #expect(together.map(\.1) == catalogue.map(\.name))
        #expect(together.map(\.2) == alone.map(\.2))
        #expect(together.map(\.3) == alone.map(\.3))
    }

    /// Data created mid-run reaches the next sync; duplicates and misses are counted by rrn.
    @Test func arrivingDataAndTheDuplicateAndMissedCounters() async throws {
        let path = repositoryRoot + "/Scenarios/seed-000/sync-investigations-created-between-pages.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let result = await ScenarioRunner().run(try ScenarioLoader.parse(text, file: path))
        #expect(result.passed, "\(result.failures)")
        #expect(result.timeline.map(\.text).contains("5 investigations arrived"))
        var expect = Expectations()
        expect.syncedDuplicates = 0
        expect.syncedMissed = 0
        var observed = Observed()
        observed.syncedRRNs = ["rrn:a", "rrn:b", "rrn:a"]
        observed.missedRRNs = ["rrn:c"]
        #expect(expect.check(observed) == [
            "expected 0 investigation(s) handed on twice, got 1",
            "expected 0 investigation(s) missed, got 1: rrn:c",
        ])
        var alert = Expectations()
        alert.auditAlertAt = .at(90_000)
        var quiet = Observed()
        #expect(alert.check(quiet) == ["expected the no-events alert at [90000s], it was never raised"])
        quiet.auditAlertAt = 86_400
        #expect(alert.check(quiet) == ["expected the no-events alert at [90000s], it was raised at [86400s]"])
        alert.auditAlertAt = .never
        #expect(alert.check(quiet) == ["expected no no-events alert, it was raised at [86400s]"])
    }

    /// Events are counted by the log set of their log; generic logs carry no authentication set.
    @Test func logSetsOfSyncedEventsAreChecked() async throws {
        let path = repositoryRoot + "/Scenarios/seed-000/synced-user-behavior-data.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(await ScenarioRunner().run(try ScenarioLoader.parse(text, file: path)).passed)
        let generic = text.replacingOccurrences(of: "log_sets: idr, ", with: "")
        let failures = await ScenarioRunner().run(try ScenarioLoader.parse(generic, file: path)).failures
        #expect(failures.count == 3)
        #expect(failures.first == "expected log events synced from the log set Asset Authentication; they came from: Security Logs 210")
        #expect(loaderError(text.replacingOccurrences(of: "log_sets: idr", with: "log_sets: windows")).contains("'windows' is not one of: generic, idr"))
    }

    /// Malformed audit records are rejected with their reasons; a reason not given is said;
    /// a delivery that mentions what it must not is named.
    @Test func rejectionReasonsAndDeliveryNegativesAreChecked() async throws {
        let path = repositoryRoot + "/Scenarios/seed-002/audit-malformed-records-rejected.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let wrong = text.replacingOccurrences(of: "rejected_mentions: [missing required field action,", with: "rejected_mentions: [too old,")
        let failures = await ScenarioRunner().run(try ScenarioLoader.parse(wrong, file: path)).failures
        #expect(failures.count == 1)
        #expect(failures.first?.hasPrefix("expected an audit record rejected for 'too old'; the reasons were: missing required field action | ") == true)
        #expect(loaderError(text.replacingOccurrences(of: "audit_malformed: 5", with: "audit_malformed: 61"))
            .contains("data.audit_malformed: more malformed records (61) than audit_events (60)"))
        let test = repositoryRoot + "/Scenarios/seed-003/notify-test-message.yaml"
        let message = try String(contentsOfFile: test, encoding: .utf8) + "  delivery_not_mentions: \"[Test message]\"\n"
        let delivered = await ScenarioRunner().run(try ScenarioLoader.parse(message, file: test)).failures
        #expect(delivered.count == 1)
        #expect(delivered.first?.hasPrefix("expected no delivery to mention '[Test message]'; delivery 1 does: ") == true)
    }

    /// The same-millisecond scenario holds what it says: thirty events of one timestamp, pulled
    /// across pages and two stops without a gap or a duplicate.
    @Test func eventsSharingAMillisecondResumeAcrossPages() async throws {
        let path = repositoryRoot + "/Scenarios/seed-002/audit-resume-same-millisecond-across-pages.yaml"
        let scenario = try ScenarioLoader.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
        let events = ScenarioWorld(scenario).tenant.auditEvents
        #expect(events.count == 30)
        #expect(Set(events.map(\.timestamp)).count == 1)
        let result = await ScenarioRunner().run(scenario)
        #expect(result.passed, "\(result.failures)")
    }

    /// The clients' log is checked both ways; a miss names how much was logged.
    @Test func clientLogLinesAreChecked() async throws {
        let path = repositoryRoot + "/Scenarios/seed-000/happy-path-us2-sync.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(await ScenarioRunner().run(try ScenarioLoader.parse(text, file: path)).passed)
        let wrong = text.replacingOccurrences(of: #"log_not_mentions: ["-> 401", "-> 403", "-> 429"]"#, with: #"log_not_mentions: ["-> 200"]"# + "\n  log_mentions: [never logged]")
        let failures = await ScenarioRunner().run(try ScenarioLoader.parse(wrong, file: path)).failures
        #expect(failures.count == 2)
        #expect(failures.contains { $0.hasPrefix("expected a client log line mentioning 'never logged'; the clients logged ") })
        #expect(failures.contains { $0.hasPrefix("expected no client log line to mention '-> 200'; one does: debug: GET https://us2.api.insight.rapid7.com/validate -> 200") })
    }

    @Test func theSameScenarioGivesTheSameResultTwice() async throws {
        let scenario = try ScenarioLoader.parse(valid, file: "valid.yaml")
        let first = await ScenarioRunner().run(scenario)
        let second = await ScenarioRunner().run(scenario)
        #expect(first.diagnosisText == second.diagnosisText)
        #expect(first.journal == second.journal)
    }

    /// A canary key sent through the whole run reaches no report: console, JUnit or history.
    @Test func aCanaryKeyReachesNoReport() async throws {
        let canary = "c4a7c4a7-dead-4bee-8fff-c4a7c4a7c4a7"
        let text = valid.replacingOccurrences(of: "token: { key: main }", with: "token: { literal: \"\(canary)\" }")
            .replacingOccurrences(of: "requests: 3", with: "requests: 9")
            .replacingOccurrences(of: "wrong_regional_url", with: "authentication_failed")
        let scenario = try ScenarioLoader.parse(text, file: "canary.yaml")
        let runner = ScenarioRunner()
        var result = await runner.run(scenario)
        #expect(result.passed, "\(result.failures)")
        // Make it fail too, so failure text is checked as well.
        let failing = try ScenarioLoader.parse(text.replacingOccurrences(of: "requests: 9", with: "requests: 1"), file: "canary.yaml")
        let failed = await runner.run(failing)
        #expect(!failed.passed)
        for each in [result, failed] {
            result = each
            let report = RunReport(results: [each], wallSeconds: 0)
            let outputs = [ConsoleReport.line(each), JUnitReport.xml([each], wallSeconds: 0), each.diagnosisText ?? "",
                           String(decoding: report.json(), as: UTF8.self), HTMLReport.page(report),
                           "\(RunHistoryRecord.make([each], startedAt: Date(), commit: nil))"]
            for output in outputs {
                #expect(!output.contains(canary))
                #expect(!output.contains("svc@example.com"))
            }
        }
    }

    @Test func junitHasOneTestcasePerScenarioAndEscapes() async throws {
        let scenario = try ScenarioLoader.parse(valid.replacingOccurrences(of: "requests: 3", with: "requests: 4"), file: "Scenarios/a&b.yaml")
        let result = await ScenarioRunner().run(scenario)
        let xml = JUnitReport.xml([result], wallSeconds: 1.5, timestamp: Date(timeIntervalSince1970: 1_790_000_000), hostname: "ci-7")
        #expect(xml.contains("<testsuite name=\"insight-replay\" tests=\"1\" failures=\"1\" errors=\"0\" time=\"1.500\" timestamp=\"2026-09-21T14:13:20\" hostname=\"ci-7\">"))
        #expect(xml.contains("<testcase classname=\"scenarios.a&amp;b\" name=\"fixture-valid\""))
        #expect(xml.contains("<failure message=\"expected 4 request(s), the emulator received 3: GET us.api.insight.rapid7.com/validate → 401;"))
        let parsed = try XMLDocument(xmlString: xml)
        #expect(try parsed.nodes(forXPath: "//testcase").count == 1)
    }

    @Test func historyRecordsMapResults() async throws {
        let result = await ScenarioRunner().run(try ScenarioLoader.parse(valid, file: "valid.yaml"))
        let record = RunHistoryRecord.make([result], startedAt: Date(timeIntervalSince1970: 5), commit: "abc")
        #expect(record.scenarios == [ScenarioRunRecord(name: "fixture-valid", passed: true, diagnosis: "wrong_regional_url",
                                                       requests: 3, virtualSeconds: 0, wallSeconds: result.wallSeconds, failures: [])])
    }
}
