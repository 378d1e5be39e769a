import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Logging

enum ClientFixture {
    static let key = "c4a7c4a7-1111-4111-8111-c4a7c4a7c4a7"
    static let orgKey = "c4a7c4a7-2222-4222-8222-c4a7c4a7c4a7"

    static func tenant(_ region: Region, status: User.Status = .active, roles: [String] = ["Insight IDR Analyst", "Log Search View Only"],
                       investigations: Int = 0, logs: Int = 1) -> Tenant
    {
        var generator = DataGenerator(seed: 3, label: "client")
        let org = generator.uuid()
        return Tenant(
            region: region, organizationID: org, organizationName: "Example",
            users: [User(email: "svc@example.com", status: status, roles: roles, products: ["InsightIDR"])],
            keys: [APIKey(id: "main", secret: key, kind: .user, owner: "svc@example.com"),
                   APIKey(id: "org", secret: orgKey, kind: .organization)],
            investigations: generator.investigations(count: investigations, region: region, organizationID: org,
                                                     now: VirtualClock.defaultStart, spreadDays: 5),
            logSources: generator.logSources(count: logs))
    }

    static func client(_ emulator: any HTTPTransport, url: String, clock: VirtualClock, token: String = key,
                       retry: RetryPolicy = RetryPolicy(), admin: AdminCheck? = nil, logger: Logger = Logger(label: "test")) -> InsightClient
    {
        InsightClient(settings: IntegrationSettings(url: url, token: token), transport: emulator, clock: clock,
                      retry: retry, admin: admin, logger: logger)
    }
}

/// Collects every log line, to check no secret is ever logged.
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var captured: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.lock()
        captured.append("\(event.level) \(event.message) \(event.metadata ?? [:])")
        lock.unlock()
    }

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return captured
    }
}

/// A transport that fails every request the same way, below HTTP.
struct FailingTransport: HTTPTransport {
    let error: CoreError
    func send(_ request: HTTPRequest) async throws -> HTTPResponse { throw error }
}
