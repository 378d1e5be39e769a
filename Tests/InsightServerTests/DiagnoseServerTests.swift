import Foundation
import InsightClient
import InsightCore
import InsightDriver
import InsightEmulator
import InsightServer
import Testing

/// `diagnose --server URL`: the same sequence over a socket to a running `serve`.
@Suite struct DiagnoseServerTests {
    @Test func theCustomersSettingsAgainstARunningServer() async throws {
        let now = Date()
        let tenants = DemoWorld.tenants(now: now)
        let keys = Diagnose.demoKeys(tenants)
        let secret = try #require(keys["demo-us3-user"])
        try await withServer(Emulator(tenants: tenants, clock: SystemClock())) { server in
            let transport = NetworkTransport(base: server.baseURL, timeout: 10)
            let wrong = await Diagnose.run(.idr(url: "https://us.api.insight.rapid7.com", token: secret, serviceUser: nil, adminToken: nil),
                                           transport: transport, clock: SystemClock(), target: "server", retry: RetryPolicy(maxAttempts: 1))
            #expect(wrong.diagnosis?.category == .wrongRegionalURL)
            #expect(wrong.diagnosis?.remedies.first == "Set URL to https://us3.api.insight.rapid7.com")
            #expect(Array(wrong.requests.prefix(3)) == ["GET us.api.insight.rapid7.com/validate → 401",
                                                        "GET us2.api.insight.rapid7.com/validate → 401",
                                                        "GET us3.api.insight.rapid7.com/validate → 200"])
            let right = await Diagnose.run(.idr(url: "https://us3.api.insight.rapid7.com", token: secret, serviceUser: nil, adminToken: nil),
                                           transport: transport, clock: SystemClock(), target: "server", retry: RetryPolicy(maxAttempts: 1))
            #expect(right.ok, "\(String(describing: right.diagnosis))")
            #expect(!Diagnose.text(wrong, secrets: [secret]).contains(secret))
        }
    }
}
