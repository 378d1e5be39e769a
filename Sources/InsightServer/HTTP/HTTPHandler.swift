import Foundation
import InsightCore
import InsightEmulator
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// Turns HTTP/1.1 parts into emulator requests and writes the answers back, on the event loop:
/// the emulator decides synchronously, so no task hop sits on the request path.
///
/// On a plain connection it is also the proxy: `CONNECT host:443` to a Rapid7 host is answered
/// 200 and the connection becomes TLS with a leaf for that host (from the local CA), then HTTP
/// again inside; absolute-form requests (`GET http://us.api.insight.rapid7.com/validate`) go to
/// their host. Any other host is refused with 403.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let settings: ServerSettings
    private let arrival: Arrival
    /// The clock on this connection's request heads, when it has one (see `HeadClock`).
    var headClock: HeadClock?
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false
    private let idle: IdleTimer?

    init(settings: ServerSettings, arrival: Arrival) {
        self.settings = settings
        self.arrival = arrival
        idle = settings.idleTimeout.map(IdleTimer.init(timeout:))
    }

    // The idle timer runs while the handler is on an open connection (a tunnel's inner handler
    // starts its own as the outer one is removed).
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { idle?.start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        idle?.start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idle?.stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idle?.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        idle?.heard()
        switch unwrapInboundIn(data) {
        case .head(let head):
            headClock?.headReceived()
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
            headClock?.requestEnded()
            // Moved out, not copied and then cleared.
            guard let head = head.take() else { return }
            if head.method == .CONNECT {
                connect(head, context: context)
                return
            }
            if tooLarge {
                write(.json(413, ["message": .string("request body larger than \(EmulatorServer.maxBodyBytes) bytes")]),
                      persistence: .close, context: context)
                return
            }
            respond(to: head, body: body.readableBytes == 0 ? Data() : Data(body.readableBytesView), context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, body: Data, context: ChannelHandlerContext) {
        let persistence = HTTPServerSupport.Persistence(head)
        switch Self.route(head, body: body, arrival: arrival) {
        case .answer(let response):
            write(response, persistence: persistence, context: context)
        case .admin(let request):
            write(settings.admin.handle(request), persistence: persistence, context: context)
        case .request(let request, let found, let viaPrefix):
            let links = viaPrefix ? LinkRewriter(base: settings.linkBase ?? "\(arrival.secure ? "https" : "http")://\(head.headers.first(name: "host") ?? "127.0.0.1")") : nil
            answer(settings.emulator.process(request, region: found.region, kind: found.kind), links: links, persistence: persistence, context: context)
        }
    }

    /// Writes the emulator's reply: at once, after its latency, or as a reset.
    private func answer(_ reply: Reply, links: LinkRewriter?, persistence: HTTPServerSupport.Persistence, context: ChannelHandlerContext) {
        switch reply {
        case .reset:
            context.close(promise: nil)
        case .respond(let response, let delay) where delay > 0:
            let response = links?.rewrite(response) ?? response
            // Latency is the clock's time: a virtual clock moves and answers at once, a scaled one
            // waits `scale` times less, the shared clock of an outside client waits its turn.
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            settings.emulator.clock.after(seconds: delay) {
                let send: @Sendable () -> Void = {
                    let (handler, context) = bound.value
                    handler.write(response, persistence: persistence, context: context)
                }
                if loop.inEventLoop { send() } else { loop.execute(send) }
            }
        case .respond(let response, _):
            write(links?.rewrite(response) ?? response, persistence: persistence, context: context)
        }
    }

    // MARK: CONNECT

    /// Answers a CONNECT: 403 for a host the emulator does not serve or a port other than 443
    /// (the Rapid7 hosts speak HTTPS on 443 only), else 200 and TLS.
    private func connect(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let target = head.uri
        let host = String(target.split(separator: ":").first ?? "").lowercased()
        let port = target.split(separator: ":").dropFirst().first.map(String.init)
        if let port, port != "443" {
            settings.logger.notice("refused CONNECT \(target): only port 443 is tunnelled")
            write(.json(403, ["message": .string("CONNECT \(target) refused: the Rapid7 hosts are tunnelled on port 443 only")]),
                  persistence: .close, context: context)
            return
        }
        guard arrival.tunnelHost == nil else {
            write(.json(405, ["message": "CONNECT inside a CONNECT tunnel is not supported"]), persistence: .close, context: context)
            return
        }
        guard ProxyPolicy.isEmulated(host: host) else {
            settings.logger.notice("refused CONNECT \(target): not a Rapid7 host")
            write(ProxyPolicy.refusal(target: target), persistence: .close, context: context)
            return
        }
        guard let authority = settings.authority else {
            write(.json(501, ["message": "this server was started without its certificate authority; CONNECT needs it"]),
                  persistence: .close, context: context)
            return
        }
        let sslContext: NIOSSLContext
        do {
            sslContext = try authority.serverContext(for: host)
        } catch {
            write(.json(500, ["message": .string("cannot issue a certificate for \(host): \(error)")]), persistence: .close, context: context)
            return
        }
        // A 2xx to CONNECT carries no body; NIO's encoder wants a length, so it says 0, which
        // clients ignore (RFC 9110 §9.3.6).
        let response = HTTPResponseHead(version: .http1_1, status: .ok,
                                        headers: ["content-length": "0", "x-insight-replay-tunnel": host])
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        do {
            try HTTPServerSupport.becomeTunnel(context: context, handler: self, sslContext: sslContext,
                                               settings: settings, host: host)
        } catch {
            settings.logger.error("cannot open the TLS tunnel to \(host): \(error)")
            context.close(promise: nil)
        }
    }

    // MARK: Routing

    /// Where a request goes. In a tunnel: its host. Absolute-form: the URL's host (a Rapid7
    /// host, else 403). Otherwise Host-header routing, or the path-prefix form `/us2/validate`
    /// when the Host is the server itself (127.0.0.1, localhost); the prefix may also be a full
    /// host name. `/_admin/…` on the server's own address is the admin API.
    static func route(_ head: HTTPRequestHead, body: Data, arrival: Arrival = .plain) -> Routed {
        let target: String, absoluteHost: String?
        switch absoluteForm(head.uri, arrival: arrival) {
        case .success(let found): (target, absoluteHost) = found
        case .failure(let refusal): return .answer(refusal)
        }
        guard let (path, query) = Self.split(target) else {
            return .answer(.json(400, ["message": .string("cannot parse the request target \(head.uri)")]))
        }
        let (hostHeader, headers) = fields(head.headers)
        // Inside a tunnel the request is for the tunnel's host: a Host naming another is
        // misdirected (RFC 9110 §15.5.20), not answered as the tunnel's.
        if let tunnel = arrival.tunnelHost, let hostHeader, Self.hostName(hostHeader) != tunnel {
            return .answer(.json(421, ["message": .string("Misdirected Request: Host \(hostHeader) inside the tunnel to \(tunnel)")]))
        }
        var (host, found) = regionalHost(hostHeader: hostHeader, arrival: arrival, absoluteHost: absoluteHost)
        var routedPath = path
        var viaPrefix = false
        if found == nil {
            // Addressed to the server itself: the console host, the admin API, or a region prefix.
            switch serverAddressed(head, path: path, query: query, headers: headers, body: body, host: host, hostHeader: hostHeader) {
            case .routed(let routed): return routed
            case .prefixed(let prefixedHost, let region, let rest):
                (host, found, routedPath) = (prefixedHost, region, rest)
                viaPrefix = true
            }
        }
        guard let found else {
            // Over a socket the host has already been reached; say which host is unknown.
            let error = CoreError.transport(.nameResolution, host: host, detail: "not a Rapid7 Insight host")
            return .answer(.json(421, ["message": .string("\(error)"),
                                       "hint": "use a Rapid7 regional host (us.api.insight.rapid7.com …) or a /REGION/ path prefix"]))
        }
        // Taken as they are: NIO's methods are upper-case literals (a raw one is folded), and the
        // host is a region's literal or a lower-cased prefix.
        var method = head.method.rawValue
        if case .RAW = head.method { method = method.uppercasedIfNeeded() }
        return .request(HTTPRequest(canonicalMethod: method, host: host, path: routedPath, query: query, headers: headers, body: body),
                        host: found, viaPrefix: viaPrefix)
    }

    /// An absolute-form target (`https://us2.api.insight.rapid7.com/validate`, what a client
    /// sends a proxy): its origin-form target and the host, nil for a loopback URL (the server
    /// itself, from a client whose NO_PROXY missed it); a host that is not a Rapid7 one is refused.
    static func absoluteForm(_ uri: String, arrival: Arrival) -> Result<(target: String, host: String?), HTTPResponse> {
        // Origin-form (`/validate`) is the common case: only a target not starting with "/" can be a URL.
        guard arrival.tunnelHost == nil, uri.utf8.first != UInt8(ascii: "/"),
              let scheme = ["http://", "https://"].first(where: { uri.prefix($0.count).lowercased() == $0 })
        else { return .success((uri, nil)) }
        let rest = uri.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let host = String(authority.split(separator: ":").first ?? "").lowercased()
        var absoluteHost: String?
        if !ProxyPolicy.isLoopback(host: host) {
            guard ProxyPolicy.isEmulated(host: host) else { return .failure(ProxyPolicy.refusal(target: String(authority))) }
            absoluteHost = host
        }
        let path = rest.dropFirst(authority.count)
        return .success((path.hasPrefix("/") ? String(path) : "/" + path, absoluteHost))
    }

    /// One pass over the head's fields: the first Host header, and every other field for the
    /// emulator, each name folded once (well-known ones to literals, which compare at once).
    static func fields(_ fields: NIOHTTP1.HTTPHeaders) -> (host: String?, headers: InsightCore.HTTPHeaders) {
        var hostHeader: String?
        var headers = InsightCore.HTTPHeaders()
        for (name, value) in fields {
            let lower = InsightCore.HTTPHeaders.lowercasedName(name)
            if lower == "host" {
                if hostHeader == nil { hostHeader = value }
            } else {
                headers.add(lowercased: lower, value)
            }
        }
        return (hostHeader, headers)
    }

    /// The regional host a request names (the tunnel's, the absolute URL's, or the Host
    /// header's), as the region's literal; nil when it names none (the server itself).
    static func regionalHost(hostHeader: String?, arrival: Arrival, absoluteHost: String?)
        -> (host: String, found: (region: Region, kind: Region.HostKind)?)
    {
        var host = arrival.tunnelHost ?? absoluteHost ?? hostHeader ?? ""
        // The Host header as sent is nearly always the host itself: look it up as it is first.
        var found = Region.lookup(host: host)
        if found == nil, arrival.tunnelHost == nil, absoluteHost == nil {
            host = Self.hostName(hostHeader ?? "")
            found = Region.lookup(host: host)
        }
        // The host as the region's literal: the same name in lower case, made and counted never.
        if let found { host = found.region.host(found.kind) }
        return (host, found)
    }

    /// A request to the server's own address: answered at once (the console host, the admin
    /// API, no region), or a region named by the path's first segment, with the rest of the path.
    enum ServerAddressed {
        case routed(Routed)
        case prefixed(host: String, region: (region: Region, kind: Region.HostKind), path: String)
    }

    static func serverAddressed(_ head: HTTPRequestHead, path: String, query: [URLQueryItem], headers: InsightCore.HTTPHeaders,
                                body: Data, host: String, hostHeader: String?) -> ServerAddressed
    {
        if let console = ProxyPolicy.consoleAnswer(host: host) { return .routed(.answer(console)) }
        if path == AdminAPI.prefix || path.hasPrefix(AdminAPI.prefix + "/") {
            // The Host header as sent: the admin API checks it names this machine.
            return .routed(.admin(HTTPRequest(method: head.method.rawValue, scheme: "http", host: hostHeader ?? "", path: path,
                                              query: query, headers: headers, body: body)))
        }
        let segments = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let prefix = segments.count > 1 ? String(segments[1].split(separator: "/").first ?? "") : ""
        let rest = segments.count > 1 ? String(segments[1].dropFirst(prefix.count)) : ""
        let routedPath = rest.isEmpty ? "/" : rest
        if let region = Region(rawValue: prefix.lowercased()) {
            return .prefixed(host: region.platformHost, region: (region, .platform), path: routedPath)
        }
        if let prefixed = Region.lookup(host: prefix) {
            return .prefixed(host: prefixed.region.host(prefixed.kind), region: prefixed, path: routedPath)
        }
        return .routed(.answer(.json(404, [
            "message": .string("no regional host in Host (\(hostHeader ?? "")) or path prefix (/\(prefix))"),
            "hint": .string("send Host: us.api.insight.rapid7.com, or prefix the path: /us/validate, /us2.rest.logs.insight.rapid7.com/management/logs"),
        ])))
    }

    /// The host of a Host header, without its port, in lower case (as it usually comes already).
    static func hostName(_ header: String) -> String {
        let utf8 = header.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: ":") || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else { return header }
        return String(header.split(separator: ":").first ?? "").lowercased()
    }

    /// Splits an origin-form request target into its path and query items (values
    /// percent-decoded, `+` as a space, as form encoding has it); nil when it is not origin-form
    /// or a name or value holds an escape that does not decode (`%zz`): the server answers 400.
    static func split(_ uri: String) -> (path: String, query: [URLQueryItem])? {
        guard uri.utf8.first == UInt8(ascii: "/") else { return nil }
        guard let offset = uri.withContiguousUTF8({ $0.firstIndex(of: UInt8(ascii: "?")) }) else { return (uri, []) }
        let mark = uri.utf8.index(uri.utf8.startIndex, offsetBy: offset)
        let path = String(uri[..<mark])
        var items: [URLQueryItem] = []
        for pair in uri[uri.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? {
                // Foundation only for what needs decoding: most names and values are plain.
                let plain = !text.utf8.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }
                return plain ? String(text) : String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]) else { return nil }
            guard parts.count > 1 else {
                items.append(URLQueryItem(name: name, value: nil))
                continue
            }
            // A value with a bad escape is refused like a name with one, not passed on as no value.
            guard let value = decode(parts[1]) else { return nil }
            items.append(URLQueryItem(name: name, value: value))
        }
        return (path, items)
    }

    /// Writes an answer. A connection mostly asks the same thing again (a client polling
    /// `/validate`, a load test): an answer equal to the last one on this connection is sent
    /// from the parts already made for it, when it is small enough to compare cheaply.
    private func write(_ response: HTTPResponse, persistence: HTTPServerSupport.Persistence, context: ChannelHandlerContext) {
        if let last, last.persistence == persistence, Self.same(last.response, response) {
            HTTPServerSupport.write(last.prepared, context: context)
            return
        }
        let prepared = HTTPServerSupport.prepare(response, persistence: persistence, allocator: context.channel.allocator)
        last = response.body.count <= Self.reusableBodyBytes && !prepared.truncated && !prepared.close
            ? (response, persistence, prepared) : nil
        HTTPServerSupport.write(prepared, context: context)
    }

    /// `a == b`, cheaper: status and length first, and bodies that share their bytes (a thread's
    /// constant answer, handed out again) are not compared byte by byte (`Data.==` cost about
    /// 35 ns of a `/validate` on the server's path).
    static func same(_ a: HTTPResponse, _ b: HTTPResponse) -> Bool {
        guard a.status == b.status, a.body.count == b.body.count, a.headers == b.headers else { return false }
        return a.body.withUnsafeBytes { left in
            b.body.withUnsafeBytes { right in
                left.baseAddress == right.baseAddress || left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
            }
        }
    }

    /// The largest body `write` keeps to send again (comparing costs a pass over it).
    static let reusableBodyBytes = 1024
    private var last: (response: HTTPResponse, persistence: HTTPServerSupport.Persistence, prepared: HTTPServerSupport.Prepared)?
}

/// A request bound for the emulator or the admin API, or an answer the server gives itself.
enum Routed: Sendable {
    /// `host`: the region and kind of its host (looked up once, here). `viaPrefix`: it came by
    /// path prefix, so links in the answer are rewritten to stay inside.
    case request(HTTPRequest, host: (region: Region, kind: Region.HostKind), viaPrefix: Bool)
    case admin(HTTPRequest)
    case answer(HTTPResponse)
}
