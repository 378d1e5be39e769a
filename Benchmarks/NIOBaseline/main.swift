// The practical ceiling for a Swift HTTP/1.1 server on this machine: SwiftNIO's own HTTP
// handlers (the same pipeline insight-replay's server uses) answering every request with one
// fixed body, prebuilt. Benchmarks/server.sh runs it beside nginx and `insight-replay serve`.
//
//   nio-baseline PORT THREADS BODY-FILE
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
// The handler only (`FixedAnswerHandler`, NIO's types and nothing else on the request path): the
// same class `bench-request` compares with in process.
import InsightHardening
import InsightServer

let arguments = CommandLine.arguments
guard arguments.count == 4, let port = Int(arguments[1]), let threads = Int(arguments[2]),
      let bytes = FileManager.default.contents(atPath: arguments[3])
else {
    FileHandle.standardError.write(Data("usage: nio-baseline PORT THREADS BODY-FILE\n".utf8))
    exit(2)
}
let answer = FixedAnswerHandler(body: ByteBuffer(bytes: bytes))
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
