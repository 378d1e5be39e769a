import Foundation
@testable import InsightDriver
@testable import InsightScenario
import InsightHardening
import InsightServer
import Testing

/// Every command that takes files, given each path form a person types, as processes of the
/// built binary: it works or exits 2 naming what is wrong; never a signal, never a hang.
@Suite struct PathFormsTests {
    /// The `insight-replay` built beside this test bundle (`swift test` builds it).
    static var binary: String? {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("insight-replay").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    @Test func everyPathFormWorksOrIsRefusedClearly() async throws {
        let binary = try #require(Self.binary, "the insight-replay binary is built beside the tests")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("path-forms-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (folder, cases) = try PathForms.prepare(repository: repositoryRoot, scratch: scratch)
        #expect(folder.contains(" ") && folder.contains("ü"))
        let outcome = await PathForms.run(cases, invoke: HostileEntryPoints.process(binary: binary, timeout: 120, directory: folder))
        #expect(outcome.tried.count == cases.count)
        #expect(outcome.problems.isEmpty, "\(outcome.problems.joined(separator: "\n"))")
        // The recordings beside the catalogue are found from the scenario's own folder.
        #expect(cases.contains { $0.arguments.contains("../platform/replay.yaml") && $0.allowed == [0] })
    }

    /// A symlink beside its target is one scenario, not a duplicate name; a symlinked folder is
    /// read through.
    @Test func symlinksAreReadOnceAndThrough() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("links-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch + "/real", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.copyItem(atPath: catalogueFile("happy-path-us2-sync"), toPath: scratch + "/real/a.yaml")
        try FileManager.default.createSymbolicLink(atPath: scratch + "/real/b.yaml", withDestinationPath: "a.yaml")
        try FileManager.default.createSymbolicLink(atPath: scratch + "/linked", withDestinationPath: scratch + "/real")
        #expect(try ScenarioLoader.load(paths: [scratch + "/real"]).count == 1)
        #expect(try ScenarioLoader.load(paths: [scratch + "/linked"]).count == 1)
        #expect(try ScenarioLoader.load(paths: [scratch + "/real", scratch + "/real/a.yaml"]).count == 1)
        #expect(throws: ScenarioError.self) { try ScenarioLoader.loadFile(scratch + "/real") }
    }
}

/// `import` as a person runs it: a file of another kind is named as such, and a recording of
/// the same name is not replaced without `--replace`.
@Suite struct ImportTests {
    @Test func importNamesTheKindAndReplacesOnlyWhenAsked() async throws {
        let binary = try #require(PathFormsTests.binary, "the insight-replay binary is built beside the tests")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let run = HostileEntryPoints.process(binary: binary, timeout: 120, directory: scratch)
        try Data(#"{"a": 1}"#.utf8).write(to: URL(fileURLWithPath: scratch + "/junk.json"))
        let junk = await run(["import", "junk.json", "--store", "s.sqlite"])
        #expect(junk.code == 2 && junk.stderr.hasPrefix("junk.json: neither a recording"), "\(junk.stderr)")
        let recording = repositoryRoot + "/Recordings/rate-limit-burst-recovers.json"
        #expect(await run(["import", recording, "--store", "s.sqlite"]).code == 0)
        let again = await run(["import", recording, "--store", "s.sqlite"])
        #expect(again.code == 2 && again.stderr.contains("holds a recording 'rate-limit-burst-recovers' already (8 exchanges); --replace replaces it"), "\(again.stderr)")
        #expect(await run(["import", recording, "--store", "s.sqlite", "--replace"]).code == 0)
    }
}

/// `serve --scenario`: the start-up hints name the tenant's own region and one of its keys, and
/// answer 200 as copied; on the virtual clock time starts at the scenario's `start`.
@Suite struct ServeScenarioTests {
    @Test func hintsAnswerAsCopiedAndVirtualTimeStartsAtTheScenariosStart() async throws {
        let binary = try #require(PathFormsTests.binary, "the insight-replay binary is built beside the tests")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--scenario", catalogueFile("region-ca-validates-and-syncs"), "--port", "0", "--clock", "virtual",
                             "--store", folder + "/store.sqlite"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !text.contains("these keys exist only") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        #expect(text.contains("virtual time from its start 2026-01-01T00:00:00Z"), "\(text)")
        let hint = try #require(text.split(separator: "\n").first { $0.contains("try: curl") }.map(String.init), "\(text)")
        // try: curl -H 'X-Api-Key: KEY' http://127.0.0.1:PORT/ca/validate   (key main)
        let key = try #require(hint.range(of: "X-Api-Key: ").map { String(hint[$0.upperBound...].prefix { $0 != "'" }) })
        let url = try #require(hint.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
        #expect(url.hasSuffix("/ca/validate"))
        let port = try #require(Int(url.split(separator: ":").last?.split(separator: "/").first ?? ""))
        let reply = HostileHTTP.exchange(Array("GET /ca/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: \(key)\r\nConnection: close\r\n\r\n".utf8), port: port, timeout: 10)
        #expect(reply?.status == 200)
        let health = HostileHTTP.exchange(Array("GET /_admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), port: port, timeout: 10)
        #expect(health?.body.contains(#""now":"2026-01-01T00:00:00"#) == true, "\(health?.body ?? "")")
    }
}

/// The smaller things a person reads: nothing cut, counted in words that agree, an empty shard
/// said, a folder's suggested report name with its extension.
@Suite struct SmallWordsTests {
    @Test func listShardAndCountsSayAllOfIt() async throws {
        let binary = try #require(PathFormsTests.binary, "the insight-replay binary is built beside the tests")
        func run(_ arguments: [String]) async -> CommandProcess.Outcome {
            await CommandProcess(arguments: [binary] + arguments, environment: ProcessInfo.processInfo.environment,
                                 directory: repositoryRoot, timeout: 120).run()
        }
        let list = await run(["list", "Scenarios/seed-003/notify-inactive-workflow.yaml"])
        #expect(list.exitCode == 0 && list.stdout.contains("incorrect_integration_parameters test_notification"), "\(list.stdout)")
        let empty = await run(["run", "--shard", "200/200", "--no-store"])
        #expect(empty.exitCode == 0 && empty.stdout.contains("shard 200/200 holds none of the selected scenarios"), "\(empty.stdout)")
        let one = await run(["run", "Scenarios/seed-000/happy-path-us2-sync.yaml", "--no-store"])
        #expect(one.stdout.contains("1 passed, 0 failed (1 scenario in "), "\(one.stdout)")
        #expect(ConsoleReport.summary([], wallSeconds: 0).hasSuffix("(0 scenarios in 0.00 s wall time)"))
        #expect(ReportPath.problem(NSTemporaryDirectory(), option: "--har")?.hasSuffix("/report.har") == true)
        #expect(loaderError(try String(contentsOfFile: catalogueFile("happy-path-us2-sync"), encoding: .utf8)
            .replacingOccurrences(of: "token: { key: main }", with: "token: main")).hasSuffix("client.token: a token is a mapping: { key: main } (a tenant key by id), { literal: \"…\" } or { unknown: true }"))
    }
}
