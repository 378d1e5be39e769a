import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import InsightEmulator
import InsightServer

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one command against an emulator of its own, with everything in place for any client stack.",
        discussion: """
            Starts the emulator (the demo world, or --scenario's tenant) on free loopback ports and \
            runs the command with the proxy and trust variables every common stack reads, the keys \
            (R7_API_KEY, R7_KEY_<ID>), and libInsightPreload.so preloaded: the Rapid7 host names \
            resolve to the emulator, so clients that ignore proxy variables (Node's fetch, Java, \
            aiohttp by default, wget) reach it too, with certificate checks on. On virtual time \
            (the default) the command's clock, sleeps and timeouts run on the emulator's clock: a \
            Retry-After of an hour takes no wall time, and request times are exact. Exits with the \
            command's exit code.

            Example: insight-replay exec -- node client.js
            """)

    @Option(name: .long, help: "A scenario file whose tenant, faults and timeline to serve (default: the demo world).")
    var scenario: String?

    @Option(name: .long, help: "virtual: the command's clock is the emulator's (exact, no waiting); wall: real time.")
    var time: String = "virtual"

    @OptionGroup var storeOption: StoreOption
    var store: String { storeOption.store }

    @Flag(name: .shortAndLong, help: "After the command, print the requests the emulator saw (to standard error).")
    var verbose = false

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard ["virtual", "wall"].contains(time) else { throw ValidationError("--time must be virtual or wall, not '\(time)' (e.g. --time wall)") }
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard !arguments.isEmpty else { throw ValidationError("name the command to run after --, e.g. insight-replay exec -- python3 client.py") }
    }

    func run() async throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        let loaded = try scenario.map(loadScenario)
        // The demo world lives now; a scenario at its own start, as its runs do.
        let start = loaded?.start ?? Date()
        let session = ExecSession(arguments: arguments, time: time == "virtual" ? .virtual : .scaled,
                                  caDirectory: CertificateAuthority.directory(besideStore: store))
        let outcome: ExecSession.Outcome
        do {
            outcome = try await session.run(start: start) { clock in
                if let loaded { return ScenarioWorld(loaded, start: start).makeEmulator(clock: clock) }
                return Emulator(tenants: DemoWorld.tenants(now: start, size: DemoWorld.Size()), clock: clock, seed: DemoWorld.seed)
            } keys: { emulator in
                ExecSession.keyVariables(emulator)
            }
        } catch {
            throw refuse(error, context: "insight-replay exec: ")
        }
        if let note = outcome.timeNote { printError("insight-replay exec: \(note)") }
        for program in outcome.uncontrolled {
            printError("insight-replay exec: \(program) ran without the C library's clock (a static or Go program): its sleeps took real time; use --time wall")
        }
        if verbose {
            printError("insight-replay exec: \(outcome.journal.count) request(s)\(outcome.virtualSeconds.map { String(format: ", virtual %.3fs", $0) } ?? "")")
            let origin = outcome.journal.first?.elapsed ?? 0
            for entry in outcome.journal {
                printError(String(format: "  %9.3fs  %@ %@%@ → %d", entry.elapsed - origin, entry.method, entry.host, entry.path, entry.status))
            }
        }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}

