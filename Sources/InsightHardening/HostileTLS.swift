import Foundation
import InsightServer
import InsightCore
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// The hostile run over TLS: the same inputs as `HostileHTTP`, sent inside TLS, either straight
/// to the server's TLS port or through a `CONNECT` tunnel on its plain port; and bad
/// ClientHellos (records a TLS library must refuse), sent as raw bytes to the TLS port.
public enum HostileTLS {
    /// What a broken or hostile TLS client sends first.
    public enum Kind: String, CaseIterable, Sendable {
        case randomBytes, plaintextHTTP, truncatedRecordHeader, oversizedRecord, garbageClientHello, sslv2Hello
        case alertFirst, changeCipherSpecFirst, applicationDataFirst, fragmentedGarbage, zeroLengthRecords, wrongVersion
    }

    /// The bad ClientHello at `index`: a pure function of the seed and the index.
    public static func clientHello(_ index: Int, seed: UInt64) -> HostileHTTP.Input {
        var random = SeededRandom(seed: seed, label: "hostile-tls-\(index)")
        let kind = Kind.allCases[index % Kind.allCases.count]
        func noise(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        func record(_ type: UInt8, _ body: [UInt8], version: [UInt8] = [0x03, 0x01]) -> [UInt8] {
            [type] + version + [UInt8(body.count >> 8 & 0xFF), UInt8(body.count & 0xFF)] + body
        }
        let bytes: [UInt8]
        // Partial: the server may wait for more, and its idle timeout frees the connection.
        var partial = false
        switch kind {
        case .randomBytes:
            bytes = noise(8 + Int(random.next() % 2_000))
            partial = true
        case .plaintextHTTP:
            bytes = Array("GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\n\r\n".utf8)
        case .truncatedRecordHeader:
            bytes = [0x16, 0x03, 0x01]
            partial = true
        case .oversizedRecord:
            // A handshake record claiming 65,535 bytes (over TLS's 16 KiB + 2 KiB limit).
            bytes = [0x16, 0x03, 0x01, 0xFF, 0xFF] + noise(64)
            partial = true
        case .garbageClientHello:
            // A ClientHello's framing around random contents: version, random, then noise.
            var hello: [UInt8] = [0x03, 0x03] + noise(32) + noise(Int(random.next() % 300))
            hello = [0x01, 0x00, UInt8(hello.count >> 8), UInt8(hello.count & 0xFF)] + hello
            bytes = record(0x16, hello)
        case .sslv2Hello:
            // An SSL 2.0 CLIENT-HELLO: a two-byte header with the high bit set.
            let body: [UInt8] = [0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10, 0x07, 0x00, 0xC0] + noise(16)
            bytes = [0x80 | UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        case .alertFirst:
            bytes = record(0x15, [0x02, 0x28], version: [0x03, 0x03])
        case .changeCipherSpecFirst:
            bytes = record(0x14, [0x01], version: [0x03, 0x03])
        case .applicationDataFirst:
            bytes = record(0x17, noise(32 + Int(random.next() % 512)), version: [0x03, 0x03])
        case .fragmentedGarbage:
            // A thousand one-byte handshake records: a ClientHello split as finely as TLS allows.
            bytes = (0..<1_000).flatMap { _ in record(0x16, noise(1)) }
            partial = true
        case .zeroLengthRecords:
            bytes = (0..<200).flatMap { _ in record(0x16, []) }
        case .wrongVersion:
            bytes = record(0x16, [0x01, 0x00, 0x00, 0x26, 0x09, 0x09] + noise(36), version: [0x09, 0x09])
        }
        return HostileHTTP.Input(name: "tls.\(kind.rawValue)", bytes: bytes, partial: partial, answers: 0)
    }

    /// Sends raw bytes inside TLS: connects to 127.0.0.1, optionally asks for a `CONNECT`
    /// tunnel first, then runs a TLS client that trusts only the local CA and checks the leaf
    /// names `serverName`. Loopback only.
    public final class Sender: Sendable {
        public enum Route: Sendable {
            /// The server's TLS port.
            case direct(port: Int)
            /// `CONNECT serverName:443` on the server's plain port, then TLS in the tunnel.
            case tunnel(port: Int)
        }

        let group: MultiThreadedEventLoopGroup
        let context: NIOSSLContext
        public let serverName: String
        public let route: Route

        /// - Parameter trusting: the local CA's certificate (PEM file) the client trusts.
        public init(route: Route, serverName: String, trusting certificatePath: String) throws {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .file(certificatePath)
            context = try NIOSSLContext(configuration: configuration)
            group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            self.serverName = serverName
            self.route = route
        }

        public func shutdown() {
            try? group.syncShutdownGracefully()
        }

        /// One input on a new connection: the outcome as `HostileHTTP.send` reports it.
        public func send(_ bytes: [UInt8], timeout: Double, answers: Int = 1) -> HostileHTTP.Outcome {
            let port: Int
            switch route {
            case .direct(let direct): port = direct
            case .tunnel(let proxy): port = proxy
            }
            guard let socket = HostileHTTP.connectLoopback(port: port) else { return .refused }
            if case .tunnel = route, !openTunnel(socket, timeout: timeout) {
                close(socket)
                return .refused
            }
            let deadline = NIODeadline.now() + .milliseconds(Int64(timeout * 1000))
            let serverName = serverName, context = context
            let promise = group.next().makePromise(of: Collected.self)
            let channel: any Channel
            do {
                channel = try ClientBootstrap(group: group)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                            try channel.pipeline.syncOperations.addHandler(Collector(answers: answers, promise: promise))
                        }
                    }
                    .withConnectedSocket(socket).wait()
            } catch {
                close(socket)
                promise.succeed(Collected(bytes: [], timedOut: false))
                return .closed
            }
            channel.eventLoop.scheduleTask(deadline: deadline) { promise.succeed(Collected(bytes: [], timedOut: true)) }
            channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
            let collected = (try? promise.futureResult.wait()) ?? Collected(bytes: [], timedOut: true)
            channel.close(promise: nil)
            if collected.bytes.isEmpty { return collected.timedOut ? .hung : .closed }
            return HostileHTTP.status(collected.bytes)
        }

        /// `CONNECT serverName:443` on a plain socket; true when the server answered 200.
        private func openTunnel(_ socket: Int32, timeout: Double) -> Bool {
            let request = Array("CONNECT \(serverName):443 HTTP/1.1\r\nHost: \(serverName):443\r\n\r\n".utf8)
            guard request.withUnsafeBytes({ Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return false }
            var wait = timeval(tv_sec: Int(timeout), tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            // Byte by byte up to the blank line, so nothing of the TLS stream that follows is read here.
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while head.count < 4_096, recv(socket, &byte, 1, 0) == 1 {
                head.append(byte)
                if head.suffix(4) == [13, 10, 13, 10] { break }
            }
            return HostileHTTP.status(head) == .answered(200)
        }
    }

    /// `count` inputs over TLS, a third each: bad ClientHellos as raw bytes to `tlsPort`, the
    /// hostile HTTP inputs inside TLS on `tlsPort`, and the same inside a `CONNECT` tunnel on
    /// `plainPort`. After each batch a valid request must be answered 200 both ways.
    public static func run(count: Int, plainPort: Int, tlsPort: Int, trusting certificatePath: String, key: String,
                           seed: UInt64 = 1, timeout: Double = 3, workers: Int = 1, serverRSS: (() -> Int)? = nil,
                           progress: (Int) -> Void = { _ in }) throws -> HostileHTTP.Report {
        let host = "us2.api.insight.rapid7.com"
        let direct = try Sender(route: .direct(port: tlsPort), serverName: host, trusting: certificatePath)
        let tunnel = try Sender(route: .tunnel(port: plainPort), serverName: host, trusting: certificatePath)
        defer {
            direct.shutdown()
            tunnel.shutdown()
        }
        let valid = HostileHTTP.validRequest(key: key)
        return HostileHTTP.run(
            count: count,
            inputs: { index in
                switch index % 3 {
                case 0: return clientHello(index / 3, seed: seed)
                default:
                    let input = HostileHTTP.input(index / 3, seed: seed, key: key)
                    return HostileHTTP.Input(name: (index % 3 == 1 ? "direct." : "tunnel.") + input.name, bytes: input.bytes,
                                             partial: input.partial, answers: input.answers, mustNotSucceed: input.mustNotSucceed)
                }
            },
            send: { index, input in
                switch index % 3 {
                case 0: return HostileHTTP.send(input.bytes, port: tlsPort, timeout: timeout, answers: 0)
                case 1: return direct.send(input.bytes, timeout: timeout, answers: input.answers)
                default: return tunnel.send(input.bytes, timeout: timeout, answers: input.answers)
                }
            },
            healthy: { direct.send(valid, timeout: timeout) == .answered(200) && tunnel.send(valid, timeout: timeout) == .answered(200) },
            workers: workers, serverRSS: serverRSS, progress: progress)
    }

    struct Collected: Sendable {
        let bytes: [UInt8]
        let timedOut: Bool
    }

    /// Gathers what the server sends until it closes or `answers` status lines arrived.
    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let answers: Int
        let promise: EventLoopPromise<Collected>
        var received: [UInt8] = []

        init(answers: Int, promise: EventLoopPromise<Collected>) {
            self.answers = answers
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            received += buffer.readBytes(length: buffer.readableBytes) ?? []
            if answers > 0, HostileHTTP.statusLines(received) >= answers {
                promise.succeed(Collected(bytes: received, timedOut: false))
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.succeed(Collected(bytes: received, timedOut: false))
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A TLS failure (a refused handshake, an unclean close) ends the exchange: what
            // arrived before it is the outcome.
            context.close(promise: nil)
        }
    }
}
