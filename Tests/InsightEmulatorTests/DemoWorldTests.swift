import Foundation
import InsightCore
import InsightEmulator
import Testing

@Suite struct DemoWorldTests {
    let tenants = DemoWorld.tenants(now: VirtualClock.defaultStart)

    func secret(_ region: Region, _ kind: APIKey.Kind) -> String? {
        tenants.first { $0.region == region }?.keys.first { $0.id == DemoWorld.keyID(region, kind) }?.secret
    }

    /// The README lists these keys; they must not change from one build to the next.
    @Test func theREADMEsDemoKeysAreStable() {
        #expect(secret(.us, .user) == "642fcbc9-8ed4-46bd-8eaa-954edef8a662")
        #expect(secret(.us, .organization) == "313a2063-7f45-4afc-93c0-db5167306da3")
        #expect(secret(.us2, .user) == "9ca6aafa-b5be-4c8f-8c7f-53fc1c4cf524")
        #expect(secret(.us2, .organization) == "39abd11a-b0ee-4a41-92db-fd2e9af2a02a")
        #expect(secret(.eu, .user) == "d37b91e2-cf76-445b-9676-1a960b4f89cf")
        #expect(secret(.eu, .organization) == "4aa5fdff-cbc9-4ba9-a875-46540e498d15")
    }

    @Test func everyRegionHasAnOrganizationWithDataOfEveryKind() async throws {
        #expect(tenants.map(\.region) == Region.allCases)
        for tenant in tenants {
            #expect(tenant.investigations.count == 120)
            #expect(tenant.alerts.count == 240)
            #expect(tenant.logSources.count == 3)
            #expect(tenant.logEvents.values.map(\.count) == [200, 200, 200])
            #expect(tenant.auditEvents.count == 100)
            #expect(tenant.workflows.map(\.active) == [true, false])
        }
        let emulator = Emulator(tenants: tenants, clock: VirtualClock())
        for region in Region.allCases {
            let key = try #require(secret(region, .user))
            let response = try await emulator.handle(HTTPRequest(method: "GET", host: region.platformHost, path: "/validate",
                                                                 headers: ["X-Api-Key": key]))
            #expect(response.status == 200, "\(region)")
        }
    }
}
