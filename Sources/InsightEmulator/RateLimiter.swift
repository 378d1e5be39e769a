import Foundation
import InsightCore

/// The endpoint families quotas are counted in (reference §3).
public enum EndpointFamily: String, Sendable, Hashable, CaseIterable, Codable {
    case logSearchQuery = "log_search_query"
    case logSearchPolling = "log_search_polling"
    case logSearchManagement = "log_search_management"
    case idr
    case connect
    case platform

    /// Per-key limit per 15-minute window: documented for Log Search (LSO tag descriptions);
    /// the platform families publish none (reference §3), so they are unlimited unless a
    /// scenario sets one.
    public var defaultLimit: Int? {
        switch self {
        case .logSearchQuery: return 1_500
        case .logSearchPolling: return 10_000
        case .logSearchManagement: return 1_500
        case .idr, .connect, .platform: return nil
        }
    }
}

/// A quota: `limit` requests per `window` seconds, per key and family.
public struct RateLimit: Sendable, Hashable {
    public var limit: Int
    public var window: Double
    public init(limit: Int, window: Double = 900) {
        self.limit = limit
        self.window = window
    }
}

/// Fixed windows per (key, family) on the injected clock; a window opens at the first request.
struct RateLimiter: Sendable {
    var limits: [EndpointFamily: RateLimit]
    private var windows: [String: (start: Date, used: Int)] = [:]

    init(overrides: [EndpointFamily: RateLimit] = [:]) {
        var limits: [EndpointFamily: RateLimit] = [:]
        for family in EndpointFamily.allCases {
            if let limit = family.defaultLimit { limits[family] = RateLimit(limit: limit) }
        }
        limits.merge(overrides) { _, new in new }
        self.limits = limits
    }

    enum Verdict {
        case unlimited
        case allowed(limit: Int, remaining: Int, reset: Int)
        case limited(limit: Int, reset: Int)
    }

    mutating func take(key: String, family: EndpointFamily, now: Date) -> Verdict {
        guard let quota = limits[family] else { return .unlimited }
        let id = "\(key)|\(family.rawValue)"
        var window = windows[id] ?? (now, 0)
        if now.timeIntervalSince(window.start) >= quota.window { window = (now, 0) }
        let reset = max(1, Int((quota.window - now.timeIntervalSince(window.start)).rounded(.up)))
        guard window.used < quota.limit else {
            windows[id] = window
            return .limited(limit: quota.limit, reset: reset)
        }
        window.used += 1
        windows[id] = window
        return .allowed(limit: quota.limit, remaining: quota.limit - window.used, reset: reset)
    }
}
