import Foundation
import InsightClient
import InsightCore
import InsightEmulator
@testable import InsightServer
import SwiftASN1
import Testing
import X509

/// What a server exposes: the admin API off loopback, and what its CA may vouch for.
@Suite struct ExposureTests {
    @Test func offLoopbackTheAdminAPINeedsTheToken() async throws {
        let tenants = DemoWorld.tenants(now: Date())
        // 0.0.0.0 binds every address, loopback included: the test still talks to 127.0.0.1 only.
        let server = try await EmulatorServer.start(emulator: Emulator(tenants: tenants, clock: SystemClock()), host: "0.0.0.0", threads: 1)
        let token = server.adminToken
        #expect(token.count == 64)
        #expect(server.adminTokenRequired)
        let transport = NetworkTransport(timeout: 5)
        func get(_ headers: [String: String]) async throws -> Int {
            var fields = InsightCore.HTTPHeaders()
            for (name, value) in headers { fields.add(name, value) }
            let request = HTTPRequest(method: "GET", scheme: "http", host: "127.0.0.1", port: server.port, path: "/_admin/keys", headers: fields)
            return try await transport.send(request).status
        }
        #expect(try await get([:]) == 401)
        #expect(try await get(["X-Admin-Token": "wrong"]) == 401)
        #expect(try await get(["X-Admin-Token": token]) == 200)
        #expect(try await get(["Authorization": "Bearer \(token)"]) == 200)
        try await server.shutdown()
        let local = try await EmulatorServer.start(emulator: Emulator(tenants: tenants, clock: SystemClock()), threads: 1)
        #expect(!local.adminTokenRequired)
        try await local.shutdown()
    }

    @Test func theCAIsConstrainedToTheRapid7HostsAndIssuesForNothingElse() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try CertificateAuthority.loadOrCreate(directory: directory)
        let constraints = try #require(try authority.certificate.extensions.nameConstraints)
        #expect(Array(constraints.permittedDNSDomains) == ["insight.rapid7.com", "localhost"])
        #expect(authority.certificate.extensions.first { $0.oid == .X509ExtensionID.nameConstraints }?.critical == true)
        #expect(throws: ServerError.self) { try authority.issue(for: "example.com") }
        #expect(throws: ServerError.self) { try authority.issue(for: "evil-insight.rapid7.com.example") }
        _ = try authority.issue(for: "us2.api.insight.rapid7.com")
        // The private key is the owner's alone.
        let mode = try FileManager.default.attributesOfItem(atPath: authority.keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
