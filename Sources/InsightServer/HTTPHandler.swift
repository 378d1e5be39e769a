import Foundation
import InsightCore
import InsightEmulator
import Logging
import NIOCore
import NIOHTTP1

/// A request bound for the emulator, or an answer the server gives itself.
enum Routed: Sendable {
    case request(HTTPRequest)
    case answer(HTTPResponse)
}

/// Turns HTTP/1.1 parts into emulator requests and writes the answers back.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let emulator: Emulator
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    init(emulator: Emulator, logger: Logger) {
        self.emulator = emulator
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            tooLarge = false
        case .body(var part):
            if body.readableBytes + part.readableBytes > EmulatorServer.maxBodyBytes {
                tooLarge = true
            } else {
                body.writeBuffer(&part)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive && !tooLarge
            if tooLarge {
                write(.json(413, ["message": .string("request body larger than \(EmulatorServer.maxBodyBytes) bytes")]),
                      keepAlive: false, context: context)
                return
            }
            let routed = Self.route(head, body: Data(body.readableBytesView))
            let emulator = self.emulator
            let promise = context.eventLoop.makePromise(of: HTTPResponse.self)
            promise.completeWithTask {
                switch routed {
                case .answer(let response): return response
                case .request(let request):
                    do {
                        return try await emulator.handle(request)
                    } catch let error as TransportError {
                        // Over a socket the host has already been reached; say which host is unknown.
                        return .json(421, ["message": .string("\(error)"),
                                           "hint": "use a Rapid7 regional host (us.api.insight.rapid7.com …) or a /REGION/ path prefix"])
                    }
                }
            }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenComplete { result in
                let (handler, context) = bound.value
                switch result {
                case .success(let response): handler.write(response, keepAlive: keepAlive, context: context)
                case .failure(let error):
                    handler.write(.json(500, ["message": .string("emulator failure: \(error)")]), keepAlive: false, context: context)
                }
            }
        }
    }

    /// Host-header routing, or the path-prefix form `/us2/validate` when the Host is the server
    /// itself (127.0.0.1, localhost). The prefix may also be a full host name.
    static func route(_ head: HTTPRequestHead, body: Data) -> Routed {
        guard let components = URLComponents(string: head.uri) else {
            return .answer(.json(400, ["message": .string("cannot parse the request target \(head.uri)")]))
        }
        var path = components.percentEncodedPath
        let hostHeader = head.headers.first(name: "host") ?? ""
        var host = String(hostHeader.split(separator: ":").first ?? "").lowercased()
        if Region(host: host) == nil {
            let segments = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let prefix = segments.count > 1 ? String(segments[1].split(separator: "/").first ?? "") : ""
            let rest = segments.count > 1 ? String(segments[1].dropFirst(prefix.count)) : ""
            if let region = Region(rawValue: prefix.lowercased()) {
                host = region.platformHost
            } else if Region(host: prefix) != nil {
                host = prefix.lowercased()
            } else {
                return .answer(.json(404, [
                    "message": .string("no regional host in Host (\(hostHeader)) or path prefix (/\(prefix))"),
                    "hint": .string("send Host: us.api.insight.rapid7.com, or prefix the path: /us/validate, /us2.rest.logs.insight.rapid7.com/management/logs"),
                ]))
            }
            path = rest.isEmpty ? "/" : rest
        }
        var headers = InsightCore.HTTPHeaders()
        for (name, value) in head.headers where name.lowercased() != "host" { headers.add(name, value) }
        return .request(HTTPRequest(method: head.method.rawValue, host: host, path: path,
                                    query: components.queryItems ?? [], headers: headers, body: body))
    }

    private func write(_ response: HTTPResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = NIOHTTP1.HTTPHeaders()
        for field in response.headers { headers.add(name: field.name, value: field.value) }
        headers.replaceOrAdd(name: "content-length", value: "\(response.body.count)")
        headers.replaceOrAdd(name: "connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
