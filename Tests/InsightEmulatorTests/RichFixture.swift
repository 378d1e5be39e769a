import Foundation
import Testing
import InsightCore
import InsightEmulator

extension Fixture {
    static let workflowID = "7d0a5b1e-3c2f-4e8a-9b6d-1f2e3d4c5b6a"
    static let openWorkflowID = "8e1b6c2f-4d3a-4f9b-8c7e-2a3b4c5d6e7f"
    static let inactiveWorkflowID = "9f2c7d3a-5e4b-4a0c-9d8f-3b4c5d6e7f8a"
    static let adminKey = "88888888-8888-4888-8888-888888888888"

    /// The fixture tenant with alerts, logs with events, an audit log, workflows and accounts.
    static func rich(region: Region = .us2, now: Date = VirtualClock.defaultStart, queryPolls: Int = 1) -> Tenant {
        var tenant = tenant(region: region, investigations: 30, logs: 2, now: now)
        var generator = DataGenerator(seed: 11, label: "rich")
        tenant.users.append(User(email: "admin@example.com", roles: ["Platform Admin"], products: ["InsightIDR", "InsightConnect"], platformAdmin: true))
        tenant.keys.append(APIKey(id: "admin", secret: adminKey, kind: .user, owner: "admin@example.com"))
        tenant.alerts = generator.alerts(for: tenant.investigations, perInvestigation: 2, region: region, organizationID: tenant.organizationID)
        tenant.logEvents = generator.logEvents(for: tenant.logSources, perLog: 120, now: now, spreadDays: 1)
        let audit = LogSource(id: "aaaaaaaa-0000-4000-8000-000000000001", name: "Audit Log", logsetID: "aaaaaaaa-0000-4000-8000-000000000002", logsetName: "Audit")
        tenant.auditLog = audit
        tenant.auditEvents = generator.auditEvents(logID: audit.id, count: 40, users: tenant.users, organizationID: tenant.organizationID, now: now, spreadDays: 1)
        tenant.workflows = [Workflow(id: workflowID, name: "Notify", active: true, requireAPIKey: true),
                            Workflow(id: openWorkflowID, name: "Open", active: true, requireAPIKey: false),
                            Workflow(id: inactiveWorkflowID, name: "Old", active: false, requireAPIKey: true)]
        tenant.accounts = generator.accounts(count: 12, region: region, organizationID: tenant.organizationID)
        tenant.queryPolls = queryPolls
        return tenant
    }

    /// A request with a JSON body; a `?query` in `path` becomes query items.
    static func json(_ method: String, _ path: String, _ body: JSON, key: String? = analystKey, host: String = "us2.api.insight.rapid7.com") -> HTTPRequest {
        let components = URLComponents(string: path)!
        var request = request(method, host, path: components.path, key: key, query: components.queryItems ?? [])
        request.body = body.encoded()
        return request
    }

    /// The first alert an alert search finds.
    static func firstAlert(_ emulator: Emulator) async throws -> JSON {
        let search = try await emulator.handle(json("POST", "/idr/at/alerts/ops/search?size=1", ["search": [:]]))
        return try #require(search.json?["alerts"]?.arrayValue?.first)
    }

    static func query(_ path: String, _ items: [(String, String)], key: String? = analystKey, host: String = "us2.api.insight.rapid7.com") -> HTTPRequest {
        request("GET", host, path: path, key: key, query: items.map { URLQueryItem(name: $0.0, value: $0.1) })
    }
}
