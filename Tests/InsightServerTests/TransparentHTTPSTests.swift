import Foundation
import InsightCore
import InsightEmulator
@testable import InsightServer
import NIOHTTP1
import Testing

func temporaryFolder() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("insight-replay-test-\(UUID().uuidString)").path
}

func hasCurl() -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/curl") }
}

/// Runs curl with no proxy or CA from this process's environment unless given; bounded by --max-time.
func curl(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["curl", "-sS", "--max-time", "10"] + arguments
                var env = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") && !$0.key.hasSuffix("CA_BUNDLE") && $0.key != "SSL_CERT_FILE" }
                env.merge(environment) { _, new in new }
                process.environment = env
                let out = Pipe(), err = Pipe()
                process.standardOutput = out
                process.standardError = err
                try process.run()
                let stdout = out.fileHandleForReading.readDataToEndOfFile()
                let stderr = err.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
            })
        }.start()
    }
}

@Suite struct CertificateAuthorityTests {
    @Test func theCAIsMadeOnceWithItsKeyPrivate() throws {
        let folder = temporaryFolder()
        let first = try CertificateAuthority.loadOrCreate(directory: folder)
        let attributes = try FileManager.default.attributesOfItem(atPath: first.keyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int) == 0o700)
        #expect(first.subject.contains("InsightReplay local CA"))
        let again = try CertificateAuthority.loadOrCreate(directory: folder)
        #expect(again.certificate == first.certificate)
        let bundle = try String(contentsOfFile: first.bundlePath, encoding: .utf8)
        #expect(bundle.hasSuffix(try String(contentsOfFile: first.certificatePath, encoding: .utf8) + "\n"))
        let reset = try CertificateAuthority.reset(directory: folder)
        #expect(reset.certificate != first.certificate)
    }

    @Test func aDamagedCAIsNamedAndLeftAlone() throws {
        let folder = temporaryFolder()
        let authority = try CertificateAuthority.loadOrCreate(directory: folder)
        try "not a certificate".write(toFile: authority.certificatePath, atomically: true, encoding: .utf8)
        #expect {
            _ = try CertificateAuthority.loadOrCreate(directory: folder)
        } throws: { error in
            let error = error as? ServerError
            return error?.problem.hasPrefix("\(authority.certificatePath) is not a PEM certificate") == true
                && error?.remedy == "`insight-replay ca --reset` makes a new CA (clients must then trust the new ca.pem)"
        }
        #expect(try String(contentsOfFile: authority.certificatePath, encoding: .utf8) == "not a certificate")
        try FileManager.default.removeItem(atPath: authority.certificatePath)
        #expect {
            _ = try CertificateAuthority.loadOrCreate(directory: folder)
        } throws: { error in
            "\(error)".hasPrefix("\(authority.certificatePath) is missing while its pair is there")
        }
    }

    @Test func leavesNameTheirHostAndChainToTheCA() throws {
        let authority = try CertificateAuthority.loadOrCreate(directory: temporaryFolder())
        let leaf = try authority.issue(for: "us3.api.insight.rapid7.com")
        #expect(leaf.issuer == authority.certificate.subject)
        #expect("\(leaf.extensions)".contains("us3.api.insight.rapid7.com"))
        // Valid from the CA's start (2000), so a client on a scenario's virtual clock finds it valid
        // at any start; the clients' 398-day lifetime rule applies to leaves issued from
        // 2020-09-01 on (judged by their start), and this one predates it.
        #expect(leaf.notValidBefore < Date(timeIntervalSince1970: 1_598_918_400))
        #expect(leaf.notValidBefore <= Date(timeIntervalSince1970: 1_767_225_600))
        #expect(leaf.notValidAfter > Date().addingTimeInterval(396 * 86_400))
        #expect(try authority.leaf(for: "US3.api.insight.rapid7.com") == (try authority.leaf(for: "us3.api.insight.rapid7.com")))
    }
}

@Suite struct ProxyTests {
    let emulator = Emulator(tenants: DemoWorld.tenants(now: VirtualClock.defaultStart), clock: VirtualClock(), seed: DemoWorld.seed)
    var key: String { emulator.tenant(.us2)!.keys.first { $0.kind == .user }!.secret }

    @Test func aConnectToAnotherHostIsRefusedNamingTheAllowedHosts() async throws {
        try await withServer(emulator, authority: try CertificateAuthority.loadOrCreate(directory: temporaryFolder())) { server in
            let reply = try await exchange(port: server.port, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
            #expect(reply.status == 403)
            #expect(reply.body.contains("example.com:443 is not one of them"))
            #expect(reply.body.contains("REGION.api.insight.rapid7.com"))
            let absolute = try await exchange(port: server.port, "GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
            #expect(absolute.status == 403)
        }
        #expect(emulator.journal.ordered.isEmpty)
    }

    /// Only port 443 is tunnelled; inside a tunnel a Host naming another host is misdirected.
    @Test func connectIsStrictAboutPortsAndHosts() async throws {
        try await withServer(emulator, authority: try CertificateAuthority.loadOrCreate(directory: temporaryFolder())) { server in
            for port in ["22", "80", "8443"] {
                let reply = try await exchange(port: server.port, "CONNECT us2.api.insight.rapid7.com:\(port) HTTP/1.1\r\nHost: us2.api.insight.rapid7.com:\(port)\r\n\r\n")
                #expect(reply.status == 403, "port \(port)")
                #expect(reply.body.contains("tunnelled on port 443 only"))
            }
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/validate")
        head.headers.add(name: "Host", value: "eu.api.insight.rapid7.com")
        let tunnel = Arrival(tunnelHost: "us2.api.insight.rapid7.com", secure: true)
        guard case .answer(let misdirected) = HTTPHandler.route(head, body: Data(), arrival: tunnel) else {
            Issue.record("answered as the tunnel's host")
            return
        }
        #expect(misdirected.status == 421)
        head.headers.replaceOrAdd(name: "Host", value: "US2.api.insight.rapid7.com:443")
        guard case .request(let request, _, _) = HTTPHandler.route(head, body: Data(), arrival: tunnel) else {
            Issue.record("the tunnel's own host, in another case and with its port, was refused")
            return
        }
        #expect(request.host == "us2.api.insight.rapid7.com")
    }

    @Test func absoluteFormRequestsGoToTheirRapid7Host() async throws {
        try await withServer(emulator) { server in
            let ok = try await exchange(port: server.port, "GET http://us2.api.insight.rapid7.com/validate HTTP/1.1\r\nHost: us2.api.insight.rapid7.com\r\nX-Api-Key: \(key)\r\nConnection: close\r\n\r\n")
            #expect(ok.status == 200)
            let console = try await exchange(port: server.port, "GET http://us2.idr.insight.rapid7.com/validate HTTP/1.1\r\nHost: us2.idr.insight.rapid7.com\r\nConnection: close\r\n\r\n")
            #expect(console.status == 404)
            #expect(console.body.contains("call the API at https://us2.api.insight.rapid7.com"))
        }
    }

    /// A Self link followed by a path-prefix client leads back into the emulator.
    @Test func linksInAnswersToPathPrefixRequestsStayInside() async throws {
        try await withServer(emulator) { server in
            let logs = try await exchange(port: server.port, "GET /us2.rest.logs.insight.rapid7.com/management/logs HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nX-Api-Key: \(key)\r\nConnection: close\r\n\r\n")
            #expect(logs.status == 200)
            #expect(logs.body.contains("\"href\":\"http://127.0.0.1:\(server.port)/us2.rest.logs.insight.rapid7.com/management/logs/"))
            #expect(!logs.body.contains("https://us2.rest.logs"))
            let byHost = try await exchange(port: server.port, "GET /management/logs HTTP/1.1\r\nHost: us2.rest.logs.insight.rapid7.com\r\nX-Api-Key: \(key)\r\nConnection: close\r\n\r\n")
            #expect(byHost.body.contains("\"href\":\"https://us2.rest.logs.insight.rapid7.com/management/logs/"))
        }
        let fixed = try await EmulatorServer.start(emulator: emulator, threads: 1, linkBase: "http://emulator.test:9000/")
        let reply = try await exchange(port: fixed.port, "GET /us2.rest.logs.insight.rapid7.com/management/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(key)\r\nConnection: close\r\n\r\n")
        try await fixed.shutdown()
        #expect(reply.body.contains("\"href\":\"http://emulator.test:9000/us2.rest.logs.insight.rapid7.com/management/logs/"))
    }

    @Test func theRewriterChangesOnlyEmulatedHosts() {
        let rewriter = LinkRewriter(base: "http://127.0.0.1:8080")
        let body = Data(#"{"a":"https://us.api.insight.rapid7.com/x","b":"https://example.com/y","c":"https://EU.rest.logs.insight.rapid7.com"}"#.utf8)
        #expect(String(decoding: rewriter.rewrite(bytes: body)!, as: UTF8.self)
            == #"{"a":"http://127.0.0.1:8080/us.api.insight.rapid7.com/x","b":"https://example.com/y","c":"http://127.0.0.1:8080/eu.rest.logs.insight.rapid7.com"}"#)
        #expect(rewriter.rewrite(bytes: Data("no links".utf8)) == nil)
    }

    /// curl, certificate checks on, through the proxy to every regional host: the key works on
    /// its own region only; a non-Rapid7 host is refused at CONNECT.
    @Test(.enabled(if: hasCurl(), "needs curl"))
    func curlReachesEveryRegionThroughTheProxyWithVerification() async throws {
        let authority = try CertificateAuthority.loadOrCreate(directory: temporaryFolder())
        try await withServer(emulator, authority: authority) { server in
            let proxy = ["HTTPS_PROXY": server.baseURL, "CURL_CA_BUNDLE": authority.certificatePath]
            for region in Region.allCases {
                for host in region.hosts {
                    let path = host.contains(".rest.logs.") ? "/management/logs" : "/validate"
                    let reply = try await curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Api-Key: \(key)", "https://\(host)\(path)"], environment: proxy)
                    #expect(reply.status == 0, "\(host): \(reply.stderr)")
                    #expect(reply.stdout == (region == .us2 ? "200" : "401"), "\(host)")
                }
            }
            let refused = try await curl(["https://example.com/"], environment: proxy)
            #expect(refused.status == 56)
            #expect(refused.stderr.contains("403"))
            // Without the CA, verification fails: the checks really are on.
            let untrusted = try await curl(["https://us2.api.insight.rapid7.com/validate"], environment: ["HTTPS_PROXY": server.baseURL, "CURL_CA_BUNDLE": "/dev/null"])
            #expect(untrusted.status != 0)
            // The direct TLS port: by SNI with the real name, or by path prefix at 127.0.0.1.
            let port = try #require(server.tlsPort)
            let bySNI = try await curl(["--cacert", authority.certificatePath, "--resolve", "us2.api.insight.rapid7.com:\(port):127.0.0.1",
                                        "-H", "X-Api-Key: \(key)", "https://us2.api.insight.rapid7.com:\(port)/validate"])
            #expect(bySNI.stdout == #"{"message":"Authorized"}"#, "\(bySNI.stderr)")
            let byPrefix = try await curl(["--cacert", authority.certificatePath, "-H", "X-Api-Key: \(key)", "https://127.0.0.1:\(port)/us2.rest.logs.insight.rapid7.com/management/logs"])
            #expect(byPrefix.stdout.contains("\"href\":\"https://127.0.0.1:\(port)/us2.rest.logs.insight.rapid7.com/"), "\(byPrefix.stderr)")
        }
    }
}
