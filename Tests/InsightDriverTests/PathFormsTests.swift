import Foundation
@testable import InsightDriver
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
