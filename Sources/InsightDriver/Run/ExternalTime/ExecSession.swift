import Foundation
import InsightCore
import InsightEmulator
import InsightServer

/// `insight-replay exec -- CMD…`: one command run against an emulator of its own, with
/// everything in place: the proxy and trust variables every common stack reads, the keys, and
/// the interposer, which sends the Rapid7 host names to the emulator (for clients that ignore
/// proxy variables) and, on virtual time, runs the command's clock on the emulator's.
public struct ExecSession {
    public var arguments: [String]
    public var time: CommandTime
    public var caDirectory: String
    public init(arguments: [String], time: CommandTime, caDirectory: String) {
        self.arguments = arguments
        self.time = time
        self.caDirectory = caDirectory
    }

    /// What happened: the command's exit (128 + signal when killed), what the emulator saw,
    /// and the programs whose time could not be controlled.
    public struct Outcome: Sendable {
        public var exitCode: Int32
        public var journal: [JournalEntry]
        public var uncontrolled: [String]
        public var virtualSeconds: Double?
        /// Why virtual time was not used, when it was asked for.
        public var timeNote: String?
    }

    /// `JAVA_TOOL_OPTIONS` for a command that starts a JVM (the truststore and proxy before any
    /// options already set); the existing value for any other command.
    static func javaToolOptions(_ arguments: [String], authority: CertificateAuthority, proxyPort: Int,
                                existing: String?) throws -> String? {
        guard ClientTrust.isJava(arguments) else { return existing }
        switch ClientTrust.javaOptions(authority, proxyPort: proxyPort) {
        case .success(let options): return [options, existing].compactMap { $0 }.joined(separator: " ")
        case .failure(let error): throw DriverError.commandSetup(error, context: "cannot make the JVM trust the local CA: ")
        }
    }

    /// Every key of the world as `R7_KEY_<ID>`; the us service-user key also as `R7_API_KEY`,
    /// with `R7_REGION` and `R7_BASE_URL` (what `serve --print-env` prints, too).
    public static func keyVariables(_ emulator: Emulator) -> [(String, String)] {
        var variables: [(String, String)] = []
        let tenants = emulator.allTenants
        for tenant in tenants {
            for key in tenant.keys { variables.append(("R7_KEY_\(ClientEnvironment.variableName(key.id))", key.secret)) }
        }
        if let first = tenants.first(where: { $0.region == .us }) ?? tenants.first,
           let key = first.keys.first(where: { $0.kind == .user }) ?? first.keys.first
        {
            variables += [("R7_API_KEY", key.secret), ("R7_REGION", first.region.code), ("R7_BASE_URL", first.region.platformBaseURL)]
        }
        return variables
    }

    /// Runs the command against the emulator `makeEmulator` builds on the clock it is given
    /// (starting at `start`); `keys` names the variables that give the command the emulator's
    /// keys (`R7_API_KEY`, `R7_KEY_<ID>` …).
    public func run(start: Date, makeEmulator: (any InsightClock) -> Emulator,
                    keys: (Emulator) -> [(String, String)]) async throws -> Outcome
    {
        guard !arguments.isEmpty else { throw DriverError.commandSetup("exec needs a command after --", remedy: "e.g. insight-replay exec -- python3 client.py") }
        guard let library = Interposer.library else { throw DriverError.commandSetup(Interposer.missing) }
        var mode = time
        var timeNote: String?
        if mode == .virtual, case .unreachable(let reason) = ProgramKind.of(arguments: arguments, path: ProcessInfo.processInfo.environment["PATH"]) {
            mode = .scaled
            timeNote = "wall-clock time, not virtual: \(reason)"
        }
        let shared = mode == .virtual ? try SharedClock(start: start) : nil
        let clock: any InsightClock = shared ?? SystemClock()
        let emulator = makeEmulator(clock)
        let authority = try CertificateAuthority.loadOrCreate(directory: caDirectory)
        if shared != nil, authority.validFrom > start {
            throw DriverError.commandSetup("the local CA in \(caDirectory) is valid from \(authority.validFrom.iso8601), after the emulator's start", remedy: "replace it with `insight-replay ca --reset`")
        }
        return try await withServer(emulator, authority: authority) { server in
            var environment = ProcessInfo.processInfo.environment
            for (name, value) in ClientEnvironment.proxy(server.baseURL, authority: authority).variables { environment[name] = value }
            for (name, value) in keys(emulator) { environment[name] = value }
            for (name, value) in Interposer.environment(library: library, plainPort: server.port, tlsPort: server.tlsPort,
                                                        clock: shared?.path, preload: environment["LD_PRELOAD"]) {
                environment[name] = value
            }
            environment["JAVA_TOOL_OPTIONS"] = try Self.javaToolOptions(arguments, authority: authority, proxyPort: server.port,
                                                                       existing: environment["JAVA_TOOL_OPTIONS"])
            environment["INSIGHT_REPLAY_BASE"] = server.baseURL
            environment["INSIGHT_REPLAY_TLS_BASE"] = server.tlsBaseURL
            environment["INSIGHT_REPLAY_ADMIN"] = server.baseURL + "/_admin"
            environment["INSIGHT_REPLAY_TIME"] = mode == .virtual ? "virtual" : "wall"
            let threads = shared == nil ? [] : try await server.eventLoopThreadIDs()
            let coordinator = shared.map { TimeCoordinator(clock: $0, ports: server.ports, serverThreads: threads) }
            coordinator?.start()
            defer { coordinator?.stop() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.environment = environment
            let exited = AsyncStream<Void>.makeStream()
            process.terminationHandler = { _ in exited.continuation.finish() }
            do {
                try process.run()
            } catch {
                throw DriverError.commandSetup("cannot start \(arguments[0]): \(error.localizedDescription)", remedy: "check that the command exists and may be run (a path, or a program on the PATH)")
            }
            coordinator?.track(root: process.processIdentifier)
            for await _ in exited.stream {}
            let status = process.terminationStatus
            let code = process.terminationReason == .exit ? status : 128 + status
            coordinator?.stop()
            return Outcome(exitCode: code, journal: emulator.journal.ordered, uncontrolled: coordinator?.uncontrolled ?? [],
                           virtualSeconds: shared?.elapsed, timeNote: timeNote)
        }
    }
}
