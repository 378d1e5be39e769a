import ArgumentParser
import Foundation
import InsightCore
import InsightEmulator
import InsightHardening
import InsightServer

/// The request path in CPU per request, in process (issue 13): the server's pipeline answering
/// `GET /validate` and a page of investigations on the demo world, beside NIO's handlers
/// answering the same bytes, alternated in the same run. Free of the kernel's share, so it shows
/// what the emulator adds where the loopback benchmark (`Benchmarks/server.sh`) is noisy.
struct BenchRequest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-request",
        abstract: "Benchmark: CPU per request of the server's path in process, beside a fixed answer on the same NIO handlers.")

    @Option(name: .long, parsing: .unconditional, help: "Requests per round and row.")
    var requests: Int = 200_000

    @Option(name: .long, parsing: .unconditional, help: "Rounds (each alternates the two; the best of each is reported).")
    var rounds: Int = 3

    @Option(name: .long, help: "Only this row: validate or page.")
    var only: String?

    func validate() throws {
        if let only, !Self.rows.contains(where: { $0.name == only }) { throw ValidationError("--only must be validate or page") }
        try OptionRange.check("--requests", requests, 1...10_000_000, example: 200_000)
        try OptionRange.check("--rounds", rounds, 1...20, example: 3)
    }

    func run() async throws {
        let tenants = DemoWorld.tenants(now: Date())
        guard let key = tenants.first(where: { $0.region == .us })?.keys.first(where: { $0.kind == .user })?.secret else {
            throw ValidationError("the demo world has no us user key")
        }
        print("in-process request path, \(requests) requests × \(rounds) round(s), one connection, CPU per request (best round)")
        print(pad("row", 10) + pad("server", 16) + pad("fixed answer", 16) + pad("ratio", 8) + "bytes")
        for (row, path) in Self.rows where only == nil || only == row {
            let request = Array("GET \(path) HTTP/1.1\r\nHost: us.api.insight.rapid7.com\r\nX-Api-Key: \(key)\r\n\r\n".utf8)
            // A journal as large as serve's: its ring is part of the cost.
            let emulator = Emulator(tenants: tenants, clock: SystemClock(), journalCapacity: 10_000)
            let body = try answerBody(emulator: emulator, request: request)
            var server = Double.infinity, fixed = Double.infinity, bytes = 0
            for _ in 0..<rounds {
                let measured = try InMemoryRequestPath.server(emulator: emulator, request: request, count: requests)
                server = min(server, measured.nanoseconds)
                bytes = measured.bytes
                fixed = min(fixed, try InMemoryRequestPath.fixedAnswer(body: body, request: request, count: requests).nanoseconds)
            }
            print(pad(row, 10) + pad(String(format: "%.0f ns", server), 16) + pad(String(format: "%.0f ns", fixed), 16)
                + pad(String(format: "%.2f×", fixed / server), 8) + "\(bytes)")
        }
        print("ratio: the fixed answer's CPU over the server's (1.00× would be no cost of its own)")
    }

    static let rows = [(name: "validate", path: "/validate"), (name: "page", path: "/idr/v2/investigations?size=100")]

    /// The body the server answers, for the fixed answer to send the same bytes.
    private func answerBody(emulator: Emulator, request: [UInt8]) throws -> [UInt8] {
        let answer = EmulatorServer.answer(connection: request, emulator: emulator)
        guard let end = answer.firstRange(of: Array("\r\n\r\n".utf8)) else { throw ValidationError("no answer to the benchmark request") }
        return Array(answer[end.upperBound...])
    }

    private func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count + 1), withPad: " ", startingAt: 0) }
}
