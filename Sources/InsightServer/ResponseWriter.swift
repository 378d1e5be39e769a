import Foundation
import InsightCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Writing answers and binding listeners, shared by the emulator server and the recorder.
enum HTTPServerSupport {
    /// Writes a response. Hop-by-hop headers of the answer are replaced; a truncated-body fault
    /// promises more bytes than it sends and closes the connection without ending the message.
    static func write(_ response: HTTPResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        let truncated = response.headers["x-insight-replay-fault"] == "truncated"
        var headers = NIOHTTP1.HTTPHeaders()
        for field in response.headers where !["content-length", "connection", "transfer-encoding"].contains(field.name) {
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
        let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        if close { done.whenComplete { _ in channel.close(promise: nil) } }
    }

    /// Binds an HTTP/1.1 listener whose connections each get a handler from `makeHandler`.
    /// - Throws: `ServerError` naming the address when it cannot be bound (a busy port).
    static func bind(
        host: String, port: Int, threads: Int,
        makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> (any Channel, MultiThreadedEventLoopGroup) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(makeHandler())
                }
            }
        do {
            return (try await bootstrap.bind(host: host, port: port).get(), group)
        } catch {
            try? await group.shutdownGracefully()
            throw ServerError(message: "cannot listen on \(host):\(port): \(error); choose another --port (0 picks a free one)")
        }
    }
}
