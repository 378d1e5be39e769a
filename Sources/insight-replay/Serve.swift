import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import InsightServer
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a scenario's tenant on a loopback HTTP port for clients in any language.",
        discussion: """
            Route by Host header (Host: us2.api.insight.rapid7.com) or by path prefix \
            (http://127.0.0.1:PORT/us2/validate). Time is the wall clock here: the scenario's \
            timeline and faults happen in real time.
            """)

    @Option(name: .long, help: "A scenario file whose tenant, faults and timeline to serve.")
    var scenario: String

    @Option(name: .long, help: "Port to listen on; 0 picks a free one and prints it.")
    var port: Int = 0

    @Option(name: .long, help: "Address to bind. Only loopback unless you ask for another explicitly.")
    var host: String = "127.0.0.1"

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try common.bootstrap()
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        let loaded: Scenario
        do {
            loaded = try ScenarioLoader.loadFile(scenario)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let clock = SystemClock()
        let world = ScenarioWorld(loaded, start: clock.now())
        let server: EmulatorServer
        do {
            server = try await EmulatorServer.start(emulator: world.makeEmulator(clock: clock), host: host, port: port)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        print("insight-replay emulator listening on \(server.baseURL) (scenario \(loaded.name), tenant in \(loaded.tenant.region.code))")
        print("  route by Host header, or by path prefix: \(server.baseURL)/\(loaded.tenant.region.code)/validate")
        for key in world.tenant.keys {
            let owner = key.owner.map { " owned by \($0)" } ?? ""
            print("  key \(key.id) (\(key.kind.rawValue), \(key.status.rawValue)\(owner)): \(key.secret)")
        }
        print("  these keys are generated for this emulator only; Ctrl-C stops it")
        // Scripts read the port and keys from a pipe: do not leave them in a block buffer.
        fflush(nil)
        try await server.waitUntilClosed()
    }
}
