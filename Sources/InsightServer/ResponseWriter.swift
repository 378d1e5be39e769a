import Foundation
import InsightCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Writing answers and binding listeners, shared by the emulator server and the recorder.
enum HTTPServerSupport {
    /// Writes a response. Hop-by-hop headers of the answer are replaced; a truncated-body fault
    /// promises more bytes than it sends and closes the connection without ending the message.
    static func write(_ response: HTTPResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        var truncated = false
        var headers = NIOHTTP1.HTTPHeaders()
        headers.reserveCapacity(response.headers.fields.count + 2)
        for field in response.headers.fields {
            // Names are lowercased already (InsightCore.HTTPHeaders keeps them so).
            switch field.name {
            case "content-length", "connection", "transfer-encoding": continue
            case "x-insight-replay-fault": truncated = field.value == "truncated"
            default: break
            }
            headers.add(name: field.name, value: field.value)
        }
        headers.add(name: "content-length", value: "\(truncated ? response.body.count * 2 + 1 : response.body.count)")
        let close = !keepAlive || truncated
        headers.add(name: "connection", value: close ? "close" : "keep-alive")
        let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: response.status), headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        let channel = context.channel
        if truncated {
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer)))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
        if close {
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
        host: String, port: Int, threads: Int, tls: NIOSSLContext? = nil, idleTimeout: TimeAmount? = nil,
        makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> (any Channel, MultiThreadedEventLoopGroup) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        do {
            return (try await bind(host: host, port: port, group: group, tls: tls, idleTimeout: idleTimeout, makeHandler: makeHandler), group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Binds on an existing event-loop group (a second listener of the same server).
    /// - Parameter idleTimeout: a connection that sends nothing for this long is closed (a
    ///   half-sent request, a client that went away), so idle sockets cannot pile up.
    static func bind(
        host: String, port: Int, group: MultiThreadedEventLoopGroup, tls: NIOSSLContext? = nil, idleTimeout: TimeAmount? = nil,
        makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let idleTimeout {
                        try sync.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                        try sync.addHandler(IdleCloser())
                    }
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try addHTTPHandlers(sync, handler: makeHandler(), forwardLeftovers: tls == nil)
                }
            }
        do {
            return try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw ServerError(message: bindFailure(error, host: host, port: port))
        }
    }

    /// A bind failure in a person's words, not the socket call's (`bind(descriptor:ptr:bytes:)`).
    static func bindFailure(_ error: any Error, host: String, port: Int) -> String {
        switch (error as? IOError)?.errnoCode {
        case EADDRINUSE: return "port \(port) is in use on \(host); try --port 0 (any free port) or stop what holds it"
        case EACCES: return "port \(port) needs privileges on \(host); use a port above 1023, or --port 0"
        case EADDRNOTAVAIL: return "address \(host) is not one of this machine's; use 127.0.0.1"
        default:
            if error is SocketAddressError { return "address '\(host)' cannot be resolved; use 127.0.0.1" }
            return "cannot listen on \(host):\(port): \(error); try --port 0 (any free port)"
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

/// Closes a connection when `IdleStateHandler` says nothing was read for its timeout.
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
