import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import InsightEmulator
import InsightRecordings
import InsightServer
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the emulator on a loopback HTTP port, for clients in any language.",
        discussion: """
            With no --scenario, serves the demo world: one organization per region with \
            investigations, alerts, logs, audit events and a workflow, and prints its keys. Route \
            by Host header (Host: us2.api.insight.rapid7.com) or by path prefix \
            (http://127.0.0.1:PORT/us2/validate). The port is also an HTTPS proxy for the Rapid7 \
            hosts: a client with HTTPS_PROXY and the local CA (eval "$(insight-replay serve \
            --print-env)") calls https://REGION.api.insight.rapid7.com unmodified, certificate \
            checks on. The admin API lives under /_admin (see docs/CLI.md).
            """)

    @Option(name: .long, help: "A scenario file whose tenant, faults and timeline to serve (default: the demo world).")
    var scenario: String?

    @Option(name: .long, parsing: .unconditional, help: "Investigations per demo organization (up to 1,000,000; made on demand, so any size starts at once).")
    var investigations: Int?

    @Option(name: .long, parsing: .unconditional, help: "Log Search logs per demo organization.")
    var logSources: Int?

    @Option(name: .long, parsing: .unconditional, help: "Events per demo log (log sources × events per log up to 100,000,000).")
    var eventsPerLog: Int?

    // Unconditional: `--port -1` is a bad port, not a missing value.
    @Option(name: .long, parsing: .unconditional, help: "Port to listen on; 0 picks a free one and prints it.")
    var port: Int = 8080

    @Option(name: .long, help: "Address to bind. Only loopback unless you ask for another explicitly.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "system: wall-clock time; virtual: time moves only by POST /_admin/clock/advance.")
    var clock: String = "system"

    @Option(name: .long, parsing: .unconditional, help: "Journal entries kept (oldest dropped first).")
    var journalCap: Int = 10_000

    @Option(name: .long, parsing: .unconditional, help: "Event-loop threads.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: "Answer from this recording (in --store) after authentication; unmatched requests get 501 naming the nearest recordings.")
    var recording: String?

    @OptionGroup var storeOption: StoreOption
    var store: String { storeOption.store }

    @Option(name: .long, parsing: .unconditional, help: "A port speaking TLS directly (0 picks a free one), for clients that take a base URL but insist on https: https://127.0.0.1:PORT/us2/validate, or the real host name resolved to 127.0.0.1.")
    var tlsPort: Int?

    @Option(name: .long, help: "What replaces https://HOST in answers to path-prefix requests (default: the address the request came to), so Self and Next links lead back here.")
    var linkBase: String?

    @Option(name: .long, parsing: .unconditional, help: "Seconds a connection may complete no part of a request before it is closed (frees half-sent and trickled requests).")
    var idleTimeout: Double = EmulatorServer.defaultIdleTimeout

    @Option(name: .long, parsing: .unconditional, help: "Seconds a request head may take from its first byte to its last before the connection is closed (half-sent heads are not held for the idle timeout).")
    var headTimeout: Double = EmulatorServer.defaultHeadTimeout

    @Option(name: .long, parsing: .unconditional, help: "Connections open at once; one beyond is answered 503 with Retry-After and closed.")
    var maxConnections: Int = EmulatorServer.defaultMaxConnections

    @Option(name: .long, help: "A web origin (scheme://host:port) allowed to call the admin API from a browser; repeatable. None by default: requests carrying an Origin are refused.")
    var adminOrigin: [String] = []

    @Flag(name: .long, help: "Print the environment (HTTPS_PROXY, CA bundle variables, demo or scenario keys) for a client of a server on --port, as export lines for eval, and exit.")
    var printEnv = false

    @OptionGroup var common: CommonOptions

    func validate() throws {
        try OptionRange.check("--port", port, 0...65_535, example: 8080, note: "0 picks a free port")
        try OptionRange.check("--journal-cap", journalCap, 1...10_000_000, example: 10_000)
        // NIO's event loops are threads of this process: more than a few per core only costs memory.
        try OptionRange.check("--threads", threads, 1...256, example: 4)
        try OptionRange.seconds("--idle-timeout", idleTimeout, maximum: 86_400, example: 60)
        try OptionRange.seconds("--head-timeout", headTimeout, maximum: 3_600, example: 10)
        try OptionRange.check("--max-connections", maxConnections, 1...1_000_000, example: 1_024)
        if let investigations { try OptionRange.check("--investigations", investigations, 0...TenantLimits.maxInvestigations, example: 120) }
        if let logSources { try OptionRange.check("--log-sources", logSources, 0...TenantLimits.maxLogSources, example: 3) }
        if let eventsPerLog { try OptionRange.check("--events-per-log", eventsPerLog, 0...TenantLimits.maxEvents, example: 1_000) }
        guard ["system", "virtual"].contains(clock) else { throw ValidationError("--clock must be system or virtual") }
        if let tlsPort { try OptionRange.check("--tls-port", tlsPort, 0...65_535, example: 8443, note: "0 picks a free port") }
        if let linkBase, URL(string: linkBase)?.host == nil {
            throw ValidationError("--link-base '\(linkBase)' is not an absolute URL like http://127.0.0.1:8080")
        }
    }

    func run() async throws {
        try common.bootstrap()
        var size = DemoWorld.Size()
        if investigations != nil || logSources != nil || eventsPerLog != nil {
            guard scenario == nil else {
                throw ValidationError("--investigations, --log-sources and --events-per-log size the demo world; a --scenario sizes its own data")
            }
            size.investigations = investigations ?? size.investigations
            size.logSources = logSources ?? size.logSources
            size.eventsPerLog = eventsPerLog ?? size.eventsPerLog
            if let problem = size.problem { throw ValidationError(problem) }
        }
        let authority: CertificateAuthority
        do {
            authority = try CertificateAuthority.loadOrCreate(directory: CertificateAuthority.directory(besideStore: store))
        } catch {
            throw refuse(error)
        }
        let loaded = try scenario.map(loadScenario)
        // A virtual clock starts at the scenario's `start`, as `run` does, so its data, expiries
        // and timeline are where the scenario put them; on the system clock they count from now
        // (a client compares what it gets with its own wall clock).
        let time: any InsightClock = clock == "virtual" ? VirtualClock(start: loaded?.start ?? Date()) : SystemClock()
        let emulator: Emulator
        let title: String
        if let loaded {
            emulator = ScenarioWorld(loaded, start: time.now()).makeEmulator(clock: time, journalCapacity: journalCap)
            title = "scenario \(loaded.name), tenant in \(loaded.tenant.region.code)\(clock == "virtual" ? ", virtual time from its start \(loaded.start.iso8601)" : "")"
        } else {
            emulator = Emulator(tenants: DemoWorld.tenants(now: time.now(), size: size), clock: time, journalCapacity: journalCap,
                                seed: DemoWorld.seed)
            title = "demo world: one organization per region"
        }
        if let recording {
            do {
                guard let index = try SQLiteRecordingStore(path: store).replayIndex(named: recording) else {
                    printError("no recording '\(recording)' in \(store); `insight-replay recordings --store \(store)` lists them")
                    throw ExitCode(2)
                }
                emulator.loadReplay(requests: index.requests, response: index.response)
                print("answering from recording '\(recording)' (\(index.requests.count) exchanges; responses read from the store when matched)")
            } catch let error as ExitCode {
                throw error
            } catch {
                throw refuse(error)
            }
        }
        if printEnv {
            guard port != 0 else { throw ValidationError("--print-env needs the --port the server listens on (not 0)") }
            var environment = Self.environment(proxy: "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)", authority: authority,
                                               emulator: emulator)
            var notes = ["# Clients that ignore these variables reach the emulator only under `insight-replay exec -- CMD`:",
                         "#   Node 20 (fetch, https.request), aiohttp sessions without trust_env, Go binaries built without net/http's proxy support."]
            if ProgramPath.find("keytool") != nil {
                switch ClientTrust.javaOptions(authority, proxyPort: port) {
                case .success(let options): environment.set("JAVA_TOOL_OPTIONS", options)
                case .failure(let error): notes.append("# Java: \(error)")
                }
            } else {
                notes.append("# Java: no JDK found (keytool); under exec a JVM gets a truststore and the proxy")
            }
            print((notes + [environment.exportLines]).joined(separator: "\n"))
            return
        }
        let server: EmulatorServer
        do {
            server = try await EmulatorServer.start(emulator: emulator, host: host, port: port, threads: threads,
                                                    loadScenario: ScenarioLoader.upload, authority: authority, tlsPort: tlsPort,
                                                    linkBase: linkBase, idleTimeout: idleTimeout, headTimeout: headTimeout,
                                                    maxConnections: maxConnections, adminOrigins: adminOrigin)
        } catch {
            throw refuse(error)
        }
        print("insight-replay emulator listening on \(server.baseURL) (\(title); \(clock) clock)")
        // The hints name the tenant's own region and a key of it, so they answer 200 as copied.
        let region = loaded?.tenant.region ?? .us2
        let sample = emulator.allTenants.first { $0.region == region }?.keys.first { $0.status == .active }
        print("  route by Host header, or by path prefix: \(server.baseURL)/\(region.code)/validate; admin API: \(server.baseURL)/_admin")
        if let sample { print("  try: curl -H 'X-Api-Key: \(sample.secret)' \(server.baseURL)/\(region.code)/validate   (key \(sample.id))") }
        if server.adminTokenRequired {
            printError(offLoopbackWarning(host, what: "answers anyone on the network with the tenant's data and its keys"))
            print("  bound to \(host), not loopback: the admin API answers only with the header X-Admin-Token: \(server.adminToken)")
        } else {
            print("  admin token (X-Admin-Token, for the secrets in /_admin/keys): \(server.adminToken)")
        }
        print("  HTTPS proxy for the Rapid7 hosts: HTTPS_PROXY=\(server.baseURL), trusting \(authority.certificatePath) (eval \"$(insight-replay serve --print-env --port \(server.port))\")")
        if let tls = server.tlsBaseURL { print("  TLS port: \(tls)/\(region.code)/validate, or a Rapid7 host name resolved to 127.0.0.1:\(server.tlsPort!)") }
        for tenant in emulator.allTenants {
            for key in tenant.keys {
                let roles = key.owner.flatMap { tenant.user(email: $0) }.map { " roles [\($0.roles.joined(separator: ", "))]" } ?? " all products"
                print("  \(tenant.region.code.padding(toLength: 4, withPad: " ", startingAt: 0)) \(key.kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(key.secret)  \(key.id)\(key.owner.map { " owner \($0)" } ?? "")\(roles)")
            }
        }
        for tenant in emulator.allTenants {
            for workflow in tenant.workflows {
                print("  \(tenant.region.code.padding(toLength: 4, withPad: " ", startingAt: 0)) workflow     \(workflow.id)  \(workflow.name) (\(workflow.active ? "active" : "inactive")): POST /connect/v1/workflows/\(workflow.id)/events/execute")
            }
        }
        print("  these keys exist only in this emulator; Ctrl-C stops it")
        // Scripts read the port and keys from a pipe: do not leave them in a block buffer.
        fflush(nil)
        try await server.waitUntilClosed()
    }

    /// Proxy and CA variables, and every key of the world as `R7_KEY_<ID>` (the demo world's
    /// service-user key of us also as `R7_API_KEY`, with `R7_REGION` and `R7_BASE_URL`).
    static func environment(proxy: String, authority: CertificateAuthority, emulator: Emulator) -> ClientEnvironment {
        var environment = ClientEnvironment.proxy(proxy, authority: authority)
        for (name, value) in ExecSession.keyVariables(emulator) { environment.set(name, value) }
        return environment
    }

    /// Wires the admin API's scenario upload to the driver's strict loader.
}
