import Foundation
import InsightCore
import InsightEmulator
@testable import InsightServer
#if canImport(Glibc)
import Glibc
#endif
import InsightDriver
import InsightHardening
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Logging
import Testing

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

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
        // A hang never answers; 10 s only keeps a loaded machine (command clients running beside) from looking like one.
        let report = HostileHTTP.run(count: kinds * 5, port: server.port, key: key, seed: 3, timeout: 10)
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
        #expect(HostileHTTP.send(input.bytes, port: server.port, timeout: 10, answers: 100) == .answered(200))
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
        #expect(HostileHTTP.send(valid, port: server.port, timeout: 10) == .answered(200))
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

    /// The idle timer on the event loop's own clock (an embedded loop, advanced by hand): a
    /// connection that keeps asking is never closed, however long it lives; one that falls silent
    /// is closed between 1 and 1.25 timeouts after its last request; so is one that trickles a
    /// head a byte at a time (the bytes arrive, but no part of a request is ever completed).
    @Test func theIdleTimerCountsOnlySilence() throws {
        func connection() throws -> EmbeddedChannel {
            let emulator = Emulator(tenants: InMemoryConnectionTests.tenants, clock: VirtualClock())
            let settings = ServerSettings(emulator: emulator, admin: AdminAPI(emulator: emulator, loadScenario: nil),
                                          logger: Logger(label: "test"), authority: nil, linkBase: nil, idleTimeout: .seconds(4))
            let channel = EmbeddedChannel()
            try HTTPServerSupport.addHTTPHandlers(channel.pipeline.syncOperations, handler: HTTPHandler(settings: settings, arrival: .plain),
                                                  forwardLeftovers: false)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            return channel
        }
        let request = "GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(InMemoryConnectionTests.key)\r\n\r\n"
        let asking = try connection()
        // A request every 3.9 s for 40 s: ten times the timeout, each answered, never closed.
        for _ in 0..<10 {
            asking.embeddedEventLoop.advanceTime(by: .milliseconds(3_900))
            try asking.writeInbound(ByteBuffer(string: request))
            var answer = ""
            while let part = try asking.readOutbound(as: ByteBuffer.self) { answer += String(buffer: part) }
            #expect(answer.hasPrefix("HTTP/1.1 200") && answer.hasSuffix(#"{"message":"Authorized"}"#))
            #expect(asking.isActive)
        }
        // Then silence: open at 3.9 s, closed by 5 s (1.25 timeouts).
        asking.embeddedEventLoop.advanceTime(by: .milliseconds(3_900))
        #expect(asking.isActive)
        asking.embeddedEventLoop.advanceTime(by: .milliseconds(1_100))
        #expect(!asking.isActive)

        // A head a byte a second: bytes keep coming, no request is ever complete: closed by 5 s.
        let trickling = try connection()
        for (second, byte) in request.utf8.prefix(5).enumerated() {
            #expect(trickling.isActive, "open after \(second) s")
            try trickling.writeInbound(ByteBuffer(bytes: [byte]))
            trickling.embeddedEventLoop.advanceTime(by: .seconds(1))
        }
        #expect(!trickling.isActive)
    }
}

/// Bounded resources: a head must be complete soon after its first byte, while a quiet
/// keep-alive connection waits the longer idle timeout; and connections beyond the cap are
/// answered 503 and closed, the others unharmed.
@Suite struct BoundedConnectionTests {
    func connection(idle: TimeAmount, head: TimeAmount) throws -> EmbeddedChannel {
        let emulator = Emulator(tenants: InMemoryConnectionTests.tenants, clock: VirtualClock())
        var settings = ServerSettings(emulator: emulator, admin: AdminAPI(emulator: emulator, loadScenario: nil),
                                      logger: Logger(label: "test"), authority: nil, linkBase: nil, idleTimeout: idle)
        settings.headTimeout = head
        let channel = EmbeddedChannel()
        try HTTPServerSupport.addHTTPHandlers(channel.pipeline.syncOperations, handler: HTTPHandler(settings: settings, arrival: .plain),
                                              forwardLeftovers: false)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test func aHalfSentHeadIsClosedSoonerThanAQuietConnection() throws {
        let request = "GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(InMemoryConnectionTests.key)\r\n\r\n"
        // Half a head, then nothing: closed at the head timeout (2 s), long before the idle one (60 s).
        let half = try connection(idle: .seconds(60), head: .seconds(2))
        try half.writeInbound(ByteBuffer(string: String(request.prefix(20))))
        half.embeddedEventLoop.advanceTime(by: .milliseconds(1_900))
        #expect(half.isActive)
        half.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!half.isActive)
        // A whole request, then a quiet keep-alive connection: open well past the head timeout.
        let quiet = try connection(idle: .seconds(60), head: .seconds(2))
        try quiet.writeInbound(ByteBuffer(string: request))
        while try quiet.readOutbound(as: ByteBuffer.self) != nil {}
        quiet.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(quiet.isActive)
        // Its next head starts the clock again.
        try quiet.writeInbound(ByteBuffer(string: "GET /val"))
        quiet.embeddedEventLoop.advanceTime(by: .milliseconds(2_100))
        #expect(!quiet.isActive)
    }

    @Test func connectionsBeyondTheCapAreRefusedCleanly() async throws {
        let emulator = Emulator(tenants: DemoWorld.tenants(now: Date()), clock: SystemClock())
        let server = try await EmulatorServer.start(emulator: emulator, threads: 1, maxConnections: 4)
        var held: [Int32] = []
        for _ in 0..<4 { held.append(try #require(HostileHTTP.connectLoopback(port: server.port))) }
        // The four are counted once the server has accepted them: ask over one of them.
        let probe = Array("GET /_admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        #expect(send(held[0], probe, probe.count, Int32(MSG_NOSIGNAL)) == probe.count)
        var wait = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(held[0], SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 512)
        #expect(recv(held[0], &buffer, buffer.count, 0) > 0)
        let fifth = HostileHTTP.exchange(Array("GET /_admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8),
                                         port: server.port, timeout: 10)
        #expect(fifth?.status == 503)
        #expect(fifth?.body.contains("at most 4 at once") == true)
        for socket in held { close(socket) }
        // Once they close, a new connection is served again.
        var answered = false
        for _ in 0..<200 where !answered {
            answered = HostileHTTP.exchange(Array("GET /_admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8),
                                            port: server.port, timeout: 10)?.status == 200
        }
        #expect(answered)
        try await server.shutdown()
    }
}

/// The hostile run over TLS: bad ClientHellos to the TLS port, hostile HTTP inside TLS on that
/// port and inside CONNECT tunnels; and the names the server's TLS never vouches for.
@Suite struct HostileTLSTests {
    static func server() async throws -> (EmulatorServer, CertificateAuthority, String) {
        let tenants = DemoWorld.tenants(now: Date())
        let key = try #require(tenants.first { $0.region == .us2 }?.keys.first { $0.kind == .user }?.secret)
        let authority = try CertificateAuthority.loadOrCreate(directory: temporaryFolder())
        let server = try await EmulatorServer.start(emulator: Emulator(tenants: tenants, clock: SystemClock()), threads: 2,
                                                    authority: authority, tlsPort: 0, idleTimeout: 0.3)
        return (server, authority, key)
    }

    @Test func everyKindOverTLSIsAnsweredOrClosedAndTheServerStaysHealthy() async throws {
        let (server, authority, key) = try await Self.server()
        // Every bad ClientHello and every hostile HTTP kind at least once each way.
        let count = 3 * max(HostileTLS.Kind.allCases.count, HostileHTTP.Kind.allCases.count)
        let report = try HostileTLS.run(count: count, plainPort: server.port, tlsPort: try #require(server.tlsPort),
                                        trusting: authority.certificatePath, key: key, seed: 5, timeout: 10, workers: 8)
        try await server.shutdown()
        #expect(report.inputs == count)
        #expect(report.hangs.isEmpty, "\(report.hangs)")
        #expect(report.unhealthy.isEmpty, "\(report.unhealthy)")
        #expect(report.wrongSuccesses.isEmpty, "\(report.wrongSuccesses)")
        #expect(report.refused == 0)
        // Inside TLS the server answered as it does in the clear: 200s, 4xx for the malformed.
        #expect(report.byStatus[200, default: 0] > 0)
        #expect(report.byStatus.keys.allSatisfy { $0 < 500 || $0 == 501 }, "\(report.byStatus)")
    }

    @Test func theTLSServerVouchesForNoOtherName() async throws {
        let (server, authority, key) = try await Self.server()
        let valid = HostileHTTP.validRequest(key: key)
        let rapid7 = try HostileTLS.Sender(route: .direct(port: try #require(server.tlsPort)), serverName: "us2.api.insight.rapid7.com",
                                           trusting: authority.certificatePath)
        #expect(rapid7.send(valid, timeout: 10) == .answered(200))
        rapid7.shutdown()
        // SNI of another site: the server has no leaf for it, so a verifying client refuses the
        // handshake and nothing is answered.
        let other = try HostileTLS.Sender(route: .direct(port: try #require(server.tlsPort)), serverName: "example.com",
                                          trusting: authority.certificatePath)
        #expect(other.send(valid, timeout: 3) == .closed)
        other.shutdown()
        // A tunnel to another site is refused before any TLS.
        let tunnel = try HostileTLS.Sender(route: .tunnel(port: server.port), serverName: "example.com", trusting: authority.certificatePath)
        #expect(tunnel.send(valid, timeout: 3) == .refused)
        tunnel.shutdown()
        try await server.shutdown()
    }

    @Test func aPartialClientHelloIsFreedByTheIdleTimeout() async throws {
        let (server, _, _) = try await Self.server()
        let input = HostileTLS.clientHello(HostileTLS.Kind.allCases.firstIndex(of: .truncatedRecordHeader)!, seed: 1)
        #expect(input.partial)
        let started = Date()
        #expect(HostileHTTP.send(input.bytes, port: try #require(server.tlsPort), timeout: 3, answers: 0) == .closed)
        #expect(Date().timeIntervalSince(started) < 2.5, "closed by the 0.3 s idle timeout, not the client's 3 s")
        try await server.shutdown()
    }
}

/// The server's request path without a socket, as the fuzzer drives it.
@Suite struct InMemoryConnectionTests {
    static let tenants = DemoWorld.tenants(now: Date())
    static let key = tenants.first { $0.region == .us2 }!.keys.first { $0.kind == .user }!.secret

    func answer(_ text: String) -> String {
        String(decoding: EmulatorServer.answer(connection: Array(text.utf8), emulator: Emulator(tenants: Self.tenants, clock: VirtualClock())),
               as: UTF8.self)
    }

    @Test func aConnectionsBytesGetTheServersAnswers() {
        let valid = "GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(Self.key)\r\n\r\n"
        #expect(answer(valid).hasPrefix("HTTP/1.1 200 OK\r\n"))
        // Pipelined: both answered, in order.
        let both = answer(valid + "GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: wrong\r\n\r\n")
        #expect(both.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) } == ["200", "401"])
        // Malformed: NIO's parser refuses it with a 400 and closes.
        #expect(answer("GET / HTTP/1.1\r\nNoColon\r\n\r\n").hasPrefix("HTTP/1.1 400 Bad Request"))
        // Half a request: nothing yet.
        #expect(answer("GET /validate HTTP/1.1\r\nHost: us2").isEmpty)
    }

    /// An answer equal to the connection's last one is sent from the parts made for it; any other
    /// answer, and a keep-alive one after a close, is made afresh.
    @Test func aRepeatedAnswerIsResentAndEveryOtherMadeAfresh() {
        func get(_ key: String, close: Bool = false) -> String {
            "GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(key)\r\n\(close ? "Connection: close\r\n" : "")\r\n"
        }
        let text = answer(get(Self.key) + get(Self.key) + get("wrong") + get(Self.key) + get(Self.key, close: true))
        let answers = text.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(answers.map { $0.prefix(3) } == ["200", "200", "401", "200", "200"])
        let authorized = "200 OK\r\ncontent-type: application/json\r\ncontent-length: 24\r\n\r\n{\"message\":\"Authorized\"}"
        #expect(Array(answers.prefix(2)) == [authorized, authorized])
        #expect(answers.dropFirst(2).first?.hasSuffix(#"{"message":"Unauthorized"}"#) == true)
        #expect(answers.last == authorized.replacingOccurrences(of: "24\r\n", with: "24\r\nconnection: close\r\n"))
    }

    /// HTTP/1.1 keeps a connection unless told otherwise, so a keep-alive answer says nothing of
    /// it; an HTTP/1.0 client that asks to keep it is told `keep-alive` (without it, it would
    /// close); one that does not ask is told `close`, and the connection is closed.
    @Test func anAnswerSaysHowTheConnectionGoesOnOnlyWhenItMust() {
        func get(_ version: String, _ connection: String?) -> String {
            "GET /validate \(version)\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(Self.key)\r\n"
                + (connection.map { "Connection: \($0)\r\n" } ?? "") + "\r\n"
        }
        let kept = answer(get("HTTP/1.1", nil) + get("HTTP/1.0", "keep-alive") + get("HTTP/1.1", "keep-alive") + get("HTTP/1.0", nil)
            + get("HTTP/1.1", nil))
        let heads = kept.components(separatedBy: "HTTP/1.1 200 OK").dropFirst().map { $0.lowercased() }
        #expect(heads.count == 4, "the HTTP/1.0 request without keep-alive is the last one answered")
        #expect(heads.map { $0.contains("connection: keep-alive") } == [false, true, false, false])
        #expect(heads.map { $0.contains("connection: close") } == [false, false, false, true])
    }

    /// An answer is sent again from the last one's parts only when it is the same answer: the
    /// cheap comparison agrees with `==` on status, headers and bodies of equal length.
    @Test func theAnswerComparisonAgreesWithEquality() {
        let authorized = HTTPResponse.constantJSON(200, #"{"message":"Authorized"}"#)
        let variants = [
            authorized,
            HTTPResponse.json(200, ["message": "Authorized"]),
            HTTPResponse.constantJSON(200, #"{"message":"Authorizec"}"#),
            HTTPResponse.constantJSON(201, #"{"message":"Authorized"}"#),
            HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: authorized.body),
            HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Data()),
            HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Data()),
            HTTPResponse(status: 200, body: Data(repeating: 7, count: 600)),
            HTTPResponse(status: 200, body: Data(repeating: 7, count: 599) + [8]),
        ]
        for left in variants {
            for right in variants {
                #expect(HTTPHandler.same(left, right) == (left == right), "\(left.status) \(left.bodyText) / \(right.status) \(right.bodyText)")
            }
        }
    }

    /// The emulator is handed the host as the region's literal and the method as NIO parsed it,
    /// whatever case and port the Host header had; a Host header is never passed on.
    @Test func theRoutedRequestCarriesTheCanonicalHostAndMethod() throws {
        for (host, expected) in [("US2.API.Insight.Rapid7.com:443", "us2.api.insight.rapid7.com"), ("eu.rest.logs.insight.rapid7.com", "eu.rest.logs.insight.rapid7.com")] {
            let head = HTTPRequestHead(version: .http1_1, method: .PATCH, uri: "/validate",
                                       headers: ["Host": host, "X-Api-Key": "k", "HOST": "ignored.example"])
            guard case .request(let request, let found, let viaPrefix) = HTTPHandler.route(head, body: Data()) else {
                Issue.record("\(host) was not routed to the emulator")
                continue
            }
            #expect(request.host == expected && request.method == "PATCH" && request.scheme == "https" && !viaPrefix)
            #expect(found.region.host(found.kind) == expected)
            #expect(request.headers.fields.map(\.name) == ["x-api-key"])
        }
        let prefixed = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/US3.rest.logs.insight.rapid7.com/management/logs",
                                       headers: ["Host": "127.0.0.1:8080"])
        guard case .request(let request, _, true) = HTTPHandler.route(prefixed, body: Data()) else {
            Issue.record("the path prefix was not routed")
            return
        }
        #expect(request.host == "us3.rest.logs.insight.rapid7.com" && request.path == "/management/logs")
    }

    /// Query items: plain ones as they are, `+` and percent escapes decoded as forms have them,
    /// a bad escape refused (nil: the server answers 400).
    @Test func queryItemsAreDecodedOnlyWhereTheyNeedIt() throws {
        let (path, items) = try #require(HTTPHandler.split("/query/logs?query=where(a%3Db)+calculate&size=20&flag&empty="))
        #expect(path == "/query/logs")
        #expect(items.map(\.name) == ["query", "size", "flag", "empty"])
        #expect(items.map(\.value) == ["where(a=b) calculate", "20", nil, ""])
        #expect(HTTPHandler.split("/validate")?.query.isEmpty == true)
        #expect(HTTPHandler.split("/validate?x=%zz") == nil)
        #expect(HTTPHandler.split("validate") == nil)
    }

    /// The benchmark of the request path in process times what it says: it refuses a request
    /// whose first answer is not the status it expects.
    @Test func theInProcessBenchmarkChecksItsFirstAnswer() throws {
        let emulator = Emulator(tenants: Self.tenants, clock: VirtualClock())
        let valid = Array("GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(Self.key)\r\n\r\n".utf8)
        let figure = try InMemoryRequestPath.server(emulator: emulator, request: valid, count: 20)
        #expect(emulator.journal.total == 21)
        let fixed = try InMemoryRequestPath.fixedAnswer(body: Array(#"{"message":"Authorized"}"#.utf8), request: valid, count: 20)
        #expect(fixed.bytes == 95)
        #expect(figure.bytes == fixed.bytes, "the server answers the fixed answer's bytes, to the byte")
        let wrong = Array("GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: wrong\r\n\r\n".utf8)
        #expect(throws: ServerError.self) { try InMemoryRequestPath.server(emulator: emulator, request: wrong, count: 20) }
    }
}

/// Scenario uploads to the admin API: not UTF-8, mutants of the bundled scenarios.
@Suite struct HostileUploadTests {
    @Test func anUploadThatIsNotUTF8IsRefusedNamingTheLine() async throws {
        let tenants = DemoWorld.tenants(now: Date())
        let loader: ScenarioLoading = { _, _ in throw EmulatorError.adminInput("the loader must not be reached") }
        let server = try await EmulatorServer.start(emulator: Emulator(tenants: tenants, clock: SystemClock()), threads: 1, loadScenario: loader)
        let body: [UInt8] = Array("name: x\nprovenance: Caf".utf8) + [0xE9, 0x0A]
        let head = "POST /_admin/scenario HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let reply = try #require(HostileHTTP.exchange(Array(head.utf8) + body, port: server.port, timeout: 3))
        try await server.shutdown()
        #expect(reply.status == 400)
        #expect(reply.body.contains("POST /_admin/scenario: byte 0xE9 at line 2, column 16 is not UTF-8; save the file as UTF-8 text"))
    }

    @Test func scenarioMutantsAreLoadedOrRefusedWithTheTenantKept() async throws {
        let emulator = Emulator(tenants: DemoWorld.tenants(now: Date()), clock: SystemClock())
        let server = try await EmulatorServer.start(emulator: emulator, threads: 1, loadScenario: ScenarioLoader.upload)
        let sample = try HostileEntryPoints.Sample(folder: repositoryRoot + "/Scenarios", suffix: ".yaml", count: 140, seed: 21)
        let figures = HostileEntryPoints.throughUpload(sample, port: server.port, token: server.adminToken, timeout: 10)
        try await server.shutdown()
        #expect(figures.tried == 140)
        #expect(figures.problems.isEmpty, "\(figures.problems)")
        #expect(figures.refused > 70)
        #expect(figures.accepted > 0)
    }
}
