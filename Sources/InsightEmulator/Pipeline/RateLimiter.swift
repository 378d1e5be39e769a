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
///
/// Every authenticated request asks it, so it does not hash a family: `EndpointFamily` has a
/// `String` raw value, and a raw-valued enum hashes that string (about 25 ns of a 310 ns
/// `/validate` in the emulator, with the window's key built by interpolation on top).
struct RateLimiter: Sendable {
    /// The quota of each family, by its position in `EndpointFamily.allCases`; nil: unlimited.
    private let quotas: [RateLimit?]
    private var windows: [WindowKey: (start: Date, used: Int)] = [:]

    private struct WindowKey: Hashable {
        let key: String
        let family: Int
    }

    init(overrides: [EndpointFamily: RateLimit] = [:]) {
        quotas = EndpointFamily.allCases.map { family in overrides[family] ?? family.defaultLimit.map { RateLimit(limit: $0) } }
    }

    enum Verdict {
        case unlimited
        case allowed(limit: Int, remaining: Int, reset: Int)
        case limited(limit: Int, reset: Int)
    }

    mutating func take(key: String, family: EndpointFamily, now: Date) -> Verdict {
        guard let quota = quotas[family.position] else { return .unlimited }
        let id = WindowKey(key: key, family: family.position)
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

extension EndpointFamily {
    /// Its position in `allCases`, without searching it.
    var position: Int {
        switch self {
        case .logSearchQuery: return 0
        case .logSearchPolling: return 1
        case .logSearchManagement: return 2
        case .idr: return 3
        case .connect: return 4
        case .platform: return 5
        }
    }
}
