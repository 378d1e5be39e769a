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
        productVersion: String? = nil, host: String = "127.0.0.1", port: Int = 0, clock: any InsightClock = SystemClock(),
        logger: Logger = Logger(label: "insight-replay.recorder")
    ) async throws -> RecordingProxy {
        let recorder = Recorder(upstream: upstream, source: "proxy \(upstreamDescription)", productVersion: productVersion, store: store,
                                name: name, clock: clock, logger: logger)
        let (channel, group) = try await HTTPServerSupport.bind(host: host, port: port, threads: 1) { ProxyHandler(recorder: recorder) }
        return RecordingProxy(channel: channel, group: group, host: host, recorder: recorder)
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
    let productVersion: String?
    let store: any RecordingStore
    let name: String
    let clock: any InsightClock
    let logger: Logger
    private let lock = NSLock()
    private var redactor = Redactor()
    private var written = 0
    private var refused: [String] = []

    init(upstream: any HTTPTransport, source: String, productVersion: String?, store: any RecordingStore, name: String,
         clock: any InsightClock, logger: Logger) {
        self.upstream = upstream
        self.source = source
        self.productVersion = productVersion
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
                let provenance = Provenance(recordedAt: started, region: Region(host: request.host)?.code, source: source, productVersion: productVersion)
                try store.appendExchange(safe, to: name, provenance: provenance)
                written += 1
            }
        } catch let error as RecordingError where error.refusedField != nil {
            lock.withLock { refused.append(error.refusedField!) }
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
            let persistence = HTTPServerSupport.Persistence(head)
            let recorder = self.recorder
            let routed = HTTPHandler.route(head, body: Data(body.readableBytesView))
            let promise = context.eventLoop.makePromise(of: HTTPResponse.self)
            promise.completeWithTask {
                switch routed {
                case .request(let request, _, _): return await recorder.exchange(request)
                case .answer(let response): return response
                case .admin: return .json(404, ["message": "the recorder has no admin API"])
                }
            }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { response in
                let (handler, context) = bound.value
                handler.write(response, persistence: persistence, context: context)
            }
        }
    }

    private func write(_ response: HTTPResponse, persistence: HTTPServerSupport.Persistence, context: ChannelHandlerContext) {
        HTTPServerSupport.write(response, persistence: persistence, context: context)
    }
}
