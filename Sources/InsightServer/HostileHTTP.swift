import Foundation
import InsightCore
#if canImport(Glibc)
import Glibc
#endif

/// Malformed and hostile HTTP, made deterministically from a seed, sent over raw loopback sockets:
/// what a broken client, a port scanner or an attacker sends. A run counts, for each input,
/// whether the server answered or closed the connection in time (a hang otherwise), and checks
/// after each batch that a valid request is still answered 200.
public enum HostileHTTP {
    public enum Kind: String, CaseIterable, Sendable {
        case badRequestLine, unknownMethod, badVersion, http09, hugeURI, hugeHeader, manyHeaders, headerWithoutColon
        case nulInPath, nonUTF8Path, nulInHeader, conflictingLength, lengthAndChunked, badChunk, bodyOverCap
        case pipelined, randomBytes, partialHead, expectContinue, absoluteFormOtherHost, connectOtherHost
    }

    /// One input: its bytes, and whether the server may legitimately wait for more (a partial
    /// request: the idle timeout frees it).
    public struct Input: Sendable {
        public let kind: Kind
        public let bytes: [UInt8]
        public let partial: Bool
        /// Answers expected before the server may close (pipelined: 100).
        public let answers: Int
    }

    public static func input(_ index: Int, seed: UInt64, key: String) -> Input {
        var random = SeededRandom(seed: seed, label: "hostile-\(index)")
        let kind = Kind.allCases[index % Kind.allCases.count]
        let host = "Host: us2.api.insight.rapid7.com\r\n"
        let auth = "X-Api-Key: \(key)\r\n"
        func text(_ string: String) -> [UInt8] { Array(string.utf8) }
        func noise(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        switch kind {
        case .badRequestLine: return Input(kind: kind, bytes: text(["GET\r\n\r\n", " / HTTP/1.1\r\n\r\n", "GET  HTTP/1.1\r\n\r\n", "\r\n\r\n\r\n"][Int(random.next() % 4)]), partial: false, answers: 1)
        case .unknownMethod: return Input(kind: kind, bytes: text("BREW /validate HTTP/1.1\r\n\(host)\r\n"), partial: false, answers: 1)
        case .badVersion: return Input(kind: kind, bytes: text("GET /validate HTTP/\(random.next() % 10).\(random.next() % 10)\r\n\(host)\r\n"), partial: false, answers: 1)
        case .http09: return Input(kind: kind, bytes: text("GET /validate\r\n"), partial: false, answers: 1)
        case .hugeURI: return Input(kind: kind, bytes: text("GET /" + String(repeating: "a", count: 80_000 + Int(random.next() % 100_000)) + " HTTP/1.1\r\n\(host)\r\n"), partial: false, answers: 1)
        case .hugeHeader: return Input(kind: kind, bytes: text("GET /validate HTTP/1.1\r\n\(host)X-Big: " + String(repeating: "b", count: 100_000 + Int(random.next() % 200_000)) + "\r\n\r\n"), partial: false, answers: 1)
        case .manyHeaders: return Input(kind: kind, bytes: text("GET /validate HTTP/1.1\r\n\(host)" + (0..<5_000).map { "X-H\($0): v\r\n" }.joined() + "\r\n"), partial: false, answers: 1)
        case .headerWithoutColon: return Input(kind: kind, bytes: text("GET /validate HTTP/1.1\r\n\(host)NoColonHere\r\n\r\n"), partial: false, answers: 1)
        case .nulInPath: return Input(kind: kind, bytes: text("GET /vali") + [0] + text("date HTTP/1.1\r\n\(host)\r\n"), partial: false, answers: 1)
        case .nonUTF8Path: return Input(kind: kind, bytes: text("GET /") + [0xC3, 0x28, 0xFF, 0xFE] + text(" HTTP/1.1\r\n\(host)\(auth)\r\n"), partial: false, answers: 1)
        case .nulInHeader: return Input(kind: kind, bytes: text("GET /validate HTTP/1.1\r\n\(host)X-Api-Key: ab") + [0] + text("cd\r\n\r\n"), partial: false, answers: 1)
        case .conflictingLength: return Input(kind: kind, bytes: text("POST /validate HTTP/1.1\r\n\(host)Content-Length: 5\r\nContent-Length: 7\r\n\r\nhello"), partial: false, answers: 1)
        case .lengthAndChunked: return Input(kind: kind, bytes: text("POST /validate HTTP/1.1\r\n\(host)Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"), partial: false, answers: 1)
        case .badChunk: return Input(kind: kind, bytes: text("POST /validate HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n"), partial: false, answers: 1)
        case .bodyOverCap: return Input(kind: kind, bytes: text("POST /idr/v2/investigations HTTP/1.1\r\n\(host)\(auth)Content-Length: 9000000\r\n\r\n") + [UInt8](repeating: 120, count: 8_500_000), partial: true, answers: 1)
        case .pipelined: return Input(kind: kind, bytes: text(String(repeating: "GET /validate HTTP/1.1\r\n\(host)\(auth)\r\n", count: 100)), partial: false, answers: 100)
        case .randomBytes: return Input(kind: kind, bytes: noise(16 + Int(random.next() % 4_000)), partial: true, answers: 0)
        case .partialHead: return Input(kind: kind, bytes: text("GET /validate HTTP/1.1\r\n\(host)X-Api-"), partial: true, answers: 0)
        case .expectContinue: return Input(kind: kind, bytes: text("POST /validate HTTP/1.1\r\n\(host)Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"), partial: false, answers: 1)
        case .absoluteFormOtherHost: return Input(kind: kind, bytes: text("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"), partial: false, answers: 1)
        case .connectOtherHost: return Input(kind: kind, bytes: text("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), partial: false, answers: 1)
        }
    }

    /// What happened to one input.
    public enum Outcome: Sendable, Equatable {
        /// The server answered (the first status line's code) or closed the connection.
        case answered(Int), closed
        /// Neither within the timeout, on an input that was complete.
        case hung
        /// Could not connect at all.
        case refused
    }

    /// Sends `bytes` on a new connection to 127.0.0.1:`port`, reads until the server closes or
    /// `answers` status lines arrived, or `timeout` passes. Loopback only.
    /// A TCP connection to 127.0.0.1:`port`, or nil; the caller closes it.
    public static func connectLoopback(port: Int) -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            return nil
        }
        return socket
    }

    public static func send(_ bytes: [UInt8], port: Int, timeout: Double, answers: Int = 1) -> Outcome {
        guard let socket = connectLoopback(port: port) else { return .refused }
        defer { close(socket) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { break }  // the server closed or stopped reading: what it answered still counts
            sent += written
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }  // closed
            if count < 0 { return received.isEmpty ? .hung : status(received) }
            received += buffer[0..<count]
            if answers > 0, statusLines(received) >= answers { break }
        }
        if received.isEmpty { return Date() < deadline ? .closed : .hung }
        return status(received)
    }

    static func status(_ bytes: [UInt8]) -> Outcome {
        let text = String(decoding: bytes.prefix(16), as: UTF8.self)
        let parts = text.split(separator: " ")
        if parts.count >= 2, let code = Int(parts[1]) { return .answered(code) }
        return .closed
    }

    static func statusLines(_ bytes: [UInt8]) -> Int {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "HTTP/1.1 ").count - 1
    }

    /// The resident set of this process in KiB (Linux `/proc/self/status`).
    public static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Figures of a run.
    public struct Report: Sendable {
        public var inputs = 0
        public var answered = 0
        public var closed = 0
        public var hangs: [String] = []
        public var refused = 0
        /// Valid requests after each batch that were not answered 200.
        public var unhealthy: [String] = []
        public var byStatus: [Int: Int] = [:]
        public var rssBeforeKiB = 0
        public var rssAfterKiB = 0
    }

    /// `count` inputs against a server on `port`, in batches of 100, each batch followed by a
    /// valid `/validate` that must answer 200. Partial inputs wait for the idle timeout.
    /// Batches of 100 inputs are sent by `workers` connections at once (partial inputs wait for
    /// the idle timeout, so waits overlap), each batch followed by the health check.
    public static func run(count: Int, port: Int, key: String, seed: UInt64 = 1, timeout: Double = 3, workers: Int = 1,
                           progress: (Int) -> Void = { _ in }) -> Report {
        var report = Report()
        #if canImport(Glibc)
        _ = trimMalloc(0)
        #endif
        report.rssBeforeKiB = residentKiB()
        let valid = Array("GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(key)\r\nConnection: close\r\n\r\n".utf8)
        var start = 0
        while start < count {
            let batch = Array(start..<min(count, start + 100))
            let outcomes = OutcomeBox(count: batch.count)
            DispatchQueue.concurrentPerform(iterations: max(1, min(workers, batch.count))) { worker in
                for offset in stride(from: worker, to: batch.count, by: max(1, min(workers, batch.count))) {
                    let input = input(batch[offset], seed: seed, key: key)
                    outcomes.set(offset, send(input.bytes, port: port, timeout: timeout, answers: input.answers))
                }
            }
            for (offset, index) in batch.enumerated() {
                let input = input(index, seed: seed, key: key)
                report.inputs += 1
                switch outcomes.get(offset) {
                case .answered(let status):
                    report.answered += 1
                    report.byStatus[status, default: 0] += 1
                case .closed: report.closed += 1
                case .hung: if !input.partial { report.hangs.append("#\(index) \(input.kind.rawValue)") }
                case .refused: report.refused += 1
                }
            }
            if send(valid, port: port, timeout: timeout) != .answered(200) { report.unhealthy.append("after #\(batch.last!)") }
            start += batch.count
            progress(start)
        }
        // Freed memory goes back to the system first, so what is left is what is still held:
        // glibc keeps freed arenas otherwise, and the 8 MB bodies of this run would read as growth.
        #if canImport(Glibc)
        _ = trimMalloc(0)
        #endif
        report.rssAfterKiB = residentKiB()
        return report
    }

    /// Outcomes written by the workers of a batch.
    final class OutcomeBox: @unchecked Sendable {
        private let lock = NSLock()
        private var outcomes: [Outcome]
        init(count: Int) { outcomes = Array(repeating: .refused, count: count) }
        func set(_ index: Int, _ outcome: Outcome) { lock.withLock { outcomes[index] = outcome } }
        func get(_ index: Int) -> Outcome { lock.withLock { outcomes[index] } }
    }
}

#if canImport(Glibc)
/// glibc's `malloc_trim` (in malloc.h, which the Glibc module leaves out).
@_silgen_name("malloc_trim")
private func trimMalloc(_ pad: Int) -> Int32
#endif
