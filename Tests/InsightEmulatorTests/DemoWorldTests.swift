import Foundation
import InsightCore
import InsightEmulator
import Testing

@Suite struct DemoWorldTests {
    let tenants = DemoWorld.tenants(now: VirtualClock.defaultStart)

    func secret(_ region: Region, _ kind: APIKey.Kind) -> String? {
        tenants.first { $0.region == region }?.keys.first { $0.id == DemoWorld.keyID(region, kind) }?.secret
    }

    /// docs/CLIENTS.md lists these keys; they must not change from one build to the next.
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
            #expect(tenant.logSources.count == 7)
            #expect(tenant.logEvents.values.map(\.count) == Array(repeating: 200, count: 7))
            // IDR's standard log sets, one log each: what clients look log sets up by.
            #expect(tenant.logSources.map(\.logsetName) == IDRLogSet.allCases.map(\.rawValue))
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

/// `serve --investigations/--log-sources/--events-per-log`: what a size may be, said in the options' words.
@Suite struct DemoSizeTests {
    static func size(_ investigations: Int, _ logs: Int, _ perLog: Int) -> DemoWorld.Size {
        var size = DemoWorld.Size()
        (size.investigations, size.logSources, size.eventsPerLog) = (investigations, logs, perLog)
        return size
    }

    @Test func theLargestSizesAreAccepted() {
        #expect(DemoWorld.Size().problem == nil)
        #expect(Self.size(1_000_000, 10, 10_000_000).problem == nil)
    }

    @Test func eachLimitIsNamed() {
        #expect(Self.size(1_000_001, 3, 200).problem == "--investigations must be 0…1000000, not 1000001")
        #expect(Self.size(-1, 3, 200).problem == "--investigations must be 0…1000000, not -1")
        #expect(Self.size(120, 0, 200).problem == "--log-sources must be 1…10000, not 0")
        #expect(Self.size(120, 11, 10_000_000).problem == "--log-sources × --events-per-log must be 0…100000000, not 11 × 10000000")
        #expect(Self.size(120, 3, -5).problem == "--log-sources × --events-per-log must be 0…100000000, not 3 × -5")
    }

    @Test func aProductThatOverflowsIsRefusedNotATrap() {
        #expect(Self.size(120, 3, Int.max).problem == "--log-sources × --events-per-log must be 0…100000000, not 3 × \(Int.max)")
    }

    @Test func aSizedDemoWorldHoldsWhatItWasAskedFor() {
        let tenants = DemoWorld.tenants(now: VirtualClock.defaultStart, size: Self.size(1_000_000, 10, 10_000_000))
        #expect(tenants.allSatisfy { $0.investigations.count == 1_000_000 && $0.logEvents.count == 10 })
        #expect(tenants.allSatisfy { $0.logEvents.values.allSatisfy { $0.count == 10_000_000 } })
    }
}
