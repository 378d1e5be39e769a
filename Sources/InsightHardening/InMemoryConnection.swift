import Foundation
import InsightServer
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
        let channel = EmbeddedChannel()
        var output: [UInt8] = []
        do {
            try EmulatorServer.addPlainHandlers(channel.pipeline.syncOperations, emulator: emulator, loadScenario: loadScenario,
                                                logger: quiet, idleTimeout: nil, forwardLeftovers: false)
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

/// The server's request path on one in-memory keep-alive connection, timed in CPU: what the
/// emulator adds to NIO's HTTP/1.1 handlers, without the kernel's share (the sockets, the
/// client's wake-ups) that makes loopback figures noisy. The same pipeline with a handler that
/// answers fixed bytes (as `Benchmarks/NIOBaseline` does) is the reference.
public enum InMemoryRequestPath {
    public struct Figure: Sendable {
        /// CPU nanoseconds per request.
        public let nanoseconds: Double
        /// Bytes answered per request.
        public let bytes: Int
    }

    /// Sends `request` `count` times on one connection through the server's pipeline.
    /// - Throws: `ServerError` when the first answer is not `expectStatus` (the figure would
    ///   time something else).
    public static func server(emulator: Emulator, request: [UInt8], count: Int, expectStatus: Int = 200) throws -> Figure {
        // As `serve` has it, idle timer included.
        return try time(request: request, count: count, expectStatus: expectStatus) { channel in
            try EmulatorServer.addPlainHandlers(channel.pipeline.syncOperations, emulator: emulator, loadScenario: nil,
                                                logger: Logger(label: "insight-replay.bench"),
                                                idleTimeout: EmulatorServer.defaultIdleTimeout, forwardLeftovers: true)
        }
    }

    /// The reference: NIO's handlers and one that answers `body` with status 200 to anything.
    public static func fixedAnswer(body: [UInt8], request: [UInt8], count: Int) throws -> Figure {
        try time(request: request, count: count, expectStatus: 200) { channel in
            try EmulatorServer.addHandlers(channel.pipeline.syncOperations, handler: FixedAnswerHandler(body: ByteBuffer(bytes: body)),
                                           forwardLeftovers: true)
        }
    }

    private static func time(request: [UInt8], count: Int, expectStatus: Int,
                             pipeline: (EmbeddedChannel) throws -> Void) throws -> Figure
    {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try pipeline(channel)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let input = ByteBuffer(bytes: request)
        var bytes = 0
        // The first answer is checked, not timed.
        try channel.writeInbound(input)
        var first: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { first += buffer.readableBytesView }
        let statusLine = "HTTP/1.1 \(expectStatus) "
        guard first.starts(with: Array(statusLine.utf8)) else {
            throw ServerError.serving("the benchmark request was answered \(String(decoding: first.prefix(40), as: UTF8.self)), not \(expectStatus)",
                                      remedy: "check the request the benchmark sends: the figure would measure an error path")
        }
        let start = threadCPUNanoseconds()
        for _ in 0..<count {
            try channel.writeInbound(input)
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytes }
        }
        let elapsed = threadCPUNanoseconds() - start
        return Figure(nanoseconds: Double(elapsed) / Double(max(1, count)), bytes: bytes / max(1, count))
    }

    private static func threadCPUNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// Answers every request with the same prebuilt head and body: the least a Swift HTTP/1.1 server
/// can do per request on NIO's handlers. The reference of `bench-request` in process and of
/// `Benchmarks/NIOBaseline` (the same class) on loopback.
public final class FixedAnswerHandler: ChannelInboundHandler, Sendable {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias OutboundOut = HTTPServerResponsePart

    let head: HTTPResponseHead
    let body: ByteBuffer

    public init(body: ByteBuffer) {
        head = HTTPResponseHead(version: .http1_1, status: .ok,
                                headers: ["content-type": "application/json", "content-length": "\(body.readableBytes)"])
        self.body = body
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
