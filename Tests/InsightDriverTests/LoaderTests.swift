import Foundation
import InsightCore
import InsightEmulator
@testable import InsightDriver
@testable import InsightScenario
import Testing

/// What the loader says of `text` read as `bad.yaml`, or "no error".
func loaderError(_ text: String) -> String {
    do {
        _ = try ScenarioLoader.parse(text, file: "bad.yaml")
        return "no error"
    } catch {
        return "\(error)"
    }
}

@Suite struct LoaderErrorTests {
    let valid = try! String(contentsOf: Bundle.module.url(forResource: "valid", withExtension: "yaml", subdirectory: "Fixtures")!, encoding: .utf8)

    func error(_ text: String) -> String { loaderError(text) }

    @Test func theFixtureLoads() throws {
        let scenario = try ScenarioLoader.parse(valid, file: "valid.yaml")
        #expect(scenario.name == "fixture-valid")
        #expect(scenario.tenant.region == .us3)
        #expect(scenario.steps == [.validate])
        #expect(scenario.expect.diagnosis == .wrongRegionalURL)
        #expect(scenario.client.token == .key("main", wrap: ""))
    }

    @Test func anUnknownFieldNamesLineFieldAndTheNearestName() {
        let text = valid.replacingOccurrences(of: "  url: https", with: "  ulr: https")
        #expect(error(text) == "bad.yaml:10:3: client.ulr: unknown field; did you mean 'url'? allowed here: url, token, admin_token, service_user, max_attempts, audit, notifier, command")
        let optional = valid.replacingOccurrences(of: "  token: { key: main }\n", with: "  token: { key: main }\n  max_atempts: 2\n")
        #expect(error(optional) == "bad.yaml:12:3: client.max_atempts: unknown field; did you mean 'max_attempts'? allowed here: url, token, admin_token, service_user, max_attempts, audit, notifier, command")
    }

    @Test func aMisspeltRequiredFieldIsNamedWhereTheTypoIs() {
        let text = valid.replacingOccurrences(of: "  region: us3", with: "  regoin: us3")
        #expect(error(text) == "bad.yaml:4:3: tenant.regoin: unknown field; did you mean 'region'? (region is required here)")
    }

    @Test func aWrongTypeNamesWhatWasExpected() {
        let text = valid.replacingOccurrences(of: "requests: 3", with: "requests: three")
        #expect(error(text) == "bad.yaml:15:13: expect.requests: expected a whole number, found 'three'")
    }

    @Test func aMissingFieldNamesTheMapping() {
        let text = valid.replacingOccurrences(of: "provenance: test fixture\n", with: "")
        #expect(error(text) == "bad.yaml:1:1: missing required field 'provenance'")
    }

    @Test func aMissingNestedFieldNamesItsParent() {
        let text = valid.replacingOccurrences(of: "  region: us3\n", with: "")
        #expect(error(text) == "bad.yaml:4:3: tenant: missing required field 'region'")
    }

    @Test func aDanglingKeyReferenceListsTheKnownKeys() {
        let text = valid.replacingOccurrences(of: "token: { key: main }", with: "token: { key: mian }")
        #expect(error(text) == "bad.yaml:11:17: client.token.key: no key 'mian' in tenant.keys (known: main)")
    }

    @Test func anUnknownRegionListsTheRegions() {
        let text = valid.replacingOccurrences(of: "region: us3", with: "region: us4")
        #expect(error(text) == "bad.yaml:4:11: tenant.region: 'us4' is not a region; use one of us, us2, us3, eu, ca, au, ap, aps2, me1 or its name (e.g. United States - 3); did you mean 'us'?")
    }

    @Test func anUnknownDiagnosisListsTheCategories() {
        let text = valid.replacingOccurrences(of: "diagnosis: wrong_regional_url", with: "diagnosis: wrong_region")
        #expect(error(text).hasPrefix("bad.yaml:14:14: expect.diagnosis: 'wrong_region' is not one of: none, authentication_failed, "))
    }

    @Test func anUnknownStepNamesItsIndex() {
        let text = valid.replacingOccurrences(of: "steps: [validate]", with: "steps: [validate, synch]")
        #expect(error(text) == "bad.yaml:12:19: steps[1]: 'synch' is not a step; did you mean 'sync'?; a step is one of: validate, sync, audit_pull, test_notification, run, {wait: S}, {audit_pull: {stop_after: N}}, {notify: {events: N}}, {notifier: enable|disable|delete}, {set_token: TOKEN}")
    }

    @Test func invalidYAMLGivesTheParsersLine() {
        let text = valid.replacingOccurrences(of: "steps: [validate]", with: "steps: [validate")
        #expect(error(text) == "bad.yaml:13:7: invalid YAML: did not find expected ',' or ']'")
        #expect(error(text).contains("invalid YAML"))
    }

    @Test func aDuplicateKeyIsAnError() {
        let text = valid + "name: again\n"
        #expect(error(text) == "bad.yaml:1:1: duplicate key 'name' in this mapping; each field may appear once")
    }

    @Test func aUserKeyNeedsAKnownOwner() {
        let text = valid.replacingOccurrences(of: "owner: svc@example.com", with: "owner: nobody@example.com")
        #expect(error(text) == "bad.yaml:8:38: tenant.keys[0].owner: no user 'nobody@example.com' in tenant.users")
    }

    @Test func aFaultAnswersAnyErrorOrRedirectWithItsOwnBodyAndHeaders() throws {
        #expect(error(valid + "faults:\n  - { status: 200, count: 1 }\n") == "bad.yaml:17:15: faults[0].status: must be between 300 and 599, found 200")
        #expect(error(valid + "faults:\n  - { status: 302, count: 1 }\n") == "bad.yaml:17:15: faults[0].status: a 302 redirect needs headers: { Location: URL }")
        #expect(error(valid + "faults:\n  - { status: 404, count: 1, headers: { \"Bad Name\": x } }\n")
            == "bad.yaml:17:53: faults[0].headers.Bad Name: 'Bad Name' is not a header name (letters, digits and - _ .)")
        #expect(error(valid + "faults:\n  - { reset: true, count: 1, body: x }\n") == "bad.yaml:17:36: faults[0].body: body goes with status")
        let scenario = try ScenarioLoader.parse(valid + """
            faults:
              - { path: /validate, status: 404, count: 1, body: '{"message":"gone"}', headers: { X-Request-Id: abc } }
              - { status: 302, count: 1, headers: { Location: "https://insight.rapid7.com/login" } }
              - { status: 503, count: 1 }
            """, file: "v.yaml")
        #expect(scenario.faults.map(\.effect) == [
            .answer(FaultAnswer(status: 404, body: #"{"message":"gone"}"#, headers: ["X-Request-Id": "abc"])),
            .answer(FaultAnswer(status: 302, headers: ["Location": "https://insight.rapid7.com/login"])),
            .status(503, retryAfter: nil),
        ])
    }

    @Test func aTimelineEventNeedsExactlyOneAction() {
        let text = valid + "timeline:\n  - { at: 5, revoke_key: main, lock_user: svc@example.com }\n"
        #expect(error(text).hasPrefix("bad.yaml:17:5: timeline[0]: needs exactly one action of: revoke_key, "))
    }

    @Test func aStepNeedsItsIntegrationConfigured() {
        let text = valid.replacingOccurrences(of: "steps: [validate]", with: "steps: [validate, audit_pull]")
        #expect(error(text) == "bad.yaml:12:19: steps[1]: audit_pull needs client.audit")
        let notify = valid.replacingOccurrences(of: "steps: [validate]", with: "steps: [{ notify: { events: 2 } }]")
        #expect(error(notify) == "bad.yaml:12:9: steps[0]: notify 2 needs client.notifier")
    }

    @Test func aClientNeedsAtLeastOneIntegration() {
        let text = valid.replacingOccurrences(of: "  url: https://us.api.insight.rapid7.com\n  token: { key: main }\n", with: "  max_attempts: 2\n")
        #expect(error(text) == "bad.yaml:10:3: client: configure at least one integration: url + token (a SIEM connector), audit (an audit-log pull), notifier (an InsightConnect trigger) or command (your own client)")
        let half = valid.replacingOccurrences(of: "  token: { key: main }\n", with: "")
        #expect(error(half) == "bad.yaml:10:3: client: url goes with token (a SIEM connector's settings); add token")
    }

    @Test func auditAndNotifierClientsLoad() throws {
        let text = valid.replacingOccurrences(of: "  token: { key: main }\n", with: """
              token: { key: main }
              audit: { storage_region: United States - 3, token: { key: main }, per_page: 50 }
              notifier: { url: https://us3.api.insight.rapid7.com/connect/v1/execute/async/workflows/abc, token: { key: main } }

            """).replacingOccurrences(of: "steps: [validate]", with: "steps: [audit_pull, { audit_pull: { stop_after: 3 } }, test_notification, { notify: { events: 2 } }]")
        let scenario = try ScenarioLoader.parse(text, file: "ok.yaml")
        #expect(scenario.client.audit?.storageRegion == "United States - 3")
        #expect(scenario.client.audit?.perPage == 50)
        #expect(scenario.client.notifier?.minimumRequests == 5)
        #expect(scenario.steps == [.auditPull(stopAfter: nil), .auditPull(stopAfter: 3), .testNotification, .notify(events: 2)])
    }

    @Test func aByteThatIsNotUTF8IsNamedByLineAndColumn() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("latin1-\(UUID().uuidString).yaml").path
        // "Café" in Latin-1, as an editor with the wrong encoding saves it.
        try Data(Array("name: x\nprovenance: Caf".utf8) + [0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect(throws: ScenarioError.self) { try ScenarioLoader.loadFile(path) }
        do { _ = try ScenarioLoader.loadFile(path) } catch {
            #expect("\(error)" == "\(path):2:16: byte 0xE9 at line 2, column 16 is not UTF-8; save the file as UTF-8 text")
        }
        do { _ = try ScenarioLoader.loadFile(path + ".missing") } catch {
            #expect("\(error)" == "\(path).missing: cannot read the file; check that it exists and is readable")
        }
    }

    @Test func aControlCharacterIsPlacedByLineAndColumn() {
        #expect(error("name: x\nprovenance: a\u{0}b\n") == "bad.yaml:2:14: invalid YAML: control characters are not allowed (character 0x0); remove it")
    }

    @Test func tagsAndCoveredSeedRowsAreRead() throws {
        let text = valid.replacingOccurrences(of: "name: fixture-valid\n", with: "name: fixture-valid\ntags: [wrong-url, seed-000]\ncovers: [000/wrong-url/wrong-region]\n")
        let scenario = try ScenarioLoader.parse(text, file: "valid.yaml")
        #expect(scenario.tags == ["wrong-url", "seed-000"])
        #expect(scenario.covers == ["000/wrong-url/wrong-region"])
        // A single value is a list of one.
        let single = try ScenarioLoader.parse(valid.replacingOccurrences(of: "name: fixture-valid\n", with: "name: fixture-valid\ntags: slow\n"), file: "valid.yaml")
        #expect(single.tags == ["slow"])
    }

    @Test func aBadTagOrAnUnknownSeedRowIsNamedWithTheNearestRow() {
        func with(_ line: String) -> String { error(valid.replacingOccurrences(of: "name: fixture-valid\n", with: "name: fixture-valid\n\(line)\n")) }
        #expect(with("tags: [Wrong URL]") == "bad.yaml:2:8: tags[0]: 'Wrong URL' must be lowercase letters, digits and dashes (run --filter tag:wrong url selects by it)")
        #expect(with("tags: [a, a]") == "bad.yaml:2:11: tags[1]: 'a' is listed twice")
        #expect(with("covers: [000/no-data/initial-synch]") == "bad.yaml:2:10: covers[0]: '000/no-data/initial-synch' is not a documented row; did you mean '000/no-data/initial-sync'? `insight-replay run --coverage` lists the rows")
        #expect(with("covers: [nothing]") == "bad.yaml:2:10: covers[0]: 'nothing' is not a documented row; `insight-replay run --coverage` lists the rows")
        #expect(with("covers: {a: b}") == "bad.yaml:2:9: covers: expected a list, found a mapping")
    }

    @Test func causeExpectationsAreReadStrictly() throws {
        func expectLines(_ lines: String) -> String { error(valid.replacingOccurrences(of: "  requests: 3", with: "  requests: 3\n" + lines)) }
        #expect(expectLines("  causes: [{ cause: x, rank: 0 }]") == "bad.yaml:16:30: expect.causes[0].rank: must be between 1 and 20, found 0")
        #expect(expectLines("  causes: [{ cause: x, likelihood: probable }]")
            == "bad.yaml:16:36: expect.causes[0].likelihood: 'probable' is not one of: confirmed, likely, possible, not_checked, ruled_out")
        #expect(expectLines("  causes: [{ cuase: x }]").hasPrefix("bad.yaml:16:14: expect.causes[0].cuase: unknown field; did you mean 'cause'?"))
        #expect(expectLines("  ranked: []") == "bad.yaml:16:11: expect.ranked: needs the causes in order, most likely first")
        let scenario = try ScenarioLoader.parse(valid.replacingOccurrences(of: "  requests: 3", with: "  requests: 3\n  causes: [a, { cause: b, rank: 2, likelihood: not_checked }]\n  delivery_not_mentions: \"[Test message]\""), file: "v.yaml")
        #expect(scenario.expect.causes == [CauseExpectation(cause: "a"), CauseExpectation(cause: "b", rank: 2, likelihood: .notChecked)])
        #expect(scenario.expect.deliveryNotMentions == ["[Test message]"])
    }

    @Test func aKeyMayCarryASlip() throws {
        func token(_ text: String) throws -> TokenSpec? {
            try ScenarioLoader.parse(valid.replacingOccurrences(of: "  token: { key: main }", with: "  token: \(text)"), file: "v.yaml").client.token
        }
        #expect(try token("{ key: main, edit: { drop_last: 1 } }") == .edited("main", .dropLast(1)))
        #expect(try token("{ key: main, edit: { swap_at: 3 } }") == .edited("main", .swap(at: 3)))
        #expect(KeyEdit.swap(at: 1).apply("abcd") == "acbd")
        #expect(KeyEdit.dropLast(2).apply("abcd") == "ab")
        #expect(KeyEdit.upperCase.apply("ab-9f") == "AB-9F")
        func bad(_ text: String) -> String { error(valid.replacingOccurrences(of: "  token: { key: main }", with: "  token: \(text)")) }
        #expect(bad("{ key: main, edit: { drop_last: 1, swap_at: 2 } }") == "bad.yaml:11:29: client.token.edit: an edit is one of: drop_last: N, drop_first: N, swap_at: N, upper_case: true")
        #expect(bad("{ literal: x, edit: { drop_last: 1 } }") == "bad.yaml:11:30: client.token.edit: edit applies to key: ID (the tenant's key with a slip in it)")
    }

    @Test func whitespaceMayWrapOneSideOfAKey() throws {
        func token(_ text: String) throws -> TokenSpec? {
            try ScenarioLoader.parse(valid.replacingOccurrences(of: "  token: { key: main }", with: "  token: \(text)"), file: "v.yaml").client.token
        }
        #expect(try token(#"{ key: main, wrap: { before: "", after: "\n" } }"#) == .key("main", before: "", after: "\n"))
        #expect(try token(#"{ key: main, wrap: "  " }"#) == .key("main", wrap: "  "))
        #expect(error(valid.replacingOccurrences(of: "  token: { key: main }", with: #"  token: { key: main, wrap: { after: "x" } }"#))
            == "bad.yaml:11:29: client.token.wrap: wrap may hold only spaces, tabs and line breaks")
        #expect(error(valid.replacingOccurrences(of: "  token: { key: main }", with: #"  token: { key: main, wrap: { left: " " } }"#))
            == "bad.yaml:11:31: client.token.wrap.left: unknown field; allowed here: before, after")
        #expect(error(valid.replacingOccurrences(of: "  token: { key: main }", with: #"  token: { literal: abc, wrap: " " }"#))
            == "bad.yaml:11:10: client.token: wrap applies to key: ID (the tenant's key with whitespace around it)")
    }

    @Test func theAutoDisableRuleCanBeStated() throws {
        let notifier = """
            name: n
            provenance: t
            tenant: { region: us, keys: [{ id: main, kind: organization }] }
            client:
              notifier:
                url: https://us.api.insight.rapid7.com/connect/v1/workflows/5e2b1c4d-6a7f-4b8c-9d0e-1f2a3b4c5d6e/events/execute
                token: { key: main }

            """
        let tail = "steps: [{ notify: { events: 1 } }]\nexpect: { diagnosis: none }\n"
        func spec(_ lines: String) throws -> NotifierSpec? { try ScenarioLoader.parse(notifier + lines + tail, file: "n.yaml").client.notifier }
        let defaults = try #require(try spec(""))
        #expect(defaults.disableThreshold == 0.6 && defaults.disableWindow == 43_200 && defaults.minimumRequests == 5)
        #expect(try spec("    disable_threshold: 50%\n    disable_window: 3600\n")?.disableThreshold == 0.5)
        #expect(try spec("    disable_threshold: 0.75\n")?.disableThreshold == 0.75)
        #expect(error(notifier + "    disable_threshold: 150%\n" + tail) == "bad.yaml:8:24: client.notifier.disable_threshold: must be above 0 and at most 1 (or 100%), found 1.5")
        #expect(error(notifier + "    disable_window: 0\n" + tail) == "bad.yaml:8:21: client.notifier.disable_window: must be 1.0 or more, found 0.0")
    }

    @Test func notifierLifecycleStepsAndExpectationsAreRead() throws {
        let base = try String(contentsOfFile: repositoryRoot + "/Scenarios/seed-003/notify-disabled-events-not-sent-later.yaml", encoding: .utf8)
        let scenario = try ScenarioLoader.parse(base, file: "n.yaml")
        #expect(scenario.steps == [.notify(events: 1), .notifier(.disable), .notify(events: 3), .notifier(.enable), .notify(events: 2)])
        #expect(scenario.expect.notifierState == "enabled")
        #expect(scenario.expect.notificationsNotSent == 3)
        #expect(scenario.expect.stepDiagnoses == [nil, .integrationDisabled, nil])
        #expect(scenario.expect.systemMessages.count == 2)
        #expect(scenario.client.notifier?.whileDisabled == .drop && scenario.client.notifier?.disableCounts == .notifications)
        #expect(error(base.replacingOccurrences(of: "{ notifier: disable }", with: "{ notifier: pause }"))
            == "bad.yaml:18:48: steps[1].notifier: 'pause' is not one of: enable, disable, delete")
        #expect(error(base.replacingOccurrences(of: "state: enabled", with: "state: gone"))
            == "bad.yaml:22:70: expect.notifications.state: 'gone' is not one of: enabled, disabled, deleted")
        #expect(error(base.replacingOccurrences(of: "token: { key: main }", with: "token: { key: main }\n    while_disabled: keep"))
            == "bad.yaml:18:21: client.notifier.while_disabled: 'keep' is not one of: drop, queue")
        #expect(error(base.replacingOccurrences(of: "token: { key: main }", with: "token: { key: main }\n    disable_counts: sends"))
            == "bad.yaml:18:21: client.notifier.disable_counts: 'sends' is not one of: notifications, attempts")
    }

    @Test func aRoleChangeNamesARoleTheUserHas() {
        let text = valid.replacingOccurrences(of: "client:", with: "timeline:\n  - { at: 5, change_role: { user: svc@example.com, from: Platform Admin, to: Insight IDR Read Only } }\nclient:")
        #expect(error(text) == "bad.yaml:10:27: timeline[0].change_role: svc@example.com has no role 'Platform Admin' to change")
        let typo = valid.replacingOccurrences(of: "client:", with: "timeline:\n  - { at: 5, add_role: { user: svc@example.com, role: Log Serch View Only } }\nclient:")
        #expect(error(typo).hasSuffix("timeline[0].add_role.role: 'Log Serch View Only' is not a role the platform knows: Insight IDR Analyst, Insight IDR Administrator, Insight IDR Read Only, Log Search View Only, Log Search Admin, Platform Admin, InsightConnect Admin; did you mean 'Log Search View Only'?"), "\(error(typo))")
    }

    @Test func aRegionTypoGetsTheNearestRegion() {
        #expect(error(valid.replacingOccurrences(of: "  region: us3", with: "  region: us33")).hasSuffix("or its name (e.g. United States - 3); did you mean 'us3'?"))
        #expect(error(valid.replacingOccurrences(of: "  region: us3", with: "  region: Europa")).hasSuffix("did you mean 'Europe'?"))
    }

    /// A first draft with eleven independent mistakes gets all eleven in one run, each where it
    /// is, with the allowed values and the nearest one: no fix-and-rerun rounds.
    @Test func everyIndependentMistakeComesInOnePass() throws {
        let text = try String(contentsOf: Bundle.module.url(forResource: "many-mistakes", withExtension: "yaml", subdirectory: "Fixtures")!, encoding: .utf8)
        let lines = error(text).split(separator: "\n").map(String.init)
        let expected = [
            "bad.yaml:6:41: tenant.users[0].roles[0]: 'Insight IDR Analist' is not a role the platform knows",
            "bad.yaml:6:74: tenant.users[0].products[0]: 'InsightIDRR' is not a product the platform knows: InsightIDR, InsightConnect, InsightOps; did you mean 'InsightIDR'?",
            "bad.yaml:7:7: tenant.users[1]: duplicate user svc@example.com",
            "bad.yaml:10:7: tenant.keys[1]: duplicate key id 'main'",
            "bad.yaml:10:25: tenant.keys[1].kind: 'organisation' is not one of: user, organization; did you mean 'organization'?",
            "bad.yaml:12:13: tenant.workflows[0].id: 'my-workflow' is not a workflow id",
            "bad.yaml:14:15: faults[0].status: must be between 300 and 599, found 200",
            "bad.yaml:18:9: steps[0]: 'validat' is not a step; did you mean 'validate'?",
            "bad.yaml:18:26: steps[1].wait: must be 0.0 or more, found -5.0",
            "bad.yaml:21:13: expect.synced.log_source: unknown field; did you mean 'log_sources'?",
            "bad.yaml:21:28: expect.synced.events: unknown field",
        ]
        #expect(lines.count == expected.count, "\(lines.joined(separator: "\n"))")
        for (line, prefix) in zip(lines, expected) { #expect(line.hasPrefix(prefix), "\(line)") }
    }

    @Test func arrivingDataIsReadStrictly() {
        func with(_ event: String, data: String = "") -> String {
            error(valid.replacingOccurrences(of: "client:", with: "\(data)timeline:\n  - \(event)\nclient:"))
        }
        #expect(with("{ at: 0, add_investigations: 5 }") == "bad.yaml:10:11: timeline[0].at: data arrives at 1 s or later (it is made in the second before)")
        #expect(with("{ at: 5, add_investigations: 0 }") == "bad.yaml:10:34: timeline[0].add_investigations: must be between 1 and 100000, found 0")
        #expect(with("{ at: 5, add_audit_events: 3 }") == "bad.yaml:10:32: timeline[0].add_audit_events: audit events need the audit log: give tenant.data.audit_events")
        #expect(with("{ at: 5, add_log_events: 3 }").hasSuffix("log events need logs: give tenant.data.log_sources"))
    }

    @Test func setTokenNamesAKnownKey() {
        #expect(error(valid.replacingOccurrences(of: "steps: [validate]", with: "steps: [validate, { set_token: { key: other } }]"))
            == "bad.yaml:12:39: steps[1].set_token.key: no key 'other' in tenant.keys (known: main)")
    }

    @Test func everySeedRowHasAUniqueIdOfItsSeed() {
        let ids = SeedRows.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(Set(SeedRows.all.map(\.seed)) == ["000", "002", "003"])
        // The six troubleshooting sections of seeds/000, each cause a row.
        #expect(ids.filter { $0.hasPrefix("000/") && ["auth-failed", "permissions", "no-data", "wrong-url", "key-issues", "service-user"].contains($0.split(separator: "/")[1]) }.count == 20)
    }

    /// Every problem of a file in one pass, in file order: a fix-run-fix loop of one error at a
    /// time is what a strict loader must not cost its users.
    @Test func everyErrorOfAFileIsReportedTogether() {
        let text = """
            name: Bad Name
            provenance: t
            tenant:
              region: mars
            faults:
              - { status: 200, count: 1 }
              - { latency: 1 }
            client: { url: x }
            steps: [validate]
            expect:
              diagnosis: nothing
            extra: 1

            """
        #expect(error(text) == """
            bad.yaml:1:7: name: 'Bad Name' must be lowercase letters, digits and dashes
            bad.yaml:4:3: tenant: missing required field 'keys'
            bad.yaml:4:11: tenant.region: 'mars' is not a region; use one of us, us2, us3, eu, ca, au, ap, aps2, me1 or its name (e.g. United States - 3)
            bad.yaml:6:15: faults[0].status: must be between 300 and 599, found 200
            bad.yaml:7:5: faults[1]: missing required field 'count'
            bad.yaml:8:9: client: url goes with token (a SIEM connector's settings); add token
            bad.yaml:11:14: expect.diagnosis: 'nothing' is not one of: none, authentication_failed, insufficient_permissions, no_data_syncing, wrong_regional_url, api_key_issues, service_user_account_problems, rate_limited, service_unavailable, audit_logging_not_enabled, incorrect_integration_parameters, integration_disabled, integration_deleted, replay_miss
            bad.yaml:12:1: extra: unknown field; allowed here: name, provenance, description, seed, start, tenant, faults, timeline, client, steps, time_scale, expect, recordings, recorded_auth, stop_on_failure, assumed, tags, covers
            """)
        // With the tenant sound, what refers to it is read too (a bad key reference), and the
        // steps are read whatever became of the client.
        let dependent = valid.replacingOccurrences(of: "token: { key: main }", with: "token: { key: mian }")
            .replacingOccurrences(of: "steps: [validate]", with: "steps: [validate, explode]")
            .replacingOccurrences(of: "  diagnosis: wrong_regional_url", with: "  diagnosis: wrong")
        #expect(error(dependent).split(separator: "\n").map { $0.split(separator: ":").prefix(4).joined(separator: ":") } == [
            "bad.yaml:11:17: client.token.key", "bad.yaml:12:19: steps[1]", "bad.yaml:14:14: expect.diagnosis",
        ], "\(error(dependent))")
    }

    /// The new expectation fields refuse bad input, all in one pass.
    @Test func badExpectationFieldsAreAllNamed() {
        let text = valid.replacingOccurrences(of: "  requests: 3", with: """
              evidence_lines: one line
              log_mentions: { a: b }
              synced: { duplicates: -1 }
              audit: { alert_at: soon }
              notifications: { state: asleep }
            """)
        #expect(error(text) == """
            bad.yaml:15:19: expect.evidence_lines: expected a list, found a scalar
            bad.yaml:16:17: expect.log_mentions: expected a list, found a mapping
            bad.yaml:17:25: expect.synced.duplicates: must be between 0 and 1000000, found -1
            bad.yaml:18:22: expect.audit.alert_at: expected a number, found 'soon'
            bad.yaml:19:27: expect.notifications.state: 'asleep' is not one of: enabled, disabled, deleted
            """)
    }

    @Test func anEmptyFileSaysWhatAScenarioNeeds() {
        #expect(error("") == "bad.yaml: the file is empty; a scenario needs name, provenance, tenant, client, steps and expect")
    }

    @Test func serviceUserNeedsAnAdminToken() {
        let text = valid.replacingOccurrences(of: "  token: { key: main }\n", with: "  token: { key: main }\n  service_user: svc@example.com\n")
        #expect(error(text) == "bad.yaml:12:17: client.service_user: service_user is looked up with admin_token; add admin_token")
    }
}

@Suite struct CatalogueLoadingTests {
    func folder(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scenarios-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8) }
        return dir
    }

    let valid = try! String(contentsOf: Bundle.module.url(forResource: "valid", withExtension: "yaml", subdirectory: "Fixtures")!, encoding: .utf8)

    @Test func everyBadFileIsReportedAndNothingLoads() throws {
        let dir = try folder(["a.yaml": valid, "b.yaml": "name: [", "c.yaml": valid.replacingOccurrences(of: "steps: [validate]", with: "steps: []")])
        do {
            _ = try ScenarioLoader.load(paths: [dir])
            Issue.record("expected errors")
        } catch let errors as ScenarioError {
            #expect(errors.errors.map { ($0.file as NSString).lastPathComponent } == ["b.yaml", "c.yaml"])
            #expect(errors.errors[1].message == "needs at least one step (validate, sync, run or wait)")
        }
    }

    @Test func duplicateNamesAcrossFilesAreAnError() throws {
        let dir = try folder(["a.yaml": valid, "b.yaml": valid])
        let error = #expect(throws: ScenarioError.self) { try ScenarioLoader.load(paths: [dir]) }
        #expect(error?.remedy.hasPrefix("correct the files above (docs/SCENARIOS.md gives the format)") == true)
    }

    @Test func aMissingPathSaysWhatToGive() {
        do {
            _ = try ScenarioLoader.load(paths: ["/nonexistent/Scenarios"])
        } catch {
            #expect("\(error)" == "/nonexistent/Scenarios: no such file or folder; give a scenario file or a folder of them")
        }
    }

    /// The bundled catalogue: it loads, names its provenance, and covers every seeds/000 row.
    @Test func theBundledCatalogueCoversEveryTroubleshootingRow() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let scenarios = try ScenarioLoader.load(paths: [root.appendingPathComponent("Scenarios").path])
        #expect(scenarios.count >= 12)
        let categories = Set(scenarios.compactMap(\.expect.diagnosis))
        for category in [DiagnosisCategory.authenticationFailed, .insufficientPermissions, .noDataSyncing, .wrongRegionalURL,
                         .apiKeyIssues, .serviceUserAccountProblems] {
            #expect(categories.contains(category), "\(category)")
        }
        #expect(scenarios.allSatisfy { ["seeds/", "reference", "Recordings/"].contains(where: $0.provenance.contains) })
    }
}

/// The sizes a generated tenant may take (issue 13): up to a million investigations and a
/// hundred million events, each limit named with the line and field that passes it.
@Suite struct DataSizeLoaderTests {
    static func scenario(data: String) -> String {
        """
        name: sized
        provenance: issue 13
        tenant:
          region: us
          users: [{ email: svc@example.com, roles: [Insight IDR Analyst], products: [InsightIDR] }]
          keys: [{ id: main, kind: user, owner: svc@example.com }]
          data: \(data)
        client: { url: https://us.api.insight.rapid7.com, token: { key: main } }
        steps: [validate]
        expect: { diagnosis: none }
        """
    }

    @Test func theLargestTenantLoads() throws {
        let text = Self.scenario(data: "{ investigations: 1000000, log_sources: 10, events_per_log: 10000000, audit_events: 100000000 }")
        let scenario = try ScenarioLoader.parse(text, file: "sized.yaml")
        #expect(scenario.tenant.data.investigations == 1_000_000)
        #expect(scenario.tenant.data.eventsPerLog == 10_000_000)
        #expect(scenario.tenant.data.auditEvents == 100_000_000)
    }

    @Test func aMillionAndOneInvestigationsIsRefusedAtItsField() {
        #expect(loaderError(Self.scenario(data: "{ investigations: 1000001 }"))
            == "bad.yaml:7:27: tenant.data.investigations: must be between 0 and 1000000, found 1000001")
    }

    @Test func moreThanAHundredMillionEventsInAllIsRefusedWithBothNumbers() {
        #expect(loaderError(Self.scenario(data: "{ log_sources: 11, events_per_log: 10000000 }"))
            == "bad.yaml:7:44: tenant.data.events_per_log: log_sources × events_per_log is 11 × 10000000; at most 100000000 log events in all")
    }
}

/// `run --filter`, `--shard` and `--coverage` on the catalogue's scenarios.
@Suite struct SelectionTests {
    static let catalogue = try! ScenarioLoader.load(paths: [repositoryRoot + "/Scenarios"])

    @Test func filtersAreNameGlobsOrTagsAndAnyOneSelects() throws {
        let audit = try ScenarioSelection(filters: ["audit-*"]).apply(Self.catalogue)
        #expect(!audit.isEmpty && audit.allSatisfy { $0.name.hasPrefix("audit-") })
        let tagged = try ScenarioSelection(filters: ["tag:notifier"]).apply(Self.catalogue)
        #expect(tagged.map(\.name) == Self.catalogue.filter { $0.tags.contains("notifier") }.map(\.name).sorted())
        // Tags are globs too.
        #expect(try ScenarioSelection(filters: ["tag:seed-00*"]).apply(Self.catalogue).count == Self.catalogue.filter { $0.tags.contains { $0.hasPrefix("seed-00") } }.count)
        let both = try ScenarioSelection(filters: ["audit-*", "tag:notifier"]).apply(Self.catalogue)
        #expect(both.count == audit.count + tagged.count)
        let error = #expect(throws: ScenarioError.self) { try ScenarioSelection(filters: ["tag:nothing-has-this"]).apply(Self.catalogue) }
        #expect(error?.problem == "--filter tag:nothing-has-this selects no scenario")
        #expect(error?.remedy.contains("tags are tag:NAME") == true)
        do { _ = try ScenarioSelection(filters: ["audti-*"]).apply(Self.catalogue) } catch {
            #expect("\(error)".hasPrefix("--filter audti-* selects no scenario; names are globs (audit-*), tags are tag:NAME (tags in use: "))
        }
        // A typo of a name or a tag is named with what it most likely meant (a glob is no typo).
        do { _ = try ScenarioSelection(filters: ["tag:notifer", "happy-path-us2-synk"]).apply(Self.catalogue) } catch {
            #expect("\(error)".hasPrefix("--filter tag:notifer happy-path-us2-synk selects no scenario; did you mean 'tag:notifier' for 'tag:notifer'? did you mean 'happy-path-us2-sync' for 'happy-path-us2-synk'? names are globs"), "\(error)")
        }
        #expect(ScenarioSelection.nearest("audti-*", among: ["audit-x"]) == nil)
        #expect(ScenarioSelection.nearest("happy-path-us2-synk", among: Self.catalogue.map(\.name)) == "happy-path-us2-sync")
    }

    @Test func shardsPartitionTheCatalogueDeterministically() throws {
        for count in [1, 2, 3, 7, 100] {
            var seen: [String] = []
            for index in 1...count {
                let shard = try ScenarioSelection(shard: .init(parsing: "\(index)/\(count)")).apply(Self.catalogue)
                #expect(try ScenarioSelection(shard: .init(parsing: "\(index)/\(count)")).apply(Self.catalogue.reversed()).map(\.name) == shard.map(\.name),
                        "the same shard whatever order the files were read in")
                seen += shard.map(\.name)
            }
            #expect(seen.sorted() == Self.catalogue.map(\.name).sorted(), "every scenario in exactly one of \(count) shards")
        }
        for bad in ["0/2", "3/2", "2", "a/b", "1/0", "1/1001", "1/2/3"] {
            #expect(throws: ScenarioError.self) { try ScenarioSelection.Shard(parsing: bad) }
        }
    }

    @Test func aRowIsCoveredOnlyByAPassingScenario() {
        let catalogue = Self.catalogue
        let all = Coverage(catalogue.map { ($0, true) })
        #expect(all.lines.count == SeedRows.all.count)
        #expect(all.lines.first { $0.row.id == "000/key-issues/password-changed" }?.passing == ["key-issues-password-changed"])
        // The one scenario of a row failing: the row is uncovered, and the table says which scenario failed.
        let failing = Coverage(catalogue.map { ($0, $0.name != "key-issues-password-changed") })
        #expect(failing.uncovered.map(\.id) == ["000/key-issues/password-changed"])
        #expect(failing.text().contains("✗ 000/key-issues/password-changed"))
        #expect(failing.text().contains("failing: key-issues-password-changed"))
        #expect(all.uncovered.isEmpty, "every seed row has a passing scenario: \(all.uncovered.map(\.id))")
        #expect(all.text().hasSuffix("uncovered: \(all.uncovered.map(\.id).joined(separator: ", "))") || all.uncovered.isEmpty)
    }
}

/// A catalogue run that can run nothing says why and what to do, and keeps the bad files for
/// the reports.
@Suite struct CatalogueRefusalTests {
    let valid = try! String(contentsOf: Bundle.module.url(forResource: "valid", withExtension: "yaml", subdirectory: "Fixtures")!, encoding: .utf8)

    func folder(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalogue-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8) }
        return dir
    }

    func catalogue(_ paths: [String]) -> CatalogueRun {
        var run = CatalogueRun(store: ":memory:", jobs: 1, coverageLabel: "test")
        run.paths = paths
        run.noStore = true
        return run
    }

    @Test func badScenarioFilesAreNamedAndKeptForTheReports() throws {
        let dir = try folder(["a.yaml": valid, "b.yaml": "name: ["])
        let error = #expect(throws: DriverError.self) { _ = try catalogue([dir]).select() }
        #expect(error?.problem.hasPrefix("\(dir)/b.yaml:") == true)
        #expect(error?.remedy.hasPrefix("correct the files above") == true)
        #expect(error?.badFiles.map { ($0.file as NSString).lastPathComponent } == ["b.yaml"])
    }

    @Test func aSelectionOfNothingSaysHowToSelect() throws {
        var run = catalogue([try folder(["a.yaml": valid])])
        run.only = ["nope"]
        let error = #expect(throws: DriverError.self) { _ = try run.select() }
        #expect(error?.problem == "--only: no scenario named nope")
        #expect(error?.remedy == "`insight-replay list` shows the names")
        #expect(error?.badFiles.isEmpty == true)
    }

    @Test func recordingsThatDoNotLoadStopTheRunAndSaySo() async throws {
        let scenarios = try folder(["a.yaml": valid])
        let recordings = try folder(["broken.json": "{ not json"])
        var run = catalogue([scenarios])
        run.recordingsFolder = recordings
        let selected = try run.select().scenarios
        let error = await #expect(throws: DriverError.self) { _ = try await run.run(selected) { _, _, _ in } }
        #expect(error?.problem.contains("broken.json: not JSON at line 1") == true)
        #expect(error?.remedy.hasSuffix("no scenario runs until the recordings load") == true)
    }
}
