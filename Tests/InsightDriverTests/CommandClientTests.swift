import Foundation
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import InsightServer
import Testing

/// The repository's root, for the examples (tests may run from any folder).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The catalogue file of a scenario, in whichever seed folder it is (`seed-000/NAME.yaml` …).
func catalogueFile(_ name: String) -> String {
    let root = repositoryRoot + "/Scenarios"
    let found = ((try? FileManager.default.subpathsOfDirectory(atPath: root)) ?? []).first { ($0 as NSString).lastPathComponent == "\(name).yaml" }
    return root + "/" + (found ?? "\(name).yaml")
}

func tool(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
}

let examplesReady = tool("python3") && tool("curl")

/// A runner whose CA lives in a fresh temporary folder, and scenarios run from the repository root.
func commandRunner(override: ClientOverride? = nil) -> ScenarioRunner {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("insight-replay-ca-\(UUID().uuidString)").path
    return ScenarioRunner(caDirectory: folder, clientOverride: override)
}

/// Loads a scenario with its command run from the repository root.
func loadFromRoot(_ path: String) throws -> Scenario {
    var scenario = try ScenarioLoader.loadFile((repositoryRoot as NSString).appendingPathComponent(path))
    scenario.client.command?.directory = repositoryRoot
    return scenario
}

func commandScenario(_ command: String, extra: String = "", expect: String, steps: String = "") throws -> Scenario {
    try ScenarioLoader.parse("""
        name: command-test
        provenance: test
        tenant:
          region: us2
          users:
            - { email: svc@example.com, roles: [Insight IDR Analyst], products: [InsightIDR] }
          keys:
            - { id: main, kind: user, owner: svc@example.com }
        \(extra)
        client:
          command: \(command)
          url: https://us2.api.insight.rapid7.com
          token: { key: main }
          timeout: 30
        \(steps)
        expect:
        \(expect)
        """, file: "command-test.yaml")
}

@Suite struct CommandClientTests {
    static let exampleFiles = (try? FileManager.default.contentsOfDirectory(atPath: "\(repositoryRoot)/Examples/scenarios"))?
        .filter { $0.hasSuffix(".yaml") }.sorted() ?? []

    /// Every example scenario passes: curl and the Python client, unmodified, over HTTPS with
    /// certificate checks on, through the proxy, on the emulator's virtual clock.
    @Test(.enabled(if: examplesReady, "needs python3 and curl"), arguments: exampleFiles)
    func theExamplesPass(file: String) async throws {
        let scenario = try loadFromRoot("Examples/scenarios/\(file)")
        try #require(FakeTime.isInstalled || scenario.client.command?.faketime == false,
                     "\(file) runs under libfaketime: apt-get install faketime")
        #expect(scenario.client.command?.time == .virtual, "\(file): the examples run on virtual time")
        let result = await commandRunner().run(scenario)
        #expect(result.passed, "\(file): \(result.failures)\n\(result.clientOutput ?? "")")
        #expect(!result.journal.isEmpty)
    }

    @Test func theExamplesFolderHoldsCurlAndPythonScenarios() {
        #expect(Self.exampleFiles.contains { $0.hasPrefix("curl-") })
        #expect(Self.exampleFiles.contains { $0.hasPrefix("python-") })
    }

    /// The deliberately wrong client: a user sees which request came too early, and why.
    @Test(.enabled(if: examplesReady, "needs python3"))
    func aClientThatIgnoresRetryAfterIsToldSo() async throws {
        let scenario = try loadFromRoot("Examples/failing/python-ignores-retry-after.yaml")
        let result = await commandRunner().run(scenario)
        #expect(!result.passed)
        #expect(result.failures.contains { $0.hasPrefix("sent GET eu.api.insight.rapid7.com/validate ") && $0.contains("after a 429 whose Retry-After asked for 30s (request 1 → 2): wait as long as Retry-After says") })
        // Virtual time: its one-second sleeps are exactly one second.
        #expect(result.failures.contains("expected requests /validate at [0s, 30s, 60s], they came at [0s, 1s, 2s]"))
    }

    /// A canary key the client prints is a failure of its own, and is scrubbed from every report.
    @Test func aClientThatPrintsItsKeyFailsAndTheKeyIsScrubbed() async throws {
        let scenario = try commandScenario(#"'echo "using key $R7_API_KEY"; echo "key: $R7_KEY_MAIN" >&2'"#, expect: "  diagnosis: none")
        let result = await commandRunner().run(scenario)
        let secret = ScenarioWorld(scenario).resolve(.key("main", wrap: ""))
        #expect(result.failures.contains("the client printed an API key (key 'main') on stdout; a key must never be shown"))
        #expect(result.failures.contains("the client printed an API key (key 'main') on stderr; a key must never be shown"))
        let reports = [result.clientOutput ?? "", ConsoleReport.line(result), JUnitReport.xml([result], wallSeconds: 0)]
        for report in reports { #expect(!report.contains(secret)) }
        #expect(result.clientOutput?.contains("using key") == true)
    }

    @Test func exitCodeOutputAndReportedDataAreChecked() async throws {
        let scenario = try commandScenario(#"'echo "{\"investigations\": 3}"; echo "region us2 is fine" >&2; exit 4'"#, expect: """
              diagnosis: none
              exit_code: 4
              stderr_mentions: region us2
              output_not_mentions: traceback
              reported: { investigations: 3 }
            """)
        let result = await commandRunner().run(scenario)
        #expect(result.passed, "\(result.failures)")
        #expect(result.exitCode == 4)
        let wrong = try commandScenario(#"'echo "{\"investigations\": 2}"'"#, expect: """
              diagnosis: api_key_issues
              stdout_mentions: revoked
              reported: { investigations: 3, pages: 2 }
            """)
        let failed = await commandRunner().run(wrong)
        #expect(failed.failures == [
            "expected a non-zero exit code (the documented case is api_key_issues: the client must report a failure), the client exited 0",
            "expected stdout to mention 'revoked'; it is: {\"investigations\": 2}",
            "expected the client to report investigations = 3, it reported 2",
            "expected the client to report pages = 2, it reported nothing",
        ])
    }

    /// Waits between runs move the emulator's clock at once; the timeline follows it.
    @Test(.enabled(if: tool("curl"), "needs curl"))
    func runsWaitsAndTheTimelineShareOneClock() async throws {
        let scenario = try commandScenario(
            #"'curl -sS -o /dev/null -w "%{http_code}\n" -H "X-Api-Key: $R7_API_KEY" "$R7_BASE_URL/validate"'"#,
            extra: "timeline:\n  - { at: 1800, revoke_key: main }",
            expect: """
              diagnosis: none
              stdout_mentions: ["--- run 1 (run) ---\\n200", "--- run 2 (run) ---\\n401"]
              requests: { path: /validate, statuses: [200, 401], times: [0, 3600], headers: [x-api-key, user-agent] }
            """, steps: "steps: [run, { wait: 3600 }, run]")
        let result = await commandRunner().run(scenario)
        #expect(result.passed, "\(result.failures)\n\(result.clientOutput ?? "")")
        #expect(result.virtualSeconds >= 3600)
    }

    @Test func aCommandThatOutlivesItsTimeoutIsStopped() async throws {
        // Blocked with no timer (tail -f waits on inotify): virtual time cannot end it, the wall timeout does.
        var scenario = try commandScenario("[tail, -f, /dev/null]", expect: "  diagnosis: none")
        scenario.client.command?.timeout = 0.3
        let result = await commandRunner().run(scenario)
        #expect(result.failures.contains("the client was stopped after its timeout; it did not finish"))
    }

    @Test func aProgramThatDoesNotExistIsNamed() async throws {
        let scenario = try commandScenario("[no-such-client-program-x]", expect: "  diagnosis: none")
        let result = await commandRunner().run(scenario)
        #expect(result.failures.count == 1)
        #expect(result.failures[0].hasPrefix("the client could not be started: no-such-client-program-x was not found (exit 127)"))
    }

    @Test func builtInStepsCollapseIntoRunsBetweenWaits() {
        #expect(RunStep.collapse([.validate, .sync, .wait(7200), .sync]) == [.run("validate,sync"), .wait(7200), .run("sync")])
        #expect(RunStep.collapse([.wait(5), .validate]) == [.wait(5), .run("validate")])
        // A key pasted in mid-scenario ends a run: the next one starts with the new key.
        let new = TokenSpec.key("new", before: "", after: "")
        #expect(RunStep.collapse([.sync, .wait(60), .setToken(new), .validate, .sync])
                == [.run("sync"), .wait(60), .token(new), .run("validate,sync")])
    }

    /// `run --client`: the catalogue's seeds/000 scenarios judge any client by the seed's rules.
    @Test(.enabled(if: examplesReady, "needs python3"))
    func theCatalogueJudgesAUsersClient() async throws {
        let names = ["wrong-region-key-from-us3", "happy-path-us2-sync", "auth-failed-wrong-key"]
        let scenarios = try names.map { try ScenarioLoader.loadFile(catalogueFile($0)) }
        var good = CommandSpec(arguments: ["/bin/sh", "-c", "python3 Examples/python/insight_client.py"])
        good.directory = repositoryRoot
        for scenario in scenarios {
            let result = await commandRunner(override: ClientOverride(command: good, timeScale: 60)).run(scenario)
            #expect(result.passed, "\(scenario.name): \(result.failures)\n\(result.clientOutput ?? "")")
        }
        // A client that always exits 0 and retries a 401 is told both.
        var careless = CommandSpec(arguments: ["/bin/sh", "-c", #"for i in 1 2 3; do curl -s -o /dev/null -H "X-Api-Key: $R7_API_KEY" "$R7_BASE_URL/validate"; done; exit 0"#])
        careless.directory = repositoryRoot
        let result = await commandRunner(override: ClientOverride(command: careless, timeScale: 60)).run(scenarios[0])
        // The rules in the order the diagnosis ranks them: what it did, then how it exited.
        #expect(result.failures == [
            "sent GET us.api.insight.rapid7.com/validate 2 more time(s) after it was answered 401: a 401 is not transient; stop and tell the user what to fix",
            "never told the user that the key belongs to us3, not to the URL's us: the troubleshooting guide says to verify the region; name it (https://us3.api.insight.rapid7.com)",
            "exited 0, but the documented case here is wrong_regional_url (Wrong Regional URL): a client must report the failure (non-zero exit) and say what is wrong",
        ])
        #expect(result.diagnosis?.category == .wrongRegionalURL)
    }
}

@Suite struct CommandLoaderTests {
    func error(_ text: String) -> String { loaderError(text) }

    let base = """
        name: c
        provenance: test
        tenant: { region: us, keys: [{ id: main, kind: organization }] }
        """

    @Test func aCommandClientNeedsNoStepsAndRunsOnce() throws {
        let scenario = try ScenarioLoader.parse(base + "\nclient: { command: [python3, x.py], env: { MODE: fast, KEY2: { key: main } } }\nexpect: { diagnosis: none }",
                                                file: "ok.yaml")
        #expect(scenario.steps == [.run])
        #expect(scenario.client.command?.arguments == ["python3", "x.py"])
        #expect(scenario.client.command?.environment.map(\.name) == ["MODE", "KEY2"])
        let shell = try ScenarioLoader.parse(base + "\nclient: { command: 'curl -s x' }\nexpect: { diagnosis: none }", file: "ok.yaml")
        #expect(shell.client.command?.arguments == ["/bin/sh", "-c", "curl -s x"])
    }

    @Test func builtInStepsAndReportsDoNotApplyToACommand() {
        #expect(error(base + "\nclient: { command: [x] }\nsteps: [validate]\nexpect: { diagnosis: none }")
            == "bad.yaml:5:9: steps[0]: a command client takes the steps run and {wait: S}; validate is a step of the built-in clients")
        #expect(error(base + "\nclient: { command: [x] }\nexpect: { diagnosis: none, synced: { investigations: 1 } }")
            == "bad.yaml:5:9: expect: synced describes the built-in clients' reports; for a command use output_mentions, reported or requests")
        #expect(error(base + "\nclient: { url: https://us.api.insight.rapid7.com, token: { key: main } }\nsteps: [run]\nexpect: { diagnosis: none }")
            == "bad.yaml:5:9: steps[0]: run needs client.command")
    }

    @Test func timeIsVirtualUnlessScaledIsAskedFor() throws {
        let virtual = try ScenarioLoader.parse(base + "\nclient: { command: [x] }\nexpect: { diagnosis: none }", file: "ok.yaml")
        #expect(virtual.client.command?.time == .virtual)
        let scaled = try ScenarioLoader.parse(base + "\ntime_scale: 60\nclient: { command: [x], time: scaled, faketime: true }\nexpect: { diagnosis: none }", file: "ok.yaml")
        #expect(scaled.client.command?.time == .scaled)
        #expect(scaled.timeScale == 60)
        // faketime alone still means scaled time, as it did before virtual time existed.
        let implied = try ScenarioLoader.parse(base + "\ntime_scale: 60\nclient: { command: [x], faketime: true }\nexpect: { diagnosis: none }", file: "ok.yaml")
        #expect(implied.client.command?.time == .scaled)
        #expect(error(base + "\nclient: { command: [x], time: fast }\nexpect: { diagnosis: none }")
            == "bad.yaml:4:31: client.time: must be one of virtual, scaled, found 'fast'")
        #expect(error(base + "\nclient: { command: [x], time: virtual, faketime: true }\nexpect: { diagnosis: none }")
            == "bad.yaml:4:31: client.time: faketime goes with time: scaled (on virtual time the client's sleeps already take no wall time)")
        #expect(error(base + "\ntime_scale: 60\nclient: { command: [x] }\nexpect: { diagnosis: none }")
            == "bad.yaml:4:13: time_scale: time_scale goes with client.time: scaled; on virtual time (the default) a command client's time is exact")
        #expect(error(base + "\nclient: { url: https://us.api.insight.rapid7.com, token: { key: main }, time: scaled }\nsteps: [validate]\nexpect: { diagnosis: none }")
            == "bad.yaml:4:79: client.time: time goes with command (a client that is a program of yours)")
    }

    @Test func commandFieldsAreCheckedWhereTheyStand() {
        #expect(error(base + "\ntime_scale: 60\nclient: { url: https://us.api.insight.rapid7.com, token: { key: main } }\nsteps: [validate]\nexpect: { diagnosis: none }")
            == "bad.yaml:4:13: time_scale: time_scale applies to a command client; the built-in clients run on virtual time")
        #expect(error(base + "\nclient: { url: https://us.api.insight.rapid7.com, token: { key: main }, timeout: 5 }\nsteps: [validate]\nexpect: { diagnosis: none }")
            == "bad.yaml:4:82: client.timeout: timeout goes with command (a client that is a program of yours)")
        #expect(error(base + "\nclient: { command: [x], env: { 1BAD: x } }\nexpect: { diagnosis: none }")
            == "bad.yaml:4:30: client.env: '1BAD' is not a variable name (letters, digits, underscore)")
        #expect(error(base + "\nclient: { command: [x] }\nexpect: { diagnosis: none, requests: { path: validate } }")
            == "bad.yaml:5:38: expect.requests: path 'validate' must start with / (end it with * for a prefix)")
        #expect(error(base + "\nclient: { url: https://us.api.insight.rapid7.com, token: { key: main } }\nsteps: [validate]\nexpect: { diagnosis: none, exit_code: 0 }")
            == "bad.yaml:6:9: expect: exit_code applies to a command client (client.command)")
    }
}
