import Foundation
#if canImport(Glibc)
import Glibc
#endif
import InsightCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Writing answers and binding listeners, shared by the emulator server and the recorder.
enum HTTPServerSupport {
    /// A response as NIO parts, ready to write (and to write again: see `HTTPHandler`).
    struct Prepared {
        let head: HTTPResponseHead
        let body: ByteBuffer
        /// A truncated-body fault: the head promises more than the body holds.
        let truncated: Bool
        let close: Bool
    }

    /// Whether a connection stays open after an answer, and whether the answer must say so.
    enum Persistence: Equatable {
        case close
        /// HTTP/1.1's default: the answer says nothing of it (RFC 9112 §9.3), as Go's and
        /// SwiftNIO's servers do; `connection: keep-alive` on every answer cost the encoder
        /// about 5 % of a `/validate` (`bench-request`).
        case keepAlive
        /// An HTTP/1.0 client asked to keep the connection (`Connection: keep-alive`): only the
        /// answer's saying so keeps it (RFC 9112 §C.2.2).
        case keepAliveSaid

        init(_ head: HTTPRequestHead) {
            if !head.isKeepAlive {
                self = .close
            } else {
                self = head.version.major == 1 && head.version.minor == 0 ? .keepAliveSaid : .keepAlive
            }
        }
    }

    /// Writes a response. Hop-by-hop headers of the answer are replaced; a truncated-body fault
    /// promises more bytes than it sends and closes the connection without ending the message.
    static func write(_ response: HTTPResponse, persistence: HTTPServerSupport.Persistence, context: ChannelHandlerContext) {
        write(prepare(response, persistence: persistence, allocator: context.channel.allocator), context: context)
    }

    static func prepare(_ response: HTTPResponse, persistence: HTTPServerSupport.Persistence, allocator: ByteBufferAllocator) -> Prepared {
        var truncated = false
        var fields: [(String, String)] = []
        fields.reserveCapacity(response.headers.fields.count + 2)
        for field in response.headers.fields {
            // Names are lowercased already (InsightCore.HTTPHeaders keeps them so).
            switch field.name {
            case "content-length", "connection", "transfer-encoding": continue
            case "x-insight-replay-fault": truncated = field.value == "truncated"
            default: break
            }
            fields.append((field.name, field.value))
        }
        fields.append(("content-length", String(truncated ? response.body.count * 2 + 1 : response.body.count)))
        let close = persistence == .close || truncated
        if close {
            fields.append(("connection", "close"))
        } else if persistence == .keepAliveSaid {
            fields.append(("connection", "keep-alive"))
        }
        // From the array at once: `add` checks each name for ASCII, and would trap on a name that
        // is not (a recording's or a fault's); the encoder writes the bytes as they are.
        let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: response.status), headers: NIOHTTP1.HTTPHeaders(fields))
        var buffer = allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        return Prepared(head: head, body: buffer, truncated: truncated, close: close)
    }

    static func write(_ prepared: Prepared, context: ChannelHandlerContext) {
        context.write(NIOAny(HTTPServerResponsePart.head(prepared.head)), promise: nil)
        let channel = context.channel
        if prepared.truncated {
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(prepared.body)))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(prepared.body))), promise: nil)
        if prepared.close {
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        } else {
            // No future to allocate when nothing waits for it: this is every keep-alive answer.
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        }
    }

    /// Binds an HTTP/1.1 listener whose connections each get a handler from `makeHandler`.
    /// With `tls`, every connection speaks TLS first (the direct TLS port).
    /// - Throws: `ServerError` naming the address when it cannot be bound (a busy port).
    static func bind(
        host: String, port: Int, threads: Int, tls: NIOSSLContext? = nil, gate: ConnectionGate? = nil,
        makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> (any Channel, MultiThreadedEventLoopGroup) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        do {
            return (try await bind(host: host, port: port, group: group, tls: tls, gate: gate, makeHandler: makeHandler), group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Binds on an existing event-loop group (a second listener of the same server).
    static func bind(
        host: String, port: Int, group: MultiThreadedEventLoopGroup, tls: NIOSSLContext? = nil, gate: ConnectionGate? = nil,
        makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                if let gate, !gate.admit(channel) { return channel.eventLoop.makeSucceededVoidFuture() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try addHTTPHandlers(sync, handler: makeHandler(), forwardLeftovers: tls == nil)
                }
            }
        do {
            return try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw bindFailure(error, host: host, port: port)
        }
    }

    /// A bind failure in a person's words, not the socket call's (`bind(descriptor:ptr:bytes:)`).
    static func bindFailure(_ error: any Error, host: String, port: Int) -> ServerError {
        switch (error as? IOError)?.errnoCode {
        case EADDRINUSE: return .serving("port \(port) is in use on \(host)", remedy: "try --port 0 (any free port) or stop what holds it")
        case EACCES: return .serving("port \(port) needs privileges on \(host)", remedy: "use a port above 1023, or --port 0")
        case EADDRNOTAVAIL: return .serving("address \(host) is not one of this machine's", remedy: "use 127.0.0.1")
        default:
            if error is SocketAddressError { return .serving("address '\(host)' cannot be resolved", remedy: "use 127.0.0.1") }
            return .serving("cannot listen on \(host):\(port): \(error)", remedy: "try --port 0 (any free port)")
        }
    }

    static let encoderName = "insight-http-encoder"
    static let decoderName = "insight-http-decoder"
    static let pipeliningName = "insight-http-pipelining"
    static let errorsName = "insight-http-errors"

    /// NIO's HTTP/1.1 server handlers, named so a CONNECT can take them out again. The decoder
    /// of a plain connection keeps the bytes that follow a CONNECT (the client's TLS hello) and
    /// hands them on when it is removed.
    static func addHTTPHandlers(_ sync: ChannelPipeline.SynchronousOperations, handler: any ChannelHandler,
                                forwardLeftovers: Bool) throws
    {
        try sync.addHandler(HTTPResponseEncoder(), name: encoderName)
        if let http = handler as? HTTPHandler, let timeout = http.settings.headTimeout {
            let clock = HeadClock(timeout: timeout)
            try sync.addHandler(clock)
            http.headClock = clock
        }
        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: forwardLeftovers ? .forwardBytes : .dropBytes)),
                            name: decoderName)
        try sync.addHandler(HTTPServerPipelineHandler(), name: pipeliningName)
        try sync.addHandler(HTTPServerProtocolErrorHandler(), name: errorsName)
        try sync.addHandler(handler)
    }

    /// Turns a plain connection that has just been answered 200 to its CONNECT into a TLS
    /// tunnel: TLS with the host's leaf, then HTTP again, handled as requests to `host`. Runs on
    /// the event loop, inside the handler's read of the CONNECT's end.
    static func becomeTunnel(context: ChannelHandlerContext, handler: HTTPHandler, sslContext: NIOSSLContext,
                             settings: ServerSettings, host: String) throws
    {
        let pipeline = context.pipeline
        let sync = pipeline.syncOperations
        for name in [encoderName, pipeliningName, errorsName] {
            sync.removeHandler(context: try sync.context(name: name), promise: nil)
        }
        let inner = HTTPHandler(settings: settings, arrival: Arrival(tunnelHost: host, secure: true))
        try sync.addHandler(NIOSSLServerHandler(context: sslContext), position: .after(handler))
        // The inner handlers go after the TLS handler; names are per pipeline, so the inner set
        // is added without them (nothing removes it again).
        let tlsContext = try sync.context(handlerType: NIOSSLServerHandler.self)
        try sync.addHandlers([HTTPResponseEncoder(), ByteToMessageHandler(HTTPRequestDecoder()), HTTPServerPipelineHandler(),
                              HTTPServerProtocolErrorHandler(), inner], position: .after(tlsContext.handler))
        sync.removeHandler(context: context, promise: nil)
        // Last: the decoder hands what it holds (the TLS hello, if it came early) to TLS.
        sync.removeHandler(context: try sync.context(name: decoderName), promise: nil)
    }
}
