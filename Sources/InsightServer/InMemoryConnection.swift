import Foundation
import InsightEmulator
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1

extension EmulatorServer {
    /// The server's whole request path for one plain connection, without a socket: NIO's
    /// HTTP/1.1 decoder, pipelining and protocol-error handling, the routing and the emulator,
    /// on an in-memory channel. The bytes a client sent in; the bytes the server wrote back.
    /// What the coverage-guided fuzzer drives (`Fuzz/`); deterministic, so a finding replays.
    public static func answer(connection bytes: [UInt8], emulator: Emulator, loadScenario: ScenarioLoading? = nil) -> [UInt8] {
        var quiet = Logger(label: "insight-replay.in-memory")
        quiet.logLevel = .critical
        let settings = ServerSettings(emulator: emulator, admin: AdminAPI(emulator: emulator, loadScenario: loadScenario),
                                      logger: quiet, authority: nil, linkBase: nil)
        let channel = EmbeddedChannel()
        var output: [UInt8] = []
        do {
            try HTTPServerSupport.addHTTPHandlers(channel.pipeline.syncOperations, handler: HTTPHandler(settings: settings, arrival: .plain),
                                                  forwardLeftovers: false)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            // A fault's delay is a scheduled task: run them all (a virtual minute is plenty).
            channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        } catch {
            // A protocol error closes the channel; what was written before it is the answer.
        }
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            output += buffer.readableBytesView
        }
        _ = try? channel.finish()
        return output
    }
}
