import Foundation
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import Testing

/// `run --client --kind audit|notifier`: an audit-log pull and an InsightConnect notifier of the
/// user's own, judged by the seeds' rules from what they handed on, sent and reported.
@Suite struct ClientKindsTests {
    /// A command of a kind, run from the repository root (the examples' relative paths).
    func override(_ script: String, _ kind: ClientKind) -> ClientOverride {
        var command = CommandSpec(arguments: ["/bin/sh", "-c", script])
        command.directory = repositoryRoot
        command.timeout = 60
        return ClientOverride(command: command, timeScale: 1, kinds: [kind])
    }

    func run(_ name: String, _ script: String, _ kind: ClientKind) async throws -> ScenarioResult {
        let scenario = try ScenarioLoader.loadFile(catalogueFile(name))
        #expect(override(script, kind).applies(to: scenario))
        return await commandRunner(override: override(script, kind)).run(scenario)
    }

    @Test func kindsAreTheIntegrationsScenariosConfigure() throws {
        #expect(try ScenarioLoader.loadFile(catalogueFile("happy-path-us2-sync")).clientKind == .siem)
        #expect(try ScenarioLoader.loadFile(catalogueFile("audit-pull-org-key")).clientKind == .audit)
        let notifier = try ScenarioLoader.loadFile(catalogueFile("notify-test-message"))
        #expect(notifier.clientKind == .notifier)
        #expect(!override("true", .siem).applies(to: notifier))
        #expect(override("true", .notifier).applies(to: notifier))
    }

    // MARK: An audit-log pull

    @Test(.enabled(if: tool("python3"), "needs python3"))
    func theAuditExampleResumesWithoutGapAndItsFlawIsNamed() async throws {
        for name in ["audit-pull-resumes-after-crash", "audit-events-flow-then-stop", "audit-malformed-records-rejected", "audit-wrong-storage-region"] {
            let result = try await run(name, "python3 Examples/python/audit_puller.py", .audit)
            #expect(result.failures.isEmpty, "\(name): \(result.failures)\n\(result.clientOutput ?? "")")
        }
        let flawed = try await run("audit-pull-resumes-after-crash", "python3 Examples/python/audit_puller.py --flaw page-checkpoint", .audit)
        #expect(flawed.failures.first?.hasPrefix("missed 30 of the 120 audit record(s) the log held, first ") == true, "\(flawed.failures)")
        #expect(flawed.diagnosis?.category == .noDataSyncing)
        #expect(flawed.diagnosis?.remedies.first == "checkpoint the record handed on, not the page fetched; query from the checkpoint on the next pull")
    }

    /// The records file, the sink's capacity and duplicates, judged without any HTTP.
    @Test func recordsAreJudgedLineByLine() async throws {
        let record = #"{"action":"LOGIN","audit_id":"a-1","time":"2026-01-01T00:00:00Z"}"#
        // Twice the same record, beyond a sink that takes one.
        let twice = try await run("audit-resume-after-1-of-pages-of-10", "echo '\(record)' >> \"$R7_RECORDS_FILE\"; echo '\(record)' >> \"$R7_RECORDS_FILE\"", .audit)
        #expect(twice.failures.contains("handed on 2 records in run 1, where the sink took only 1 (R7_SINK_CAPACITY): stop when the sink stops, with the checkpoint at the last record it took"),
                "\(twice.failures)")
        #expect(twice.failures.contains { $0.hasPrefix("handed on audit records already handed on 3 time(s), first a-1 (run 1 line 1, again run 1 line 2)") }, "\(twice.failures)")
        #expect(twice.failures.contains { $0.hasPrefix("missed 100 of the 100 audit record(s)") }, "\(twice.failures)")
        let garbage = try await run("audit-pull-org-key", "echo 'hello' >> \"$R7_RECORDS_FILE\"", .audit)
        #expect(garbage.failures.contains { $0.hasPrefix("wrote line 1 of R7_RECORDS_FILE in run 1 that is not an audit record in the Rapid7.AuditLog schema") }, "\(garbage.failures)")
    }

    /// The no-events alert, due exactly when nothing was processed for R7_ALERT_AFTER.
    @Test func theNoEventsAlertIsJudgedRunByRun() async throws {
        let never = try await run("audit-no-events-alert", #"echo '{"processed": 0, "rejected": 0, "alert": null}'; [ "$R7_ALERT_AFTER" = 86400 ] || exit 9"#, .audit)
        #expect(never.failures.contains("did not raise the no-events alert in run 2 at 86400s: nothing was processed for 86400s, and the alert is due after 86400s"),
                "\(never.failures)")
        let always = try await run("audit-no-events-alert-not-before-24h", #"echo '{"processed": 0, "rejected": 0, "alert": "quiet"}'"#, .audit)
        #expect(always.failures.contains("raised the no-events alert in run 1 at 0s after only 0s without events: the alert is for nothing processed in 86400s"),
                "\(always.failures)")
    }

    // MARK: A notifier

    @Test(.enabled(if: tool("python3"), "needs python3"))
    func theNotifierExampleKeepsTheScheduleAndItsFlawIsNamed() async throws {
        for name in ["notify-reenable-after-auto-disable", "notify-disabled-events-not-sent-later", "notify-disabled-events-queued-setting",
                     "notify-deleted-sends-nothing", "notify-rule-counts-attempts-at-60-percent", "notify-async-url-us2", "notify-trigger-url-other-region"] {
            let result = try await run(name, "python3 Examples/python/notifier.py", .notifier)
            #expect(result.failures.isEmpty, "\(name): \(result.failures)\n\(result.clientOutput ?? "")")
        }
        let flawed = try await run("notify-recovers-mid-schedule", "python3 Examples/python/notifier.py --flaw fixed-resend", .notifier)
        #expect(flawed.failures.first == "resent a notification 5s after attempt 1 in run 1 (notify 1), where the documented schedule waits 1s (cycle 1, resend 1), or gave it up before its 17 attempts",
                "\(flawed.failures)")
        #expect(flawed.diagnosis?.category == .serviceUnavailable)
        #expect(flawed.diagnosis?.evidence.first?.hasPrefix("request 1 at 0s: POST us.api.insight.rapid7.com/connect/v1/workflows/") == true)
    }

    /// `curl` POSTs of every event in R7_EVENTS_FILE (or one test event), `$1` the text it
    /// puts in each, with the documented resend schedule when `SCHEDULE` is set.
    static let poster = #"""
        post() { curl -sS -o /dev/null -w '%{http_code}' -H "X-Api-Key: $R7_TRIGGER_API_KEY" -H 'Content-Type: application/json' -d "$1" "$R7_TRIGGER_URL"; }
        send() { for wait in 0 ${SCHEDULE:-}; do sleep "$wait"; case $(post "$1") in 2*) return 0;; esac; done; return 1; }
        case "$R7_STEPS" in
        test_notification) send '{"events":[{"title":"'"$PREFIX"'hello"}]}' ;;
        notify) while read -r event; do send '{"events":['"$(printf '%s' "$event" | sed "s/\"title\":\"/&$PREFIX/")"']}'; done < "$R7_EVENTS_FILE" ;;
        esac
        echo '{"state": "enabled"}'
        """#

    @Test(.enabled(if: tool("curl"), "needs curl"))
    func theTestPrefixBelongsOnTestsOnly() async throws {
        let bare = try await run("notify-test-message", "PREFIX= ; " + Self.poster, .notifier)
        #expect(bare.failures.contains { $0.hasPrefix("sent a test notification without the [Test message] prefix in run 1 (test_notification)") }, "\(bare.failures)")
        let always = try await run("notify-async-url-us2", "PREFIX='[Test message] ' ; " + Self.poster, .notifier)
        #expect(always.failures.contains("marked an ordinary notification [Test message] in run 2 (notify 3): the prefix is for Test integration only"), "\(always.failures)")
        #expect(always.diagnosis?.category == .incorrectIntegrationParameters)
    }

    @Test(.enabled(if: tool("curl"), "needs curl"))
    func sendingWhileDisabledOrPastSixtyPercentIsNamed() async throws {
        let ignoresUser = try await run("notify-disabled-events-not-sent-later", "PREFIX= ; " + Self.poster, .notifier)
        #expect(ignoresUser.failures.contains { $0.hasPrefix("notified InsightConnect while the user had disabled the integration, in run 3 (notify 3)") },
                "\(ignoresUser.failures)")
        let schedule = "1 3 5 10 10 0 1 3 5 30 60 60 180 300 600 1800"
        let ignoresRule = try await run("notify-auto-disable", "PREFIX= SCHEDULE='\(schedule)' ; " + Self.poster, .notifier)
        #expect(ignoresRule.failures.first?.hasPrefix("kept notifying after the integration should have disabled itself at 15340s (5 of 5 notifications, 100%, unsuccessful in 43200s), in run 1 (notify 6)") == true,
                "\(ignoresRule.failures)")
        #expect(ignoresRule.failures.contains { $0.hasPrefix("did not say it disabled itself in run 1 (notify 6)") }, "\(ignoresRule.failures)")
        #expect(!ignoresRule.failures.contains { $0.contains("resent a notification") }, "the schedule was kept: \(ignoresRule.failures)")
        #expect(ignoresRule.diagnosis?.category == .integrationDisabled)
        // Counting every send: the rule trips at the second notification's send (3 of 5).
        let ignoresAttempts = try await run("notify-rule-counts-attempts-at-60-percent", "PREFIX= SCHEDULE='\(schedule)' ; " + Self.poster, .notifier)
        #expect(ignoresAttempts.failures.first?.hasPrefix("kept notifying after the integration should have disabled itself at 9s (3 of 5 requests (sends and resends), 60%, unsuccessful in 43200s), in run 1 (notify 3)") == true,
                "\(ignoresAttempts.failures)")
    }

    /// Holds the events of a `notify` while disabled and sends them all once enabled: the
    /// reading the seed's "disabling just stops sending notifications" rules out by default.
    static let catchingUp = #"""
        held="$R7_STATE_DIR/held"; touch "$held"
        post() { curl -sS -o /dev/null -w '%{http_code}' -H "X-Api-Key: $R7_TRIGGER_API_KEY" -H 'Content-Type: application/json' -d '{"events":['"$1"']}' "$R7_TRIGGER_URL"; }
        case "$R7_STEPS" in
        disable) touch "$R7_STATE_DIR/disabled" ;;
        enable) rm -f "$R7_STATE_DIR/disabled" ;;
        notify) if [ -e "$R7_STATE_DIR/disabled" ]; then cat "$R7_EVENTS_FILE" >> "$held"; else
                  cat "$held" "$R7_EVENTS_FILE" | while read -r event; do post "$event" > /dev/null; done; : > "$held"; fi ;;
        esac
        echo '{"state": "enabled"}'
        """#

    @Test(.enabled(if: tool("curl"), "needs curl"))
    func eventsFromWhileDisabledAreNotSentLaterUnlessQueued() async throws {
        let late = try await run("notify-disabled-events-not-sent-later", Self.catchingUp, .notifier)
        #expect(late.failures.contains { $0.hasPrefix("sent event notify-disabled-events-not-sent-later#2 in run 5 (notify 2), after re-enabling, though it arose or waited while the integration was disabled") },
                "\(late.failures)")
        #expect(late.diagnosis?.category == .integrationDisabled)
        // The other reading, asked for: the same client is right.
        let queued = try await run("notify-disabled-events-queued-setting", Self.catchingUp, .notifier)
        #expect(!queued.failures.contains { $0.contains("after re-enabling") }, "\(queued.failures)")
    }
}
