import Foundation
#if canImport(Glibc)
import Glibc
#endif
import InsightCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Closes a connection that has completed nothing for its timeout: no request head, no piece of
/// a body (a half-sent request, a head trickled a byte at a time, a client that went away, a TLS
/// handshake that never ends), so idle sockets cannot pile up. Not a handler of its own: the
/// connection's `HTTPHandler` tells it of each part it reads (a store), where a handler of its own
/// in front of the decoder cost a pipeline hop per read (about 130 ns of a 4.6 µs `/validate` in
/// `bench-request`). It checks on a timer every quarter of the
/// timeout, so a silent connection is closed between 1 and 1.25 timeouts after its last part.
final class IdleTimer {
    static let checksPerTimeout: Int64 = 4
    private let period: TimeAmount
    private var quietChecks: Int64 = 0
    private var check: RepeatedTask?

    init(timeout: TimeAmount) {
        period = .nanoseconds(max(1, timeout.nanoseconds / Self.checksPerTimeout))
    }

    /// Something arrived: the silence starts again.
    func heard() { quietChecks = 0 }

    /// Starts checking (once; later calls do nothing until `stop`).
    func start(_ context: ChannelHandlerContext) {
        guard check == nil else { return }
        quietChecks = 0
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            let (timer, context) = bound.value
            timer.quietChecks += 1
            // The first quiet check may come just after the last part: one more than a timeout's
            // worth makes the silence at least a whole timeout.
            if timer.quietChecks > Self.checksPerTimeout {
                timer.stop()
                context.close(promise: nil)
            }
        }
    }

    func stop() {
        check?.cancel()
        check = nil
    }
}

/// Closes a connection whose request head is not complete `timeout` after its first byte (a
/// half-sent or trickled head), while a quiet keep-alive connection waits out the longer idle
/// timeout. It sits before the HTTP decoder and sees bytes; `HTTPHandler` tells it when a head
/// arrived and when the request ended.
final class HeadClock: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let timeout: TimeAmount
    /// Between requests: the next byte starts a head.
    private var between = true
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if between, deadline == nil {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: timeout) { bound.value.close(promise: nil) }
        }
        context.fireChannelRead(data)
    }

    func headReceived() {
        deadline?.cancel()
        deadline = nil
        between = false
    }

    func requestEnded() { between = true }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }
}

/// At most `limit` connections open at once: one beyond is answered 503 with `Retry-After` and
/// closed, so a flood cannot take the server's memory. When a flood ends (the count falls to
/// none after a peak above `trimAfter`), freed memory is handed back to the system.
public final class ConnectionGate: @unchecked Sendable {
    public let limit: Int
    static let trimAfter = 256
    /// Whether the heap is given back after a surge here (glibc's `malloc_trim` was found).
    package static var trimsHeap: Bool { mallocTrim != nil }
    private let lock = NSLock()
    private var counts = (open: 0, peak: 0, refused: 0)

    /// `limit`, or fewer when the process may not open that many descriptors: the soft limit
    /// is raised toward the hard one first, and 64 are kept for the store, logs and listeners.
    public init(limit: Int) {
        var descriptors = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &descriptors) == 0 {
            let wanted = rlim_t(limit + 64)
            if descriptors.rlim_cur < wanted {
                var raised = descriptors
                raised.rlim_cur = min(wanted, descriptors.rlim_max)
                if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { descriptors = raised }
            }
            self.limit = max(1, min(limit, Int(clamping: descriptors.rlim_cur) - 64))
        } else {
            self.limit = limit
        }
    }

    public var open: Int { lock.withLock { counts.open } }
    public var refused: Int { lock.withLock { counts.refused } }

    /// Counts the channel in, or refuses it (503 and close) when `limit` are open.
    func admit(_ channel: any Channel) -> Bool {
        let admitted = lock.withLock { () -> Bool in
            guard counts.open < limit else {
                counts.refused += 1
                return false
            }
            counts.open += 1
            counts.peak = max(counts.peak, counts.open)
            return true
        }
        guard admitted else {
            let body = #"{"message":"too many connections: this server holds at most \#(limit) at once; retry in a second"}"#
            let answer = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            var buffer = channel.allocator.buffer(capacity: answer.utf8.count)
            buffer.writeString(answer)
            channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
            return false
        }
        channel.closeFuture.whenComplete { _ in
            let trim = self.lock.withLock { () -> Bool in
                self.counts.open -= 1
                guard self.counts.open == 0, self.counts.peak > Self.trimAfter else { return false }
                self.counts.peak = 0
                return true
            }
            // malloc_trim walks the heap: off the event loop.
            if trim, let mallocTrim { DispatchQueue.global(qos: .utility).async { _ = mallocTrim(0) } }
        }
        return true
    }
}

/// glibc's `malloc_trim`, looked up when the program runs: it gives the pages of a surge of
/// connections back to the system. Other C libraries (musl, Darwin's) have none, and nothing is
/// trimmed there.
private let mallocTrim: (@convention(c) (Int) -> Int32)? = {
    #if canImport(Glibc)
    guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    #else
    return nil
    #endif
}()
