import CVirtualTime
import Foundation
import InsightCore

/// The virtual clock of a scenario whose client is another process: a page of shared memory
/// that the client's processes read through the preloaded interposer (`libInsightPreload.so`),
/// so the emulator and every process of the client see one time, to the nanosecond.
///
/// Time moves only through `advance` (a scenario's `wait` between runs) and through the
/// `TimeCoordinator`, which moves it to the earliest wake-up when nothing else can happen.
public final class SharedClock: InsightClock, @unchecked Sendable {
    public let start: Date
    /// The page's file: `INSIGHT_REPLAY_CLOCK` for the client.
    public let path: String
    let page: UnsafeMutablePointer<vt_page>
    private let folder: URL
    private let lock = NSLock()
    /// The emulator's own wake-ups (a scenario's latency), in nanoseconds since the start.
    private var timers: [(deadline: Int64, body: @Sendable () -> Void)] = []

    /// Makes the page in a fresh private folder under the temporary directory.
    public init(start: Date) throws {
        self.start = start
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("insight-replay-clock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        path = folder.appendingPathComponent("clock").path
        var monotonic = timespec()
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        let origin = Int64((start.timeIntervalSince1970 * 1e9).rounded())
        guard let page = vt_page_create(path, origin, Int64(monotonic.tv_sec) * 1_000_000_000 + Int64(monotonic.tv_nsec)) else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: folder)
            throw DriverError.commandSetup("cannot make the shared clock at \(path): \(reason)", remedy: "check that the temporary folder (TMPDIR) can be written")
        }
        self.page = page
    }

    deinit {
        vt_page_unmap(page)
        try? FileManager.default.removeItem(at: folder)
    }

    /// Nanoseconds since `start`.
    var nanoseconds: Int64 { vt_load_now(page) }

    /// Seconds since `start`.
    public var elapsed: Double { Double(nanoseconds) / 1e9 }

    public func now() -> Date { start.addingTimeInterval(elapsed) }

    /// Waits until the coordinator has moved time `seconds` on.
    public func sleep(seconds: Double) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            after(seconds: seconds) { continuation.resume() }
        }
    }

    /// Registers a wake-up: `body` runs when the coordinator moves time to it.
    public func after(seconds: Double, _ body: @escaping @Sendable () -> Void) {
        let deadline = nanoseconds + Int64((max(0, seconds) * 1e9).rounded())
        lock.withLock { timers.append((deadline, body)) }
        vt_page_poke(page)
    }

    /// Moves time `seconds` on at once (a `wait` between two runs of the client).
    public func advance(seconds: Double) {
        guard seconds > 0 else { return }
        move(to: nanoseconds + Int64((seconds * 1e9).rounded()))
    }

    /// Moves time to `target` and runs the emulator's wake-ups that are due.
    func move(to target: Int64) {
        vt_page_set_now(page, target)
        let due: [@Sendable () -> Void] = lock.withLock {
            let now = vt_load_now(page)
            let due = timers.filter { $0.deadline <= now }.map(\.body)
            timers.removeAll { $0.deadline <= now }
            return due
        }
        for body in due { body() }
    }

    /// The earliest wake-up of the emulator or of a thread of the client, with how many wait.
    func earliest() -> (deadline: Int64, waiting: Int)? {
        var count: Int32 = 0
        var deadline = vt_page_earliest(page, &count)
        let own = lock.withLock { timers.map(\.deadline) }
        if let first = own.min() { deadline = min(deadline, first) }
        let waiting = Int(count) + own.count
        return waiting == 0 || deadline == Int64.max ? nil : (deadline, waiting)
    }

    var activity: UInt32 { vt_page_activity(page) }

    func waitForActivity(after seen: UInt32, nanoseconds: Int64) { vt_page_wait_activity(page, seen, nanoseconds) }
}
