import Foundation

/// The one notion of time shared by the emulator, the client and the driver.
///
/// Nothing in the product sleeps on the wall clock to make a scenario happen: the driver
/// injects a `VirtualClock`, where `sleep` moves time forward at once.
public protocol InsightClock: Sendable {
    /// The current instant.
    func now() -> Date
    /// Waits `seconds`. On a virtual clock this advances time and returns at once.
    func sleep(seconds: Double) async throws
    /// Calls `body` once `seconds` of this clock's time have passed, on a thread of the clock's
    /// choosing: the server's answer after a scenario's latency. A virtual clock moves time and
    /// calls it at once.
    func after(seconds: Double, _ body: @escaping @Sendable () -> Void)
}

extension InsightClock {
    /// Wall time, by default.
    public func after(seconds: Double, _ body: @escaping @Sendable () -> Void) {
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, seconds), execute: body)
    }
}

/// Wall-clock time, for `serve` and other real-time use.
public struct SystemClock: InsightClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }
}

/// Virtual time: starts at a fixed instant and moves only when someone sleeps or advances it.
///
/// Time is kept in whole milliseconds so that schedules of seconds, minutes and hours add up
/// exactly, and assertions can compare virtual times with `==`.
public final class VirtualClock: InsightClock, @unchecked Sendable {
    /// 2026-01-01T00:00:00Z, the default start of every scenario.
    public static let defaultStart = Date(timeIntervalSince1970: 1_767_225_600)

    public let start: Date
    private let lock = NSLock()
    private var elapsedMilliseconds: Int64 = 0

    public init(start: Date = VirtualClock.defaultStart) {
        self.start = start
    }

    public func now() -> Date {
        start.addingTimeInterval(Double(elapsedMillis) / 1000)
    }

    /// Milliseconds since `start`.
    public var elapsedMillis: Int64 {
        lock.lock()
        defer { lock.unlock() }
        return elapsedMilliseconds
    }

    /// Seconds since `start`.
    public var elapsed: Double { Double(elapsedMillis) / 1000 }

    public func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        advance(seconds: seconds)
    }

    public func after(seconds: Double, _ body: @escaping @Sendable () -> Void) {
        advance(seconds: seconds)
        body()
    }

    /// Moves time forward; negative or zero amounts leave it where it is.
    public func advance(seconds: Double) {
        guard seconds > 0 else { return }
        let millis = Int64((seconds * 1000).rounded())
        lock.lock()
        elapsedMilliseconds += millis
        lock.unlock()
    }
}

extension Date {
    /// RFC 3339 / ISO 8601 with a `Z` suffix and no fractional seconds, as the IDR API writes times.
    public var iso8601: String { RFC3339.format(self) }

    /// RFC 3339 with milliseconds (`2026-01-01T00:00:00.250Z`), for times that must agree with a
    /// millisecond timestamp.
    public var iso8601Millis: String { RFC3339.format(self, millis: true) }

    /// Milliseconds since 1970, as Log Search writes `timestamp`, `from` and `to`.
    public var unixMillis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}

/// Time for a scenario whose client is another process: it runs on the wall clock, `scale`
/// virtual seconds for each wall second, from `start`. A process run under a clock accelerator
/// at the same scale (libfaketime's `FAKETIME="@START xSCALE"`) sees the same time, so its own
/// sleeps, the emulator's timeline, key expiries, query expiries and rate windows agree.
/// `advance` jumps ahead at once (a scenario's `wait` between two runs of the process).
public final class ScaledClock: InsightClock, @unchecked Sendable {
    public let start: Date
    public let scale: Double
    private let wallStart: UInt64
    private let lock = NSLock()
    private var offset: Double = 0

    public init(start: Date = Date(), scale: Double) {
        precondition(scale > 0, "a time scale is positive")
        self.start = start
        self.scale = scale
        wallStart = DispatchTime.now().uptimeNanoseconds
    }

    /// Virtual seconds since `start`.
    public var elapsed: Double {
        let wall = Double(DispatchTime.now().uptimeNanoseconds - wallStart) / 1e9
        return lock.withLock { offset } + wall * scale
    }

    public func now() -> Date { start.addingTimeInterval(elapsed) }

    /// Sleeps `seconds / scale` of wall time.
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds / scale * 1_000_000_000))
    }

    /// Latency passes `scale` times faster than the wall clock.
    public func after(seconds: Double, _ body: @escaping @Sendable () -> Void) {
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, seconds / scale), execute: body)
    }

    /// Moves time forward at once.
    public func advance(seconds: Double) {
        guard seconds > 0 else { return }
        lock.withLock { offset += seconds }
    }
}
