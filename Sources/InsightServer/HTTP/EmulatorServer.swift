import Foundation
import InsightCore
import InsightEmulator
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The emulator on a real socket: HTTP/1.1 on loopback, routed by Host header, or by a path
/// prefix (`/us2/validate`) for clients that cannot set Host.
public final class EmulatorServer: Sendable {
    public let emulator: Emulator
    /// The port actually bound (useful when 0 was asked for).
    public let port: Int
    /// The direct TLS port, when one was asked for.
    public let tlsPort: Int?
    public let host: String
    /// The CA whose leaves the CONNECT tunnels and the TLS port present, when TLS is on.
    public let authority: CertificateAuthority?
    /// The token the admin API asks for (`X-Admin-Token`), made at start: for secrets, and for
    /// every admin request when the server is bound to an address other than loopback.
    public let adminToken: String
    /// Whether every admin request needs the token (bound off loopback).
    public var adminTokenRequired: Bool { !ProxyPolicy.isLoopback(host: host) }
    private let channels: [any Channel]
    private let group: MultiThreadedEventLoopGroup

    /// Largest request body accepted; larger ones get 413 and the connection closes.
    public static let maxBodyBytes = 8 * 1024 * 1024

    private init(emulator: Emulator, channels: [any Channel], group: MultiThreadedEventLoopGroup, host: String,
                 authority: CertificateAuthority?, adminToken: String)
    {
        self.adminToken = adminToken
        self.emulator = emulator
        self.channels = channels
        self.group = group
        self.host = host
        self.authority = authority
        port = channels[0].localAddress?.port ?? 0
        tlsPort = channels.count > 1 ? channels[1].localAddress?.port : nil
    }

    /// Binds and starts serving. Binds 127.0.0.1 unless another address is asked for explicitly.
    ///
    /// - Parameters:
    ///   - authority: the local CA; with it the plain port is also an HTTPS proxy (`CONNECT`
    ///     to Rapid7 hosts), and `tlsPort` can be opened.
    ///   - tlsPort: a port speaking TLS directly (0 picks a free one), for clients that take a
    ///     base URL but insist on https.
    ///   - linkBase: what replaces `https://HOST` in answers to path-prefix requests; nil: the
    ///     address each request came to.
    /// - Throws: `ServerError` naming the address when it cannot be bound (a busy port).
    public static func start(
        emulator: Emulator, host: String = "127.0.0.1", port: Int = 0,
        threads: Int = System.coreCount, loadScenario: ScenarioLoading? = nil,
        authority: CertificateAuthority? = nil, tlsPort: Int? = nil, linkBase: String? = nil,
        idleTimeout: Double = EmulatorServer.defaultIdleTimeout, headTimeout: Double = EmulatorServer.defaultHeadTimeout,
        maxConnections: Int = EmulatorServer.defaultMaxConnections, adminOrigins: [String] = [],
        logger: Logger = Logger(label: "insight-replay.server")
    ) async throws -> EmulatorServer {
        let idle = TimeAmount.milliseconds(Int64(idleTimeout * 1000))
        if tlsPort != nil, authority == nil {
            throw ServerError.serving("a TLS port needs the certificate authority", remedy: "pass the CA (CertificateAuthority.loadOrCreate) with the TLS port")
        }
        // Off loopback the admin API (it shows every key and replaces the tenant) needs the token
        // on every request; on loopback only for secrets.
        let token = AdminAPI.makeToken()
        let admin = AdminAPI(emulator: emulator, loadScenario: loadScenario, token: token, tokenRequired: !ProxyPolicy.isLoopback(host: host),
                             boundHost: host, allowedOrigins: adminOrigins)
        let settings = ServerSettings(emulator: emulator, admin: admin,
                                      logger: logger, authority: authority, linkBase: linkBase, idleTimeout: idle,
                                      headTimeout: .milliseconds(Int64(headTimeout * 1000)))
        // One gate for both ports: the cap is the server's.
        let gate = ConnectionGate(limit: maxConnections)
        let (channel, group) = try await HTTPServerSupport.bind(host: host, port: port, threads: threads, gate: gate) {
            HTTPHandler(settings: settings, arrival: .plain)
        }
        var channels = [channel]
        if let tlsPort, let authority {
            do {
                let context = try authority.directContext()
                channels.append(try await HTTPServerSupport.bind(host: host, port: tlsPort, group: group, tls: context, gate: gate) {
                    HTTPHandler(settings: settings, arrival: Arrival(tunnelHost: nil, secure: true))
                })
            } catch {
                try? await channel.close()
                try? await group.shutdownGracefully()
                throw error
            }
        }
        return EmulatorServer(emulator: emulator, channels: channels, group: group, host: host, authority: authority, adminToken: token)
    }

    /// Seconds a connection may complete no part of a request before it is closed (ASSUMED: long
    /// enough for a client between polls; short enough that half-open connections are freed).
    public static let defaultIdleTimeout = 120.0
    /// Seconds a request head may take from its first byte to its last (ASSUMED: a real client
    /// sends its head in one go; a trickled one is an attack or a broken client).
    public static let defaultHeadTimeout = 10.0
    /// Connections open at once (ASSUMED: far above what any test client or benchmark opens —
    /// the soak uses 32 — and a few megabytes of buffers at most).
    public static let defaultMaxConnections = 1_024

    /// `http://127.0.0.1:PORT`
    public var baseURL: String { "http://\(host):\(port)" }
    /// `https://127.0.0.1:TLSPORT`, when a TLS port is open.
    public var tlsBaseURL: String? { tlsPort.map { "https://\(host):\($0)" } }

    /// The kernel's ids of the event-loop threads: an outside client's virtual time moves only
    /// while none of them is running (a request read but not yet answered).
    public func eventLoopThreadIDs() async throws -> [Int32] {
        var ids: [Int32] = []
        for loop in group.makeIterator() {
            // /proc/thread-self names "PID/task/TID".
            let link = try await loop.submit { try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self") }.get()
            if let id = link.split(separator: "/").last.flatMap({ Int32($0) }) { ids.append(id) }
        }
        return ids
    }

    /// The ports this server listens on (plain, then TLS).
    public var ports: [Int] { [port] + (tlsPort.map { [$0] } ?? []) }

    /// Stops accepting, closes the sockets and the event loops.
    public func shutdown() async throws {
        for channel in channels { try? await channel.close() }
        try await group.shutdownGracefully()
    }

    /// Waits until the server is closed.
    public func waitUntilClosed() async throws {
        try await channels[0].closeFuture.get()
    }
}

extension EmulatorServer {
    /// The handlers `serve` puts on a plain connection (NIO's HTTP/1.1 codec, pipelining and
    /// error handling, then the routing and the emulator), for harnesses that drive the request
    /// path without a socket: the fuzzer and the in-memory benchmark.
    package static func addPlainHandlers(_ sync: ChannelPipeline.SynchronousOperations, emulator: Emulator,
                                         loadScenario: ScenarioLoading?, logger: Logger, idleTimeout: Double?,
                                         forwardLeftovers: Bool) throws
    {
        let settings = ServerSettings(emulator: emulator, admin: AdminAPI(emulator: emulator, loadScenario: loadScenario),
                                      logger: logger, authority: nil, linkBase: nil,
                                      idleTimeout: idleTimeout.map { .milliseconds(Int64($0 * 1000)) })
        try HTTPServerSupport.addHTTPHandlers(sync, handler: HTTPHandler(settings: settings, arrival: .plain), forwardLeftovers: forwardLeftovers)
    }

    /// NIO's HTTP/1.1 handlers in front of `handler`, as the server has them (the reference the
    /// benchmark measures the server against).
    package static func addHandlers(_ sync: ChannelPipeline.SynchronousOperations, handler: any ChannelHandler,
                                    forwardLeftovers: Bool) throws
    {
        try HTTPServerSupport.addHTTPHandlers(sync, handler: handler, forwardLeftovers: forwardLeftovers)
    }
}

/// Runs `body` with a server on a free loopback port and always shuts it down. With `authority`,
/// the server is also an HTTPS proxy for the Rapid7 hosts and opens a TLS port.
public func withServer<T: Sendable>(
    _ emulator: Emulator, port: Int = 0, loadScenario: ScenarioLoading? = nil, authority: CertificateAuthority? = nil,
    _ body: (EmulatorServer) async throws -> T
) async throws -> T {
    let server = try await EmulatorServer.start(emulator: emulator, port: port, threads: 1, loadScenario: loadScenario,
                                                authority: authority, tlsPort: authority == nil ? nil : 0)
    do {
        let value = try await body(server)
        try await server.shutdown()
        return value
    } catch {
        try? await server.shutdown()
        throw error
    }
}
