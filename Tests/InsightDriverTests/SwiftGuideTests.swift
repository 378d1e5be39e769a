import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import InsightCore
import InsightDriver
import InsightEmulator
import InsightServer
import Testing

// The examples of docs/SWIFT.md, compiled and run as tests: each ```swift block of the guide is
// here verbatim (the last test checks it), so the guide cannot drift from the libraries.

@Test func aRateLimitIsWaitedOutInNoTime() async throws {
    // A tenant in us with a service user's key, and a 429 asking for 30 s on the first /validate.
    let key = "9b1c6e1e-0000-4000-8000-000000000001"
    let tenant = Tenant(region: .us, organizationID: "org-1", organizationName: "Example",
                        users: [User(email: "svc@example.com", roles: ["Insight IDR Analyst"], products: ["InsightIDR"])],
                        keys: [APIKey(id: "main", secret: key, kind: .user, owner: "svc@example.com")])
    let clock = VirtualClock()
    try await withEmulator(tenants: [tenant], faults: [FaultRule(path: "/validate", status: 429, count: 1, retryAfter: 30)],
                           clock: clock) { emulator in
        // Your connector would send these through its own HTTP layer; the emulator is an HTTPTransport.
        let request = HTTPRequest(method: "GET", url: "https://us.api.insight.rapid7.com/validate", headers: ["X-Api-Key": key])!
        let first = try await emulator.send(request)
        #expect(first.status == 429)
        #expect(first.headers["Retry-After"] == "30")
        try await clock.sleep(seconds: 30) // returns at once: the clock is virtual
        #expect(try await emulator.send(request).status == 200)
        #expect(clock.elapsed == 30)
    }
}

@Test func theSameOverLoopback() async throws {
    let emulator = Emulator(tenants: DemoWorld.tenants(now: VirtualClock.defaultStart), clock: VirtualClock())
    let key = DemoWorld.tenants(now: VirtualClock.defaultStart).first { $0.region == .us3 }!.keys.first { $0.kind == .user }!.secret
    let status = try await withServer(emulator) { server in
        // http://127.0.0.1:PORT/REGION/… reaches that region's hosts (links in answers stay inside).
        var request = URLRequest(url: URL(string: "\(server.baseURL)/us3/validate")!)
        request.setValue(key, forHTTPHeaderField: "X-Api-Key")
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as! HTTPURLResponse).statusCode
    }
    #expect(status == 200)
}

@Test func aScenarioFromYAML() async throws {
    let scenario = try ScenarioLoader.parse("""
        name: my-connector-wrong-region
        provenance: my connector's own case
        tenant:
          region: eu
          users: [{ email: svc@example.com, roles: [Insight IDR Analyst], products: [InsightIDR] }]
          keys: [{ id: main, kind: user, owner: svc@example.com }]
        client: { url: https://us.api.insight.rapid7.com, token: { key: main } }
        steps: [validate]
        expect: { diagnosis: wrong_regional_url }
        """, file: "my-connector-wrong-region.yaml")
    let result = await ScenarioRunner().run(scenario)
    #expect(result.passed, "\(result.failures)")
}

@Test func theSwiftGuideShowsTheseExamplesVerbatim() throws {
    let guide = try String(contentsOfFile: "\(repositoryRoot)/docs/SWIFT.md", encoding: .utf8)
    let source = try String(contentsOfFile: #filePath, encoding: .utf8)
    let blocks = guide.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
    #expect(blocks.count == 3)
    for block in blocks { #expect(source.contains(block), "docs/SWIFT.md shows code the tests do not hold:\n\(block)") }
}
