import Foundation
import InsightCore
import InsightEmulator
@testable import InsightServer
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Hostile HTTP over raw loopback sockets: every kind of malformed input is answered or closed,
/// none hangs the server, a valid request is answered after each batch, and half-open
/// connections are freed by the idle timeout.
@Suite struct HostileHTTPTests {
    static func server() async throws -> (EmulatorServer, String) {
        let tenants = DemoWorld.tenants(now: Date())
        let key = try #require(tenants.first { $0.region == .us2 }?.keys.first { $0.kind == .user }?.secret)
        let server = try await EmulatorServer.start(emulator: Emulator(tenants: tenants, clock: SystemClock()), threads: 2, idleTimeout: 0.3)
        return (server, key)
    }

    @Test func everyKindIsAnsweredOrClosedAndTheServerStaysHealthy() async throws {
        let (server, key) = try await Self.server()
        let kinds = HostileHTTP.Kind.allCases.count
        let report = HostileHTTP.run(count: kinds * 5, port: server.port, key: key, seed: 3, timeout: 3)
        try await server.shutdown()
        #expect(report.inputs == kinds * 5)
        #expect(report.hangs.isEmpty, "\(report.hangs)")
        #expect(report.unhealthy.isEmpty, "\(report.unhealthy)")
        #expect(report.refused == 0)
        // No 5xx from the server's own parsing: malformed input is the client's fault (4xx).
        #expect(report.byStatus.keys.allSatisfy { $0 < 500 || $0 == 501 }, "\(report.byStatus)")
    }

    @Test func pipelinedRequestsAreAllAnsweredInOrder() async throws {
        let (server, key) = try await Self.server()
        let input = HostileHTTP.input(HostileHTTP.Kind.allCases.firstIndex(of: .pipelined)!, seed: 1, key: key)
        #expect(HostileHTTP.send(input.bytes, port: server.port, timeout: 3, answers: 100) == .answered(200))
        try await server.shutdown()
    }

    @Test func halfOpenConnectionsAreFreedByTheIdleTimeout() async throws {
        let (server, key) = try await Self.server()
        var sockets: [Int32] = []
        for _ in 0..<100 {
            let socket = try #require(HostileHTTP.connectLoopback(port: server.port))
            _ = "GET /validate HTTP/1.1\r\nHost: us2".withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            sockets.append(socket)
        }
        // The server still answers while they hang open.
        let valid = Array("GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(key)\r\nConnection: close\r\n\r\n".utf8)
        #expect(HostileHTTP.send(valid, port: server.port, timeout: 3) == .answered(200))
        // Each is closed by the server within the idle timeout (0.3 s) plus a bounded margin.
        var freed = 0
        for socket in sockets {
            var wait = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            var byte: UInt8 = 0
            if recv(socket, &byte, 1, 0) == 0 { freed += 1 }
            close(socket)
        }
        #expect(freed == 100)
        try await server.shutdown()
    }
}
