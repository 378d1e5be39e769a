/// How the client retries: bounded attempts, `Retry-After` honoured, exponential backoff on 5xx.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included.
    public var maxAttempts: Int
    /// First backoff after a 5xx or a reset connection; doubles each time.
    public var baseBackoff: Double
    public var maxBackoff: Double
    /// Used when a 429 carries neither `Retry-After` nor `X-RateLimit-Reset`.
    public var defaultRetryAfter: Double
    /// A 429 asking to wait longer than this is not waited out: the client gives up at once.
    public var maxRetryAfter: Double
    /// Spread of each backoff, 0…1 of itself (0: exact schedules, the default).
    public var jitter: Double
    /// Seed of the jitter, so a run with jitter is still reproducible.
    public var jitterSeed: UInt64

    public init(maxAttempts: Int = 4, baseBackoff: Double = 1, maxBackoff: Double = 60,
                defaultRetryAfter: Double = 60, maxRetryAfter: Double = 900, jitter: Double = 0, jitterSeed: UInt64 = 1)
    {
        self.jitter = min(1, max(0, jitter))
        self.jitterSeed = jitterSeed
        self.maxAttempts = max(1, maxAttempts)
        self.baseBackoff = baseBackoff
        self.maxBackoff = maxBackoff
        self.defaultRetryAfter = defaultRetryAfter
        self.maxRetryAfter = maxRetryAfter
    }

    /// Seconds to wait before attempt `attempt + 1` after a 5xx (attempt counts from 1).
    func backoff(after attempt: Int) -> Double {
        min(maxBackoff, baseBackoff * Double(1 << min(attempt - 1, 30)))
    }
}
