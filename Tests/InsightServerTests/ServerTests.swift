import Foundation
import InsightCore
import InsightEmulator
import InsightHardening
import InsightServer
import Testing
#if canImport(Glibc)
import Glibc
#endif

typealias RawReply = (status: Int, headers: [String: String], body: String)

/// Runs the blocking exchange on a thread of its own: blocking the cooperative pool (two threads
/// on a 2-core machine) would starve the task that runs the emulator.
func exchange(port: Int, _ raw: String) async throws -> RawReply {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try blockingExchange(port: port, raw) }) }.start()
    }
}

/// A minimal HTTP/1.1 exchange over a loopback TCP socket, so the tests need no HTTP client
/// library and can set any Host header. Bounded: one request, one response, 5 s timeout.
func blockingExchange(port: Int, _ raw: String) throws -> RawReply {
    guard let fd = HostileHTTP.connectLoopback(port: port) else { throw CoreError.transport(.connectionRefused, host: "127.0.0.1:\(port)") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let bytes = Array(raw.utf8)
    _ = bytes.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, 0) }
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65_536)
    for _ in 0..<1_000 {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        data += buffer[0..<count]
        if let text = String(bytes: data, encoding: .utf8), let split = text.range(of: "\r\n\r\n"),
           let length = text[..<split.lowerBound].split(separator: "\r\n")
            .first(where: { $0.lowercased().hasPrefix("content-length:") })
            .flatMap({ Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }),
           text.utf8.distance(from: split.upperBound.samePosition(in: text.utf8)!, to: text.utf8.endIndex) >= length
        {
            break
        }
    }
    let text = String(decoding: data, as: UTF8.self)
    let parts = text.components(separatedBy: "\r\n\r\n")
    let lines = parts[0].components(separatedBy: "\r\n")
    let statusLine = lines[0].split(separator: " ")
    guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
        throw CoreError.transport(.connectionReset, host: "127.0.0.1:\(port)", detail: "no HTTP response: \(text.prefix(80))")
    }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        let pair = line.split(separator: ":", maxSplits: 1)
        if pair.count == 2 { headers[pair[0].lowercased()] = pair[1].trimmingCharacters(in: .whitespaces) }
    }
    return (status, headers, parts.dropFirst().joined(separator: "\r\n\r\n"))
}

@Suite struct LoopbackServerTests {
    static let key = "0f1e2d3c-4b5a-4978-8877-665544332211"

    func emulator() -> Emulator {
        let tenant = Tenant(
            region: .us2, organizationID: "174e4f99-2ac7-4481-9301-4d24c34baf06", organizationName: "Example",
            users: [User(email: "svc@example.com", roles: ["Insight IDR Analyst", "Log Search View Only"], products: ["InsightIDR"])],
            keys: [APIKey(id: "main", secret: Self.key, kind: .user, owner: "svc@example.com")])
        return Emulator(tenants: [tenant], clock: VirtualClock())
    }

    @Test func hostHeaderRoutingReachesTheRegion() async throws {
        try await withServer(emulator()) { server in
            #expect(server.host == "127.0.0.1")
            #expect(server.port > 0)
            let ok = try await exchange(port: server.port, "GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(Self.key)\r\nConnection: close\r\n\r\n")
            #expect(ok.status == 200)
            #expect(ok.body == #"{"message":"Authorized"}"#)
            #expect(ok.headers["content-type"] == "application/json")
            let away = try await exchange(port: server.port, "GET /validate HTTP/1.1\r\nHost: us.api.insight.rapid7.com:443\r\nX-Api-Key: \(Self.key)\r\nConnection: close\r\n\r\n")
            #expect(away.status == 401)
            #expect(away.body == #"{"message":"Unauthorized"}"#)
        }
    }

    @Test func pathPrefixRoutingForClientsThatCannotSetHost() async throws {
        try await withServer(emulator()) { server in
            let ok = try await exchange(port: server.port, "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nx-api-key: \(Self.key)\r\nConnection: close\r\n\r\n")
            #expect(ok.status == 200)
            let logs = try await exchange(port: server.port, "GET /us2.rest.logs.insight.rapid7.com/management/logs HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: \(Self.key)\r\nConnection: close\r\n\r\n")
            #expect(logs.status == 200)
            #expect(logs.body == #"{"logs":[]}"#)
            let unknown = try await exchange(port: server.port, "GET /mars/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            #expect(unknown.status == 404)
            #expect(unknown.body.contains("prefix the path: /us/validate"))
        }
    }

    @Test func theJournalSeesLoopbackRequests() async throws {
        let emulator = emulator()
        try await withServer(emulator) { server in
            _ = try await exchange(port: server.port, "POST /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(Self.key)\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        }
        let entry = try #require(emulator.journal.ordered.first)
        #expect(entry.method == "POST")
        #expect(entry.host == "us2.api.insight.rapid7.com")
        #expect(entry.path == "/validate")
        #expect(entry.keyID == "main")
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await withServer(emulator()) { server in
            let two = "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(Self.key)\r\n\r\n"
                + "GET /us2/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(Self.key)\r\nConnection: close\r\n\r\n"
            let reply = try await exchange(port: server.port, two)
            #expect(reply.status == 200)
        }
    }

    @Test func aBusyPortIsAClearErrorNotACrash() async throws {
        _ = try await withServer(emulator()) { server in
            do {
                _ = try await EmulatorServer.start(emulator: emulator(), port: server.port, threads: 1)
                Issue.record("a second server bound the same port")
            } catch let error as ServerError {
                // Said in a person's words, never the socket call's (`bind(descriptor:ptr:bytes:)`).
                #expect(error.problem == "port \(server.port) is in use on 127.0.0.1")
                #expect(error.remedy == "try --port 0 (any free port) or stop what holds it")
            }
        }
    }
}

/// The server gives a surge's pages back through glibc's `malloc_trim`, looked up when it runs
/// (it links no glibc-only module): on glibc the lookup must find it, or trimming would stop
/// without a word.
@Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/include/malloc.h"), "glibc only"))
func theServerFindsMallocTrimOnGlibc() {
    #expect(ConnectionGate.trimsHeap)
}
