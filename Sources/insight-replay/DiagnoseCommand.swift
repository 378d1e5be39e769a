import ArgumentParser
import Foundation
import InsightClient
import InsightCore
import InsightDriver
import Logging

struct DiagnoseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Put a customer's settings, exactly as typed, through the client's troubleshooting sequence and say what is wrong.",
        discussion: """
            One product's settings: --url with a token (a SIEM connector), --storage-region with an API key \
            (an audit-log pull) or --trigger-url with an API key (an InsightConnect trigger). Keys come from an environment \
            variable (--token-env) or standard input (--token-stdin), so they stay out of shell \
            history; on an emulated target --key names a tenant key by id instead. The key is never \
            printed and emails are masked.

            Targets: --emulate demo (the default) or --emulate FILE (a scenario: its tenant, faults, \
            timeline and steps, with these settings in place of its client's), --server URL (a running \
            `insight-replay serve`), or --live (the real Rapid7 hosts; read-only calls only, and a \
            the trigger's test message only with --send-test-message).

            Exit code 0 when nothing is wrong, 1 when something is, 2 on bad input.
            """)

    @Option(name: .long, help: "A SIEM connector's URL as the customer typed it (with a token).")
    var url: String?

    @Option(name: .long, help: "An audit-log pull's storage region as the customer typed it (us3, \"United States - 3\" …).")
    var storageRegion: String?

    @Option(name: .long, help: "An InsightConnect trigger's API URL as the customer typed it.")
    var triggerURL: String?

    @Option(name: .long, help: "Read the token / API key from this environment variable (whitespace kept: a pasted space is evidence).")
    var tokenEnv: String?

    @Flag(name: .long, help: "Read the token / API key from standard input (one trailing newline removed, other whitespace kept).")
    var tokenStdin = false

    @Option(name: .long, help: "Emulated targets: the tenant key with this id (demo-us3-user, or a scenario's key id).")
    var key: String?

    @Option(name: .long, help: "A SIEM connector's service user (email), checked through the account API with an admin key.")
    var serviceUser: String?

    @Option(name: .long, help: "Read an admin key from this environment variable (to check the service user).")
    var adminTokenEnv: String?

    @Option(name: .long, help: "Emulated targets: the admin key with this id (demo-us-org …).")
    var adminKey: String?

    @Option(name: .long, help: "demo, or a scenario file.")
    var emulate: String?

    @Option(name: .long, help: "A running insight-replay serve, e.g. http://127.0.0.1:8080.")
    var server: String?

    @Flag(name: .long, help: "The real Rapid7 hosts (network access needed; read-only calls only).")
    var live = false

    @Flag(name: .long, help: "With --live and --trigger-url: send the test message (it runs the customer's workflow).")
    var sendTestMessage = false

    @Option(name: .long, parsing: .unconditional, help: "Seconds each request to --server or --live may take.")
    var timeout: Double = 30

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var common: CommonOptions

    func validate() throws {
        let targets = [emulate != nil, server != nil, live].filter { $0 }.count
        if targets > 1 { throw ValidationError("give one target: --emulate demo|FILE, --server URL or --live") }
        if [tokenEnv != nil, tokenStdin, key != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give the key one way: --token-env VAR, --token-stdin or --key ID")
        }
        if adminTokenEnv != nil, adminKey != nil { throw ValidationError("give the admin key one way: --admin-token-env VAR or --admin-key ID") }
        if (server != nil || live), key != nil || adminKey != nil {
            throw ValidationError("--key and --admin-key name keys of an emulated tenant; for --server and --live use --token-env or --token-stdin")
        }
        if let server, URLComponents(string: server)?.host == nil || !["http", "https"].contains(URLComponents(string: server)?.scheme ?? "") {
            throw ValidationError("--server '\(server)' is not an http(s) URL like http://127.0.0.1:8080")
        }
        if live, triggerURL != nil, !sendTestMessage {
            throw ValidationError("--live --trigger-url sends a test message that runs the customer's workflow: add --send-test-message to allow it")
        }
        try OptionRange.seconds("--timeout", timeout, maximum: 3_600, example: 30)
    }

    func run() async throws {
        try common.bootstrap(fallback: .error)
        var settings = Diagnose.Settings()
        settings.url = url
        settings.storageRegion = storageRegion
        settings.triggerURL = triggerURL
        settings.serviceUser = serviceUser
        settings.token = try credential(env: tokenEnv, stdin: tokenStdin, key: key, option: "--token-env")
        settings.adminToken = try credential(env: adminTokenEnv, stdin: false, key: adminKey, option: "--admin-token-env")
        let outcome: Diagnose.Outcome
        let secrets: [String]
        do {
            if let server {
                let product = try Diagnose.product(settings, keys: nil)
                outcome = await Diagnose.run(product, transport: NetworkTransport(base: server, timeout: timeout), clock: SystemClock(),
                                             target: "server: \(server)", retry: RetryPolicy(maxAttempts: 2))
                secrets = product.secrets
            } else if live {
                let product = try Diagnose.product(settings, keys: nil)
                outcome = await Diagnose.live(product, network: NetworkTransport(timeout: timeout))
                secrets = product.secrets
            } else if let file = emulate, file != "demo" {
                let scenario = try loadScenario(file)
                (outcome, secrets) = try await Diagnose.scenario(scenario, settings: settings)
            } else {
                (outcome, secrets) = try await Diagnose.demo(settings)
            }
        } catch let error as DriverError {
            throw ValidationError(errorText(error))
        }
        print(json ? Diagnose.json(outcome, secrets: secrets) : Diagnose.text(outcome, secrets: secrets))
        if !outcome.ok { throw ExitCode(outcome.exitCode) }
    }

    /// A key from the environment, standard input, or a tenant key id; nil when none is given.
    func credential(env: String?, stdin: Bool, key: String?, option: String) throws -> Diagnose.Credential? {
        if let key { return .key(key) }
        if let env {
            guard let value = ProcessInfo.processInfo.environment[env] else {
                throw ValidationError("\(option) \(env): the variable is not set (export \(env)=… first)")
            }
            return .secret(value)
        }
        if stdin {
            var text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            if text.hasSuffix("\r\n") { text.removeLast(1) } else if text.hasSuffix("\n") { text.removeLast() }
            guard !text.isEmpty else { throw ValidationError("--token-stdin: standard input was empty") }
            return .secret(text)
        }
        return nil
    }
}
