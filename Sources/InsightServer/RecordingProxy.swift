import Foundation
import InsightCore
import InsightRecordings
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The recorder: a loopback proxy that forwards each request to an upstream and records the
/// exchange, redacted, one committed exchange at a time. Requests are addressed as to the
/// server (Host header or path prefix).
public final class RecordingProxy: Sendable {
    public let port: Int
    public let host: String
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let recorder: Recorder

    private init(channel: any Channel, group: MultiThreadedEventLoopGroup, host: String, recorder: Recorder) {
        self.channel = channel
        self.group = group
        self.host = host
        self.recorder = recorder
        port = channel.localAddress?.port ?? 0
    }

    public var baseURL: String { "http://\(host):\(port)" }
    /// Exchanges written so far, and writes refused by the redactor.
    public var written: Int { recorder.counts.written }
    public var refused: [String] { recorder.counts.refused }

    /// Starts recording to `store` under `name`, forwarding through `upstream`.
    public static func start(
        upstream: any HTTPTransport, upstreamDescription: String, store: any RecordingStore, name: String,
        host: String = "127.0.0.1", port: Int = 0, clock: any InsightClock = SystemClock(),
        logger: Logger = Logger(label: "insight-replay.recorder")
    ) async throws -> RecordingProxy {
        let recorder = Recorder(upstream: upstream, source: "proxy \(upstreamDescription)", store: store, name: name, clock: clock, logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ProxyHandler(recorder: recorder))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            return RecordingProxy(channel: channel, group: group, host: host, recorder: recorder)
        } catch {
            try? await group.shutdownGracefully()
            throw ServerError(message: "cannot listen on \(host):\(port): \(error); choose another --port (0 picks a free one)")
        }
    }

    public func shutdown() async throws {
        try? await channel.close()
        try await group.shutdownGracefully()
    }

    public func waitUntilClosed() async throws {
        try await channel.closeFuture.get()
    }
}

/// Forwards, redacts, stores. One redactor for the whole session, so placeholders are stable.
final class Recorder: @unchecked Sendable {
    let upstream: any HTTPTransport
    let source: String
    let store: any RecordingStore
    let name: String
    let clock: any InsightClock
    let logger: Logger
    private let lock = NSLock()
    private var redactor = Redactor()
    private var written = 0
    private var refused: [String] = []

    init(upstream: any HTTPTransport, source: String, store: any RecordingStore, name: String, clock: any InsightClock, logger: Logger) {
        self.upstream = upstream
        self.source = source
        self.store = store
        self.name = name
        self.clock = clock
        self.logger = logger
    }

    var counts: (written: Int, refused: [String]) { lock.withLock { (written, refused) } }

    func exchange(_ request: HTTPRequest) async -> HTTPResponse {
        let started = clock.now()
        let response: HTTPResponse
        do {
            response = try await upstream.send(request)
        } catch {
            return .json(502, ["message": .string("the upstream did not answer: \(error)")])
        }
        let millis = Int((clock.now().timeIntervalSince(started) * 1000).rounded())
        let raw = RecordedExchange(request: request, response: response, durationMillis: millis, recordedAt: started)
        do {
            try lock.withLock {
                let safe = try redactor.redact(raw)
                let provenance = Provenance(recordedAt: started, region: Region(host: request.host)?.code, source: source, productVersion: nil)
                try store.appendExchange(safe, to: name, provenance: provenance)
                written += 1
            }
        } catch let error as RedactionError {
            lock.withLock { refused.append(error.field) }
            logger.error("\(error)")
            return .json(500, ["message": .string("insight-replay recorder: \(error)")])
        } catch {
            logger.error("cannot store the exchange: \(error)")
            return .json(500, ["message": .string("insight-replay recorder: cannot store the exchange: \(error)")])
        }
        return response
    }
}

final class ProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let recorder: Recorder
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(recorder: Recorder) { self.recorder = recorder }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            let recorder = self.recorder
            let routed = HTTPHandler.route(head, body: Data(body.readableBytesView))
            let promise = context.eventLoop.makePromise(of: HTTPResponse.self)
            promise.completeWithTask {
                switch routed {
                case .request(let request): return await recorder.exchange(request)
                case .answer(let response): return response
                case .admin: return .json(404, ["message": "the recorder has no admin API"])
                }
            }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { response in
                let (handler, context) = bound.value
                handler.write(response, keepAlive: keepAlive, context: context)
            }
        }
    }

    private func write(_ response: HTTPResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = NIOHTTP1.HTTPHeaders()
        for field in response.headers where !["content-length", "connection", "transfer-encoding"].contains(field.name) {
            headers.add(name: field.name, value: field.value)
        }
        headers.replaceOrAdd(name: "content-length", value: "\(response.body.count)")
        headers.replaceOrAdd(name: "connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: response.status), headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { _ in channel.close(promise: nil) } }
    }
}
