import CVirtualTime
import Foundation

/// Moves a `SharedClock` for an outside client the way Tokio's paused clock moves: to the
/// earliest wake-up, and only when nothing else can happen first.
///
/// "Nothing else" is read from the kernel, so it holds at any machine load: no thread of the
/// client's processes is runnable, no byte is queued on a connection to the emulator's ports
/// (either way, or waiting to be accepted), and no event-loop thread of the server is runnable
/// (a request read but not yet answered). The look is taken twice, a moment apart, with no
/// wake-up coming or going in between. A runnable thread waiting for a busy CPU counts as
/// running, so a loaded machine only slows time down; it never moves it early.
public final class TimeCoordinator: @unchecked Sendable {
    let clock: SharedClock
    let ports: Set<Int>
    let serverThreads: [Int32]
    private let lock = NSLock()
    private var roots: [Int32] = []
    private var stopped = false
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)
    /// Processes of the client that run without the interposer (a static or Go binary), by pid.
    private var unreached: [Int32: String] = [:]
    private var unregisteredSince: [Int32: UInt64] = [:]

    public init(clock: SharedClock, ports: [Int], serverThreads: [Int32]) {
        self.clock = clock
        self.ports = Set(ports)
        self.serverThreads = serverThreads
    }

    /// Starts watching. `track` names each process of the client as it starts.
    public func start() {
        let thread = Thread { [self] in
            loop()
            done.signal()
        }
        thread.name = "insight-replay-time"
        self.thread = thread
        thread.start()
    }

    public func stop() {
        lock.withLock { stopped = true }
        vt_page_poke(clock.page)
        if thread != nil { done.wait() }
        thread = nil
    }

    /// A process the driver started (its descendants are found through /proc).
    public func track(root pid: Int32) {
        lock.withLock { roots.append(pid) }
    }

    /// Programs of the client that the interposer could not reach: their clocks and sleeps
    /// were real while the emulator's clock jumped.
    public var uncontrolled: [String] { lock.withLock { Array(Set(unreached.values)).sorted() } }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func loop() {
        // While the client computes, look again soon, then less often (up to 2 ms): each look
        // reads /proc, and a client that computes long does not need a look every 100 µs.
        var pause: Int64 = 100_000
        while !isStopped {
            let seen = clock.activity
            guard let next = clock.earliest() else {
                // Nobody waits on the clock; still look at the client's processes now and then,
                // so a program the interposer cannot reach is named even if it never waits.
                _ = clientProcesses()
                clock.waitForActivity(after: seen, nanoseconds: 20_000_000)
                pause = 100_000
                continue
            }
            if next.deadline <= clock.nanoseconds {
                clock.move(to: clock.nanoseconds) // wake-ups already due (the emulator's)
                continue
            }
            guard quiet() else {
                clock.waitForActivity(after: seen, nanoseconds: pause)
                pause = clock.activity == seen ? min(pause * 2, 2_000_000) : 100_000
                continue
            }
            // A second look, a moment later, with nothing come or gone in between.
            clock.waitForActivity(after: seen, nanoseconds: 100_000)
            guard clock.activity == seen, quiet(), let confirmed = clock.earliest(), confirmed.deadline == next.deadline else { continue }
            clock.move(to: next.deadline)
            pause = 100_000
        }
    }

    // MARK: What the kernel says

    /// No thread of the client or of the server can run, and no byte is on its way.
    func quiet() -> Bool {
        vt_page_reap(clock.page)
        let processes = clientProcesses()
        guard !processes.contains(where: { Self.anyThreadRunnable(pid: $0) }) else { return false }
        guard !serverThreads.contains(where: { Self.threadRunnable(pid: getpid(), tid: $0) }) else { return false }
        guard !bytesInFlight() else { return false }
        // And the client again: a thread may have woken on a byte read in the meantime.
        return !processes.contains(where: { Self.anyThreadRunnable(pid: $0) })
    }

    /// The roots and their descendants, plus every live process that registered.
    func clientProcesses() -> [Int32] {
        var found: [Int32] = []
        var queue = lock.withLock { roots }
        var seen = Set<Int32>()
        while let pid = queue.popLast() {
            guard seen.insert(pid).inserted, FileManager.default.fileExists(atPath: "/proc/\(pid)") else { continue }
            found.append(pid)
            checkReached(pid)
            for task in Self.list("/proc/\(pid)/task") {
                let children = Self.read("/proc/\(pid)/task/\(task)/children") ?? ""
                queue += children.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
        }
        let high = min(Int(clock.page.pointee.process_high), Int(VT_MAX_PROCESSES))
        withUnsafePointer(to: &clock.page.pointee.processes) { table in
            table.withMemoryRebound(to: vt_process.self, capacity: Int(VT_MAX_PROCESSES)) { processes in
                for index in 0..<high {
                    let pid = processes[index].pid
                    if pid > 0, !seen.contains(pid), kill(pid, 0) == 0 { found.append(pid) }
                }
            }
        }
        return found
    }

    /// Notes a process that runs a program the interposer did not load into (it did not
    /// register, or registered for the program it ran before an exec), once that has lasted
    /// long enough not to be the moment between an exec and the interposer's start.
    private func checkReached(_ pid: Int32) {
        var dev: UInt64 = 0
        var ino: UInt64 = 0
        var info = stat()
        let registered = vt_page_process(clock.page, pid, &dev, &ino) == 1
        let same = stat("/proc/\(pid)/exe", &info) == 0 && UInt64(info.st_dev) == dev && UInt64(info.st_ino) == ino
        let state = Self.state(pid: pid, tid: pid)
        if (registered && same) || state == "Z" || state == nil {
            lock.withLock { _ = unregisteredSince.removeValue(forKey: pid) }
            return
        }
        let now = DispatchTime.now().uptimeNanoseconds
        lock.withLock {
            let since = unregisteredSince[pid] ?? now
            unregisteredSince[pid] = since
            if now - since > 200_000_000, unreached[pid] == nil {
                let program = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? "pid \(pid)"
                unreached[pid] = program
            }
        }
    }

    /// A /proc file read to its end. /proc files report a size of 0 and come in chunks as the
    /// kernel writes them; a reader that trusts the size, or stops at a short read, misses lines.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func list(_ folder: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    }

    /// The state letter of a thread (R running or runnable, S sleeping, D in the disk, Z …).
    static func state(pid: Int32, tid: Int32) -> Character? {
        guard let text = read("/proc/\(pid)/task/\(tid)/stat"),
              let close = text.lastIndex(of: ")")
        else { return nil }
        // "tid (comm) S …": the command may hold spaces and parentheses; the state follows the last ')'.
        return text[close...].dropFirst().first { $0 != " " }
    }

    static func threadRunnable(pid: Int32, tid: Int32) -> Bool {
        guard let state = state(pid: pid, tid: tid) else { return false }
        return state == "R" || state == "D"
    }

    static func anyThreadRunnable(pid: Int32) -> Bool {
        list("/proc/\(pid)/task").contains { task in Int32(task).map { threadRunnable(pid: pid, tid: $0) } ?? false }
    }

    /// Whether bytes are on their way between the client and the server: sent on a connection
    /// to or from the server's ports and not yet acknowledged (still in the kernel's hands),
    /// or received by the server and not yet read, or a connection waiting to be accepted.
    ///
    /// Bytes the client received and leaves unread (a TLS session ticket on a pooled
    /// connection) are not counted: a thread waiting for them would be runnable the moment
    /// they arrived. A queue that stays exactly the same for a second while every thread
    /// waits is stuck (a peer that stopped reading), and no longer holds time back.
    func bytesInFlight() -> Bool {
        var pending: [Substring] = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = Self.read(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 4, fields[4] != "00000000:00000000" else { continue }
                let local = Self.port(fields[1]), remote = Self.port(fields[2])
                guard ports.contains(local) || ports.contains(remote) else { continue }
                let queues = fields[4].split(separator: ":")
                let unacknowledged = queues.first != "00000000"
                let unreadByServer = ports.contains(local) && queues.last != "00000000"
                if unacknowledged || unreadByServer { pending.append(line) }
            }
        }
        guard !pending.isEmpty else {
            stuck = nil
            return false
        }
        let now = DispatchTime.now().uptimeNanoseconds
        if let stuck, stuck.lines == pending {
            return now - stuck.since < 1_000_000_000
        }
        stuck = (pending, now)
        return true
    }

    /// The last non-empty look at the queues, and since when it has not changed.
    private var stuck: (lines: [Substring], since: UInt64)?

    /// The port of `0100007F:1F90`.
    static func port(_ address: Substring) -> Int {
        guard let colon = address.lastIndex(of: ":") else { return -1 }
        return Int(address[address.index(after: colon)...], radix: 16) ?? -1
    }
}
