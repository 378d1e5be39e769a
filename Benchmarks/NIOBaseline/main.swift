// The practical ceiling for a Swift HTTP/1.1 server on this machine: SwiftNIO's own HTTP
// handlers (the same pipeline insight-replay's server uses) answering every request with one
// fixed body, prebuilt. Benchmarks/server.sh runs it beside nginx and `insight-replay serve`.
//
//   nio-baseline PORT THREADS BODY-FILE
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

final class FixedAnswer: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let head: HTTPResponseHead
    let body: ByteBuffer

    init(body: ByteBuffer) {
        head = HTTPResponseHead(version: .http1_1, status: .ok,
                                headers: ["content-type": "application/json", "content-length": "\(body.readableBytes)"])
        self.body = body
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let port = Int(arguments[1]), let threads = Int(arguments[2]),
      let bytes = FileManager.default.contents(atPath: arguments[3])
else {
    FileHandle.standardError.write(Data("usage: nio-baseline PORT THREADS BODY-FILE\n".utf8))
    exit(2)
}
let answer = FixedAnswer(body: ByteBuffer(bytes: bytes))
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.backlog, value: 256)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(answer)
        }
    }
    .bind(host: "127.0.0.1", port: port).wait()
print("listening on \(channel.localAddress?.port ?? port)")
fflush(nil)
try channel.closeFuture.wait()
