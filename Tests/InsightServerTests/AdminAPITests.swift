import Foundation
import InsightCore
import InsightEmulator
import InsightServer
import Testing

@Suite struct AdminAPITests {
    static let key = LoopbackServerTests.key

    func virtualEmulator() -> (Emulator, VirtualClock) {
        let clock = VirtualClock()
        let tenant = Tenant(
            region: .us2, organizationID: "174e4f99-2ac7-4481-9301-4d24c34baf06", organizationName: "Example",
            users: [User(email: "svc@example.com", roles: ["Insight IDR Analyst", "Log Search View Only"], products: ["InsightIDR"])],
            keys: [APIKey(id: "main", secret: Self.key, kind: .user, owner: "svc@example.com",
                          expiresAt: clock.now().addingTimeInterval(3600))])
        return (Emulator(tenants: [tenant], clock: clock, journalCapacity: 3), clock)
    }

    func get(_ port: Int, _ path: String) async throws -> RawReply {
        try await exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    }

    func post(_ port: Int, _ path: String, _ body: String, method: String = "POST") async throws -> RawReply {
        let type = path.hasSuffix("/scenario") ? "application/yaml" : "application/json"
        return try await exchange(port: port, "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
    }

    func validate(_ port: Int) async throws -> Int {
        try await exchange(port: port, "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(Self.key)\r\nConnection: close\r\n\r\n").status
    }

    @Test func stateChangesTakeEffectAtOnce() async throws {
        let (emulator, _) = virtualEmulator()
        try await withServer(emulator) { server in
            #expect(try await validate(server.port) == 200)
            let revoked = try await post(server.port, "/_admin/state", #"{"revoke_key":"main"}"#)
            #expect(revoked.status == 200)
            #expect(try await validate(server.port) == 401)
            let unknown = try await post(server.port, "/_admin/state", #"{"revoke_key":"nope"}"#)
            #expect(unknown.status == 404)
            let bad = try await post(server.port, "/_admin/state", #"{"explode":1}"#)
            #expect(bad.status == 400)
            #expect(bad.body.contains("is not an action"))
        }
    }

    /// The admin API is as strict as the loader: unknown fields 400, a duplicate key id or
    /// secret 409, a key made in a tenant it names, and every change saying which tenants.
    @Test func stateChangesAreStrictAndSayWhere() async throws {
        let clock = VirtualClock()
        let demo = Emulator(tenants: DemoWorld.tenants(now: clock.now()), clock: clock)
        let email = try #require(demo.allTenants.first?.users.first?.email)
        let existing = try #require(demo.allTenants.first { $0.region == .us }?.keys.first)
        try await withServer(demo) { server in
            let duplicate = try await post(server.port, "/_admin/state",
                #"{"create_key":{"id":"\#(existing.id)","kind":"organization","secret":"0b8e2d4c-1a3f-4e5d-8c7b-6a5f4e3d2c1b"},"region":"us2"}"#)
            #expect(duplicate.status == 409 && duplicate.body.contains("a key '\(existing.id)' exists already (in us)"), "\(duplicate.body)")
            let stolen = try await post(server.port, "/_admin/state",
                #"{"create_key":{"id":"fresh","kind":"organization","secret":"\#(existing.secret)"},"region":"us2"}"#)
            #expect(stolen.status == 409 && stolen.body.contains("a secret is valid in one region only"))
            let unnamed = try await post(server.port, "/_admin/state",
                #"{"create_key":{"id":"fresh","kind":"organization","secret":"0b8e2d4c-1a3f-4e5d-8c7b-6a5f4e3d2c1b"}}"#)
            #expect(unnamed.status == 400 && unnamed.body.contains("name the tenant it is for"))
            let inside = try await post(server.port, "/_admin/state",
                #"{"create_key":{"id":"fresh","kind":"organization","secret":"0b8e2d4c-1a3f-4e5d-8c7b-6a5f4e3d2c1b","region":"us2"}}"#)
            #expect(inside.status == 400 && inside.body.contains("create_key.region: unknown field"), "\(inside.body)")
            let made = try await post(server.port, "/_admin/state",
                #"{"create_key":{"id":"fresh","kind":"organization","secret":"0b8e2d4c-1a3f-4e5d-8c7b-6a5f4e3d2c1b"},"region":"us2"}"#)
            #expect(made.status == 200 && made.body.contains(#""tenants":["us2 ("#), "\(made.body)")
            #expect(demo.allTenants.filter { $0.keys.contains { $0.id == "fresh" } }.map(\.region) == [.us2])
            // A change every tenant's user shares names each tenant it changed.
            let everywhere = try await post(server.port, "/_admin/state", #"{"remove_role":{"user":"\#(email)","role":"Log Search View Only"}}"#)
            let tenants = JSON(data: Data(everywhere.body.utf8))?["tenants"]?.arrayValue ?? []
            #expect(everywhere.status == 200 && tenants.count == demo.allTenants.count, "\(everywhere.body)")
            let scoped = try await post(server.port, "/_admin/state", #"{"add_role":{"user":"\#(email)","role":"Log Search View Only"},"region":"eu"}"#)
            #expect(JSON(data: Data(scoped.body.utf8))?["tenants"]?.arrayValue?.count == 1)
        }
    }

    @Test func faultsAreListedAndCleared() async throws {
        let (emulator, _) = virtualEmulator()
        try await withServer(emulator) { server in
            #expect(try await post(server.port, "/_admin/faults", #"{"path":"/validate","status":503,"count":0}"#).status == 400)
            #expect(try await post(server.port, "/_admin/faults", #"{"status":302,"headers":{"Location":"https://insight.rapid7.com/login"},"count":2}"#).status == 200)
            #expect(try await validate(server.port) == 302)
            let listed = JSON(data: Data(try await get(server.port, "/_admin/faults").body.utf8))?["faults"]?.arrayValue ?? []
            #expect(listed.count == 1 && listed.first?["seen"] == 1 && listed.first?["remaining"] == 1, "\(listed)")
            let cleared = try await post(server.port, "/_admin/faults", "", method: "DELETE")
            #expect(cleared.status == 200 && cleared.body.contains(#""cleared":1"#))
            #expect(try await validate(server.port) == 200)
        }
    }

    @Test func theVirtualClockAdvancesOnRequest() async throws {
        let (emulator, clock) = virtualEmulator()
        try await withServer(emulator) { server in
            let health = try await get(server.port, "/_admin/health")
            #expect(health.body.contains(#""clock":"virtual""#))
            let moved = try await post(server.port, "/_admin/clock/advance", #"{"seconds":3600}"#)
            #expect(moved.status == 200)
            #expect(clock.elapsed == 3600)
            #expect(try await validate(server.port) == 401, "the key expired at +3600 s")
        }
    }

    @Test func theWallClockCannotBeAdvanced() async throws {
        let emulator = Emulator(tenants: [], clock: SystemClock())
        try await withServer(emulator) { server in
            let refused = try await post(server.port, "/_admin/clock/advance", #"{"seconds":1}"#)
            #expect(refused.status == 409)
            #expect(refused.body.contains("--clock virtual"))
        }
    }

    @Test func faultsJournalAndItsCap() async throws {
        let (emulator, _) = virtualEmulator()
        try await withServer(emulator) { server in
            #expect(try await post(server.port, "/_admin/faults", #"{"path":"/validate","status":503,"count":1}"#).status == 200)
            #expect(try await validate(server.port) == 503)
            for _ in 0..<3 { _ = try await validate(server.port) }
            let journal = try await get(server.port, "/_admin/journal?limit=10")
            let json = try #require(JSON(data: Data(journal.body.utf8)))
            #expect(json["capacity"] == 3)
            #expect(json["dropped"] == 1)
            #expect(json["total"] == 4)  // every request journalled: those kept and those dropped
            #expect(json["entries"]?.arrayValue?.map { $0["status"] } == [200, 200, 200])
            #expect(!journal.body.contains(Self.key), "the journal names keys by id")
            #expect(try await post(server.port, "/_admin/journal", "", method: "DELETE").status == 200)
            let empty = try await get(server.port, "/_admin/journal")
            #expect(JSON(data: Data(empty.body.utf8))?["entries"] == [])
        }
    }

    @Test func aScenarioCanBeUploaded() async throws {
        let (emulator, _) = virtualEmulator()
        let loader: ScenarioLoading = { yaml, _ in
            guard yaml.contains("name: uploaded") else { throw EmulatorError.adminInput("line 1: bad scenario") }
            let tenant = Tenant(region: .eu, organizationID: "o", organizationName: "Uploaded",
                                keys: [APIKey(id: "org", secret: "12121212-1212-4212-8212-121212121212", kind: .organization)])
            return LoadedWorld(name: "uploaded", tenants: [tenant], faults: [], timeline: [], seed: 1)
        }
        try await withServer(emulator, loadScenario: loader) { server in
            let loaded = try await post(server.port, "/_admin/scenario", "name: uploaded\n")
            #expect(loaded.status == 200)
            #expect(loaded.body.contains(#""loaded":"uploaded""#))
            let keys = try await get(server.port, "/_admin/keys")
            #expect(keys.body.contains(#""region":"eu""#))
            #expect(try await validate(server.port) == 401, "the old tenant is gone")
            let bad = try await post(server.port, "/_admin/scenario", "name: other\n")
            #expect(bad.status == 400)
            #expect(bad.body.contains("line 1: bad scenario"))
        }
    }

    @Test func unknownAdminRoutesSaySo() async throws {
        let (emulator, _) = virtualEmulator()
        try await withServer(emulator) { server in
            let reply = try await get(server.port, "/_admin/nothing")
            #expect(reply.status == 404)
            #expect(reply.body.contains("no admin route GET /_admin/nothing"))
        }
    }
}

@Suite struct HostileInputTests {
    @Test func hugeHeadersGetA4xxAndTheServerLivesOn() async throws {
        let emulator = LoopbackServerTests().emulator()
        try await withServer(emulator) { server in
            let huge = String(repeating: "a", count: 200_000)
            let reply = try await exchange(port: server.port, "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(huge)\r\nConnection: close\r\n\r\n")
            #expect(reply.status == 400)
            let ok = try await exchange(port: server.port, "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(LoopbackServerTests.key)\r\nConnection: close\r\n\r\n")
            #expect(ok.status == 200)
        }
    }

    @Test func aResetFaultClosesTheConnectionWithoutAnAnswer() async throws {
        let emulator = LoopbackServerTests().emulator()
        emulator.addFault(FaultRule(effect: .reset, count: 1))
        try await withServer(emulator) { server in
            await #expect(throws: CoreError.self) {
                _ = try await exchange(port: server.port, "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            }
            let ok = try await exchange(port: server.port, "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(LoopbackServerTests.key)\r\nConnection: close\r\n\r\n")
            #expect(ok.status == 200)
        }
    }

    @Test func aBodyOverTheCapGets413() async throws {
        let emulator = LoopbackServerTests().emulator()
        try await withServer(emulator) { server in
            let body = String(repeating: "x", count: EmulatorServer.maxBodyBytes + 1)
            let reply = try await exchange(port: server.port, "POST /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(reply.status == 413)
            #expect(reply.body.contains("request body larger than 8388608 bytes"))
        }
    }

    @Test func aGarbledRequestLineGets400() async throws {
        let emulator = LoopbackServerTests().emulator()
        try await withServer(emulator) { server in
            let reply = try await exchange(port: server.port, "NOT HTTP AT ALL\r\n\r\n")
            #expect(reply.status == 400)
            let ok = try await exchange(port: server.port, "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(LoopbackServerTests.key)\r\nConnection: close\r\n\r\n")
            #expect(ok.status == 200)
        }
    }
}

/// No web page can drive the admin API: a foreign Host (DNS rebinding), an Origin or a
/// cross-site fetch, a state change a form could send are each refused before anything changes;
/// secrets only to the token's holder.
@Suite struct AdminBrowserSafetyTests {
    static let change = #"{"revoke_key":"main"}"#

    func request(_ port: Int, _ method: String, _ path: String, headers: [String] = [], body: String = "") async throws -> RawReply {
        let fields = headers.map { $0 + "\r\n" }.joined()
        return try await exchange(port: port, "\(method) \(path) HTTP/1.1\r\n\(fields)Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
    }

    func stillValid(_ port: Int) async throws -> Bool {
        try await exchange(port: port, "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(AdminAPITests.key)\r\nConnection: close\r\n\r\n").status == 200
    }

    @Test func aWebPageIsRefusedAndChangesNothing() async throws {
        let (emulator, _) = AdminAPITests().virtualEmulator()
        try await withServer(emulator) { server in
            let port = server.port
            let json = "Content-Type: application/json"
            let refusals: [(headers: [String], status: Int, says: String)] = [
                (["Host: evil.example", json], 403, "Host 'evil.example' is not this machine"),
                (["Host: evil.example:\(port)", json], 403, "DNS rebinding"),
                (["Host: 127.0.0.1", json, "Origin: https://evil.example"], 403, "refused a request from a web page (Origin: https://evil.example)"),
                (["Host: 127.0.0.1", json, "Sec-Fetch-Site: cross-site"], 403, "Sec-Fetch-Site: cross-site"),
                (["Host: 127.0.0.1", "Content-Type: text/plain"], 415, "needs Content-Type: application/json, not text/plain"),
                (["Host: 127.0.0.1", "Content-Type: application/x-www-form-urlencoded"], 415, "a web form cannot send it"),
                (["Host: 127.0.0.1"], 415, "needs Content-Type: application/json"),
            ]
            for refusal in refusals {
                let reply = try await request(port, "POST", "/_admin/state", headers: refusal.headers, body: Self.change)
                #expect(reply.status == refusal.status, "\(refusal.headers): \(reply.body)")
                #expect(reply.body.contains(refusal.says), "\(reply.body)")
                #expect(try await stillValid(port), "\(refusal.headers) changed the emulator")
            }
            // Reading through a rebinding name is refused too.
            #expect(try await request(port, "GET", "/_admin/keys", headers: ["Host: rebind.example"]).status == 403)
            // The machine's own names, with a port, and IPv6 loopback are accepted.
            for host in ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)"] {
                #expect(try await request(port, "GET", "/_admin/health", headers: ["Host: \(host)"]).status == 200, "\(host)")
            }
            let applied = try await request(port, "POST", "/_admin/state", headers: ["Host: 127.0.0.1", json], body: Self.change)
            #expect(applied.status == 200)
            #expect(try await stillValid(port) == false)
        }
    }

    @Test func secretsOnlyWithTheToken() async throws {
        let (emulator, _) = AdminAPITests().virtualEmulator()
        try await withServer(emulator) { server in
            let hidden = try await request(server.port, "GET", "/_admin/keys", headers: ["Host: 127.0.0.1"])
            #expect(hidden.status == 200)
            #expect(!hidden.body.contains(AdminAPITests.key))
            #expect(hidden.body.contains(#""secret":null"#) && hidden.body.contains("X-Admin-Token"))
            let shown = try await request(server.port, "GET", "/_admin/keys", headers: ["Host: 127.0.0.1", "X-Admin-Token: \(server.adminToken)"])
            #expect(shown.body.contains(AdminAPITests.key))
            let wrong = try await request(server.port, "GET", "/_admin/keys", headers: ["Host: 127.0.0.1", "X-Admin-Token: nope"])
            #expect(!wrong.body.contains(AdminAPITests.key))
        }
    }

    @Test func anAllowedOriginMayCall() async throws {
        let (emulator, _) = AdminAPITests().virtualEmulator()
        let server = try await EmulatorServer.start(emulator: emulator, threads: 1, adminOrigins: ["http://localhost:3000"])
        let allowed = try await request(server.port, "GET", "/_admin/health", headers: ["Host: 127.0.0.1", "Origin: http://localhost:3000"])
        #expect(allowed.status == 200)
        let other = try await request(server.port, "GET", "/_admin/health", headers: ["Host: 127.0.0.1", "Origin: http://localhost:3001"])
        #expect(other.status == 403)
        try await server.shutdown()
    }
}
