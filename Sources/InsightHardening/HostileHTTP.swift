import Foundation
import InsightServer
import CMalloc
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
        /// The kind, as the figures name it (`pipelined`, `tls.sslv2Hello`).
        public let name: String
        public let bytes: [UInt8]
        public let partial: Bool
        /// Answers expected before the server may close (pipelined: 100).
        public let answers: Int
        /// A 2xx to this input is wrong (a CONNECT or an absolute URL to a host not emulated).
        public var mustNotSucceed = false

        public init(name: String, bytes: [UInt8], partial: Bool, answers: Int, mustNotSucceed: Bool = false) {
            self.name = name
            self.bytes = bytes
            self.partial = partial
            self.answers = answers
            self.mustNotSucceed = mustNotSucceed
        }
    }

    public static func input(_ index: Int, seed: UInt64, key: String) -> Input {
        var random = SeededRandom(seed: seed, label: "hostile-\(index)")
        let kind = Kind.allCases[index % Kind.allCases.count]
        let host = "Host: us2.api.insight.rapid7.com\r\n"
        let auth = "X-Api-Key: \(key)\r\n"
        func text(_ string: String) -> [UInt8] { Array(string.utf8) }
        func noise(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        switch kind {
        case .badRequestLine: return Input(name: kind.rawValue, bytes: text(["GET\r\n\r\n", " / HTTP/1.1\r\n\r\n", "GET  HTTP/1.1\r\n\r\n", "\r\n\r\n\r\n"][Int(random.next() % 4)]), partial: false, answers: 1)
        case .unknownMethod: return Input(name: kind.rawValue, bytes: text("BREW /validate HTTP/1.1\r\n\(host)\r\n"), partial: false, answers: 1)
        case .badVersion: return Input(name: kind.rawValue, bytes: text("GET /validate HTTP/\(random.next() % 10).\(random.next() % 10)\r\n\(host)\r\n"), partial: false, answers: 1)
        case .http09: return Input(name: kind.rawValue, bytes: text("GET /validate\r\n"), partial: false, answers: 1)
        case .hugeURI: return Input(name: kind.rawValue, bytes: text("GET /" + String(repeating: "a", count: 80_000 + Int(random.next() % 100_000)) + " HTTP/1.1\r\n\(host)\r\n"), partial: false, answers: 1)
        case .hugeHeader: return Input(name: kind.rawValue, bytes: text("GET /validate HTTP/1.1\r\n\(host)X-Big: " + String(repeating: "b", count: 100_000 + Int(random.next() % 200_000)) + "\r\n\r\n"), partial: false, answers: 1)
        case .manyHeaders: return Input(name: kind.rawValue, bytes: text("GET /validate HTTP/1.1\r\n\(host)" + (0..<5_000).map { "X-H\($0): v\r\n" }.joined() + "\r\n"), partial: false, answers: 1)
        case .headerWithoutColon: return Input(name: kind.rawValue, bytes: text("GET /validate HTTP/1.1\r\n\(host)NoColonHere\r\n\r\n"), partial: false, answers: 1)
        case .nulInPath: return Input(name: kind.rawValue, bytes: text("GET /vali") + [0] + text("date HTTP/1.1\r\n\(host)\r\n"), partial: false, answers: 1)
        case .nonUTF8Path: return Input(name: kind.rawValue, bytes: text("GET /") + [0xC3, 0x28, 0xFF, 0xFE] + text(" HTTP/1.1\r\n\(host)\(auth)\r\n"), partial: false, answers: 1)
        case .nulInHeader: return Input(name: kind.rawValue, bytes: text("GET /validate HTTP/1.1\r\n\(host)X-Api-Key: ab") + [0] + text("cd\r\n\r\n"), partial: false, answers: 1)
        case .conflictingLength: return Input(name: kind.rawValue, bytes: text("POST /validate HTTP/1.1\r\n\(host)Content-Length: 5\r\nContent-Length: 7\r\n\r\nhello"), partial: false, answers: 1)
        case .lengthAndChunked: return Input(name: kind.rawValue, bytes: text("POST /validate HTTP/1.1\r\n\(host)Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"), partial: false, answers: 1)
        case .badChunk: return Input(name: kind.rawValue, bytes: text("POST /validate HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n"), partial: false, answers: 1)
        case .bodyOverCap: return Input(name: kind.rawValue, bytes: text("POST /idr/v2/investigations HTTP/1.1\r\n\(host)\(auth)Content-Length: 9000000\r\n\r\n") + [UInt8](repeating: 120, count: 8_500_000), partial: true, answers: 1)
        case .pipelined: return Input(name: kind.rawValue, bytes: text(String(repeating: "GET /validate HTTP/1.1\r\n\(host)\(auth)\r\n", count: 100)), partial: false, answers: 100)
        case .randomBytes: return Input(name: kind.rawValue, bytes: noise(16 + Int(random.next() % 4_000)), partial: true, answers: 0)
        case .partialHead: return Input(name: kind.rawValue, bytes: text("GET /validate HTTP/1.1\r\n\(host)X-Api-"), partial: true, answers: 0)
        case .expectContinue: return Input(name: kind.rawValue, bytes: text("POST /validate HTTP/1.1\r\n\(host)Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"), partial: false, answers: 1)
        case .absoluteFormOtherHost:
            let target = otherHosts[Int(random.next() % UInt64(otherHosts.count))]
            return Input(name: kind.rawValue, bytes: text("GET http://\(target)/ HTTP/1.1\r\nHost: \(target)\r\n\r\n"), partial: false, answers: 1,
                         mustNotSucceed: true)
        case .connectOtherHost:
            let target = otherHosts[Int(random.next() % UInt64(otherHosts.count))]
            return Input(name: kind.rawValue, bytes: text("CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n\r\n"), partial: false, answers: 1,
                         mustNotSucceed: true)
        }
    }

    /// Hosts a CONNECT or an absolute URL must never reach through the server: other sites,
    /// the loopback's other services, and names that only look like Rapid7's.
    static let otherHosts = [
        "example.com:443", "127.0.0.1:22", "localhost:5432", "[::1]:8080", "10.0.0.1:443", "169.254.169.254:80",
        "us.api.insight.rapid7.com.attacker.test:443", "evilinsight.rapid7.com:443", "us.api.insight.rapid7.com@attacker.test:443",
        "insight.rapid7.com:443", "api.insight.rapid7.com:443",
    ]

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
        guard let (received, closedInTime) = transfer(bytes, port: port, timeout: timeout, answers: answers) else { return .refused }
        if received.isEmpty { return closedInTime ? .closed : .hung }
        return status(received)
    }

    /// An answer read whole: its status and body (after the head).
    public struct Reply: Sendable {
        public let status: Int
        public let body: String
    }

    /// Sends a request (which should say `Connection: close`) and reads the answer until the
    /// server closes; nil when nothing parseable came back within `timeout`. Loopback only.
    public static func exchange(_ bytes: [UInt8], port: Int, timeout: Double) -> Reply? {
        guard let (received, _) = transfer(bytes, port: port, timeout: timeout, answers: 0),
              case .answered(let code) = status(received) else { return nil }
        let text = String(decoding: received, as: UTF8.self)
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Reply(status: code, body: body)
    }

    /// Sends `bytes` on a new connection and reads until the server closes, `answers` status
    /// lines arrived (0: until it closes), or `timeout` passes. Nil when it cannot connect; else
    /// what was received, and whether the exchange ended before the timeout.
    static func transfer(_ bytes: [UInt8], port: Int, timeout: Double, answers: Int) -> ([UInt8], Bool)? {
        guard let socket = connectLoopback(port: port) else { return nil }
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
            if count == 0 { return (received, true) }  // closed
            if count < 0 { return (received, !received.isEmpty) }  // a timeout with nothing is a hang
            received += buffer[0..<count]
            if answers > 0, statusLines(received) >= answers { return (received, true) }
        }
        return (received, false)
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

    /// The resident set of this process (or of `pid`) in KiB (Linux `/proc/PID/status`).
    public static func residentKiB(pid: Int32? = nil) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid.map(String.init) ?? "self")/status", encoding: .utf8),
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
        /// Inputs answered 2xx that must not be (a CONNECT to another site).
        public var wrongSuccesses: [String] = []
        public var byStatus: [Int: Int] = [:]
        /// The slowest outcome of each kind, in seconds.
        public var slowest: [String: Double] = [:]
        public var rssBeforeKiB = 0
        /// After the first `warmUp` inputs: the pools, caches and the journal have their size.
        public var rssWarmKiB = 0
        public var rssAfterKiB = 0
        /// Bytes held from malloc (client and server: they share the process) at the same points.
        public var heapBeforeKiB = 0
        public var heapWarmKiB = 0
        public var heapAfterKiB = 0
        /// The server's resident set at the same points, when it runs in a process of its own.
        public var serverRSSKiB: [Int] = []
        /// Inputs sent before `rssWarmKiB` was taken.
        public var warmUp = 0

        /// Heap growth after the warm-up, in KiB: what a leak would show.
        public var growthAfterWarmUpKiB: Int { heapAfterKiB - heapWarmKiB }
    }

    /// A valid request, with `Connection: close`, for the health check after each batch.
    public static func validRequest(key: String) -> [UInt8] {
        Array("GET /validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(key)\r\nConnection: close\r\n\r\n".utf8)
    }

    /// `count` plain hostile inputs against a server on `port` (see the other `run`).
    public static func run(count: Int, port: Int, key: String, seed: UInt64 = 1, timeout: Double = 3, workers: Int = 1,
                           progress: (Int) -> Void = { _ in }) -> Report {
        let valid = validRequest(key: key)
        return run(count: count, inputs: { input($0, seed: seed, key: key) },
                   send: { send($1.bytes, port: port, timeout: timeout, answers: $1.answers) },
                   healthy: { send(valid, port: port, timeout: timeout) == .answered(200) },
                   workers: workers, progress: progress)
    }

    /// `count` inputs made by `inputs`, in batches of 100 sent by `workers` connections at once
    /// (partial inputs wait for the idle timeout, so waits overlap), each batch followed by
    /// `healthy`, a valid request that must be answered 200. The resident set is taken before,
    /// after the first tenth (at most 1,000 inputs) and at the end, each after returning freed
    /// memory to the system.
    public static func run(count: Int, inputs: (Int) -> Input, send: @escaping @Sendable (_ index: Int, Input) -> Outcome, healthy: () -> Bool,
                           workers: Int = 1, serverRSS: (() -> Int)? = nil, progress: (Int) -> Void = { _ in }) -> Report {
        var report = Report()
        report.rssBeforeKiB = settledResidentKiB()
        report.heapBeforeKiB = heapInUseKiB()
        if let serverRSS { report.serverRSSKiB.append(serverRSS()) }
        report.warmUp = min(1_000, max(100, count / 10))
        var start = 0
        while start < count {
            let batch = (start..<min(count, start + 100)).map { ($0, inputs($0)) }
            let outcomes = OutcomeBox(count: batch.count)
            let lanes = max(1, min(workers, batch.count))
            // Threads of their own, not `concurrentPerform`: that runs one lane per core, and the
            // lanes spend their time waiting on sockets.
            let done = DispatchGroup()
            for worker in 0..<lanes {
                done.enter()
                Thread {
                    for offset in stride(from: worker, to: batch.count, by: lanes) {
                        let started = Date()
                        let outcome = send(batch[offset].0, batch[offset].1)
                        outcomes.set(offset, outcome, seconds: Date().timeIntervalSince(started))
                    }
                    done.leave()
                }.start()
            }
            done.wait()
            for (offset, (index, input)) in batch.enumerated() {
                report.inputs += 1
                let (outcome, seconds) = outcomes.get(offset)
                report.slowest[input.name] = max(report.slowest[input.name] ?? 0, seconds)
                switch outcome {
                case .answered(let status):
                    report.answered += 1
                    report.byStatus[status, default: 0] += 1
                    if input.mustNotSucceed, (200..<300).contains(status) { report.wrongSuccesses.append("#\(index) \(input.name) answered \(status)") }
                case .closed: report.closed += 1
                case .hung: if !input.partial { report.hangs.append("#\(index) \(input.name)") }
                case .refused: report.refused += 1
                }
            }
            if !healthy() { report.unhealthy.append("after #\(batch.last!.0)") }
            start += batch.count
            if start >= report.warmUp, report.rssWarmKiB == 0 {
                report.rssWarmKiB = settledResidentKiB()
                report.heapWarmKiB = heapInUseKiB()
                if let serverRSS { report.serverRSSKiB.append(serverRSS()) }
            }
            progress(start)
        }
        report.rssAfterKiB = settledResidentKiB()
        report.heapAfterKiB = heapInUseKiB()
        if let serverRSS { report.serverRSSKiB.append(serverRSS()) }
        return report
    }

    /// The resident set after freed memory went back to the system: glibc keeps freed arenas
    /// otherwise, and the 8 MB bodies of a run would read as growth.
    public static func settledResidentKiB() -> Int {
        _ = insight_malloc_trim()
        return residentKiB()
    }

    /// Bytes held from malloc right now, in KiB: a leak shows here whatever the allocator's
    /// fragmentation does to the resident set.
    public static func heapInUseKiB() -> Int { insight_heap_in_use() / 1024 }

    /// Outcomes written by the workers of a batch.
    final class OutcomeBox: @unchecked Sendable {
        private let lock = NSLock()
        private var outcomes: [(Outcome, Double)]
        init(count: Int) { outcomes = Array(repeating: (.refused, 0), count: count) }
        func set(_ index: Int, _ outcome: Outcome, seconds: Double) { lock.withLock { outcomes[index] = (outcome, seconds) } }
        func get(_ index: Int) -> (Outcome, Double) { lock.withLock { outcomes[index] } }
    }
}

