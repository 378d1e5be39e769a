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
    public let host: String
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup

    /// Largest request body accepted; larger ones get 413 and the connection closes.
    public static let maxBodyBytes = 8 * 1024 * 1024

    private init(emulator: Emulator, channel: any Channel, group: MultiThreadedEventLoopGroup, host: String) {
        self.emulator = emulator
        self.channel = channel
        self.group = group
        self.host = host
        port = channel.localAddress?.port ?? 0
    }

    /// Binds and starts serving. Binds 127.0.0.1 unless another address is asked for explicitly.
    ///
    /// - Throws: `ServerError` naming the address when it cannot be bound (a busy port).
    public static func start(
        emulator: Emulator, host: String = "127.0.0.1", port: Int = 0,
        threads: Int = System.coreCount, loadScenario: ScenarioLoading? = nil,
        logger: Logger = Logger(label: "insight-replay.server")
    ) async throws -> EmulatorServer {
        let admin = AdminAPI(emulator: emulator, loadScenario: loadScenario)
        let (channel, group) = try await HTTPServerSupport.bind(host: host, port: port, threads: threads) {
            HTTPHandler(emulator: emulator, admin: admin, logger: logger)
        }
        return EmulatorServer(emulator: emulator, channel: channel, group: group, host: host)
    }

    /// `http://127.0.0.1:PORT`
    public var baseURL: String { "http://\(host):\(port)" }

    /// Stops accepting, closes the socket and the event loops.
    public func shutdown() async throws {
        try? await channel.close()
        try await group.shutdownGracefully()
    }

    /// Waits until the server is closed.
    public func waitUntilClosed() async throws {
        try await channel.closeFuture.get()
    }
}

/// A server failure a person can act on.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Runs `body` with a server on a free loopback port and always shuts it down.
public func withServer<T: Sendable>(
    _ emulator: Emulator, port: Int = 0, loadScenario: ScenarioLoading? = nil, _ body: (EmulatorServer) async throws -> T
) async throws -> T {
    let server = try await EmulatorServer.start(emulator: emulator, port: port, threads: 1, loadScenario: loadScenario)
    do {
        let value = try await body(server)
        try await server.shutdown()
        return value
    } catch {
        try? await server.shutdown()
        throw error
    }
}
