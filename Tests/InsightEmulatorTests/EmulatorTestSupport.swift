import Foundation
import InsightCore
import InsightEmulator

/// A small tenant: an analyst with both roles, an org key, and a few keys in odd states.
enum Fixture {
    static let analystKey = "11111111-1111-4111-8111-111111111111"
    static let orgKey = "22222222-2222-4222-8222-222222222222"
    static let revokedKey = "33333333-3333-4333-8333-333333333333"
    static let idrOnlyKey = "44444444-4444-4444-8444-444444444444"
    static let noProductKey = "55555555-5555-4555-8555-555555555555"
    static let lockedUserKey = "66666666-6666-4666-8666-666666666666"
    static let expiringKey = "77777777-7777-4777-8777-777777777777"

    static func tenant(region: Region = .us2, investigations: Int = 0, logs: Int = 0, now: Date = VirtualClock.defaultStart) -> Tenant {
        var generator = DataGenerator(seed: 7, label: "fixture")
        let org = generator.uuid()
        return Tenant(
            region: region, organizationID: org, organizationName: "Example",
            users: [
                User(email: "analyst@example.com", roles: ["Insight IDR Analyst", "Log Search View Only"], products: ["InsightIDR"]),
                User(email: "idr-only@example.com", roles: ["Insight IDR Analyst"], products: ["InsightIDR"]),
                User(email: "no-product@example.com", roles: ["Insight IDR Analyst", "Log Search View Only"], products: []),
                User(email: "locked@example.com", status: .locked, roles: ["Insight IDR Analyst"], products: ["InsightIDR"]),
            ],
            keys: [
                APIKey(id: "analyst", secret: analystKey, kind: .user, owner: "analyst@example.com"),
                APIKey(id: "org", secret: orgKey, kind: .organization),
                APIKey(id: "revoked", secret: revokedKey, kind: .user, owner: "analyst@example.com", status: .revoked),
                APIKey(id: "idr-only", secret: idrOnlyKey, kind: .user, owner: "idr-only@example.com"),
                APIKey(id: "no-product", secret: noProductKey, kind: .user, owner: "no-product@example.com"),
                APIKey(id: "locked", secret: lockedUserKey, kind: .user, owner: "locked@example.com"),
                APIKey(id: "expiring", secret: expiringKey, kind: .user, owner: "analyst@example.com",
                       expiresAt: now.addingTimeInterval(3600)),
            ],
            investigations: generator.investigations(count: investigations, region: region, organizationID: org, now: now, spreadDays: 10),
            logSources: generator.logSources(count: logs))
    }

    static func request(_ method: String = "GET", _ host: String = "us2.api.insight.rapid7.com", path: String,
                        key: String? = analystKey, header: String = "X-Api-Key", query: [URLQueryItem] = []) -> HTTPRequest
    {
        var headers: HTTPHeaders = [:]
        if let key { headers.add(header, key) }
        return HTTPRequest(method: method, host: host, path: path, query: query, headers: headers)
    }
}
