import Foundation
import InsightCore
import InsightEmulator
import Testing

/// One representative endpoint per API family: each answers 200 with a valid key, the
/// documented 401 without one, and 429 once its family's quota is spent.
@Suite struct EveryFamilyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let family: EndpointFamily
        let method: String
        let host: String
        let path: String
        let body: JSON?
        let key: String
        let unauthorized: JSON
        var testDescription: String { "\(family.rawValue) \(method) \(path)" }
    }

    static let idr401: JSON = ["message": "Unauthorized"]
    static let cases: [Case] = [
        Case(family: .platform, method: "GET", host: "us2.api.insight.rapid7.com", path: "/validate", body: nil, key: Fixture.analystKey, unauthorized: idr401),
        Case(family: .idr, method: "GET", host: "us2.api.insight.rapid7.com", path: "/idr/v2/investigations", body: nil, key: Fixture.analystKey, unauthorized: idr401),
        Case(family: .idr, method: "POST", host: "us2.api.insight.rapid7.com", path: "/idr/at/alerts/ops/search", body: [:], key: Fixture.analystKey, unauthorized: idr401),
        Case(family: .logSearchManagement, method: "GET", host: "us2.rest.logs.insight.rapid7.com", path: "/management/logs", body: nil, key: Fixture.analystKey, unauthorized: idr401),
        Case(family: .logSearchQuery, method: "POST", host: "us2.rest.logs.insight.rapid7.com", path: "/audit/query/logs",
             body: ["logs": ["aaaaaaaa-0000-4000-8000-000000000001"], "leql": ["statement": "", "during": ["time_range": "today"]]],
             key: Fixture.orgKey, unauthorized: idr401),
        Case(family: .connect, method: "POST", host: "us2.api.insight.rapid7.com", path: "/connect/v1/execute/async/workflows/\(Fixture.workflowID)",
             body: ["x": 1], key: Fixture.analystKey, unauthorized: ["error": ["message": "Unauthorized"]]),
    ]

    func request(_ item: Case, key: String?) -> HTTPRequest {
        var headers: HTTPHeaders = [:]
        if let key { headers.add("X-Api-Key", key) }
        return HTTPRequest(method: item.method, host: item.host, path: item.path, headers: headers, body: item.body?.encoded() ?? Data())
    }

    @Test(arguments: cases)
    func okThen401Then429(item: Case) async throws {
        let emulator = Emulator(tenants: [Fixture.rich(queryPolls: 0)], rateLimits: [item.family: RateLimit(limit: 1, window: 60)],
                                clock: VirtualClock())
        let ok = try await emulator.handle(request(item, key: item.key))
        #expect((200...202).contains(ok.status), "\(ok.status) \(ok.bodyText)")
        let denied = try await emulator.handle(request(item, key: nil))
        #expect(denied.status == 401)
        var body = denied.json
        if case .object(var object)? = body, case .object(var error)? = object["error"] {
            #expect(error["requestId"]?.stringValue?.count == 36)
            error["requestId"] = nil
            object["error"] = .object(error)
            body = .object(object)
        }
        #expect(body == item.unauthorized)
        let limited = try await emulator.handle(request(item, key: item.key))
        #expect(limited.status == 429)
        #expect(limited.bodyText == "API rate limit exceeded")
        #expect(limited.headers["Retry-After"] == "60")
    }
}
