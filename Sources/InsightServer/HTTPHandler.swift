import Foundation
import InsightCore
import InsightEmulator
import Logging
import NIOCore
import NIOHTTP1

/// Turns HTTP/1.1 parts into emulator requests and writes the answers back, on the event loop:
/// the emulator decides synchronously, so no task hop sits on the request path.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let emulator: Emulator
    private let admin: AdminAPI
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    init(emulator: Emulator, admin: AdminAPI, logger: Logger) {
        self.emulator = emulator
        self.admin = admin
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
            if tooLarge {
                write(.json(413, ["message": .string("request body larger than \(EmulatorServer.maxBodyBytes) bytes")]),
                      keepAlive: false, context: context)
                return
            }
            respond(to: head, body: Data(body.readableBytesView), context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, body: Data, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        let request: HTTPRequest
        switch Self.route(head, body: body) {
        case .answer(let response):
            write(response, keepAlive: keepAlive, context: context)
            return
        case .admin(let request):
            write(admin.handle(request), keepAlive: keepAlive, context: context)
            return
        case .request(let routed):
            request = routed
        }
        let reply: Reply
        do {
            reply = try emulator.process(request)
        } catch {
            // Over a socket the host has already been reached; say which host is unknown.
            write(.json(421, ["message": .string("\(error)"),
                              "hint": "use a Rapid7 regional host (us.api.insight.rapid7.com …) or a /REGION/ path prefix"]),
                  keepAlive: keepAlive, context: context)
            return
        }
        switch reply {
        case .reset:
            context.close(promise: nil)
        case .respond(let response, let delay) where delay > 0:
            if let virtual = emulator.clock as? VirtualClock {
                virtual.advance(seconds: delay)
                write(response, keepAlive: keepAlive, context: context)
            } else {
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(delay * 1000))) {
                    let (handler, context) = bound.value
                    handler.write(response, keepAlive: keepAlive, context: context)
                }
            }
        case .respond(let response, _):
            write(response, keepAlive: keepAlive, context: context)
        }
    }

    /// Host-header routing, or the path-prefix form `/us2/validate` when the Host is the server
    /// itself (127.0.0.1, localhost). The prefix may also be a full host name. `/_admin/…` on
    /// the server's own address is the admin API.
    static func route(_ head: HTTPRequestHead, body: Data) -> Routed {
        guard let (rawPath, query) = Self.split(head.uri) else {
            return .answer(.json(400, ["message": .string("cannot parse the request target \(head.uri)")]))
        }
        var path = rawPath
        let hostHeader = head.headers.first(name: "host") ?? ""
        var host = String(hostHeader.split(separator: ":").first ?? "").lowercased()
        var headers = InsightCore.HTTPHeaders()
        for (name, value) in head.headers where name.lowercased() != "host" { headers.add(name, value) }
        if Region(host: host) == nil {
            if path == AdminAPI.prefix || path.hasPrefix(AdminAPI.prefix + "/") {
                return .admin(HTTPRequest(method: head.method.rawValue, scheme: "http", host: host, path: path,
                                          query: query, headers: headers, body: body))
            }
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
        return .request(HTTPRequest(method: head.method.rawValue, host: host, path: path,
                                    query: query, headers: headers, body: body))
    }

    /// Splits an origin-form request target into its path and query items (values
    /// percent-decoded, `+` as a space, as form encoding has it); nil when it is not origin-form.
    static func split(_ uri: String) -> (path: String, query: [URLQueryItem])? {
        guard uri.hasPrefix("/") else { return nil }
        guard let mark = uri.firstIndex(of: "?") else { return (uri, []) }
        let path = String(uri[..<mark])
        var items: [URLQueryItem] = []
        for pair in uri[uri.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]) else { return nil }
            items.append(URLQueryItem(name: name, value: parts.count > 1 ? decode(parts[1]) : nil))
        }
        return (path, items)
    }

    private func write(_ response: HTTPResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        HTTPServerSupport.write(response, keepAlive: keepAlive, context: context)
    }
}

/// A request bound for the emulator or the admin API, or an answer the server gives itself.
enum Routed: Sendable {
    case request(HTTPRequest)
    case admin(HTTPRequest)
    case answer(HTTPResponse)
}
