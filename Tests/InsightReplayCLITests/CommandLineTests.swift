import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import InsightRecordings
@testable import insight_replay
import Testing

@Suite struct CommandLineTests {
    @Test func aMistypedSubcommandIsNamed() {
        #expect(InsightReplay.mistypedSubcommand(["rnu"])
            == "insight-replay: 'rnu' is not a command or a scenario file; did you mean 'run'? (`insight-replay --help` lists the commands)")
        #expect(InsightReplay.mistypedSubcommand(["hsitory", "--limit", "3"])?.contains("did you mean 'history'?") == true)
        #expect(InsightReplay.mistypedSubcommand(["diagnoze"])?.contains("did you mean 'diagnose'?") == true)
        // Real commands, options, existing paths and names far from any command are left to the parser.
        #expect(InsightReplay.mistypedSubcommand(["run"]) == nil)
        #expect(InsightReplay.mistypedSubcommand(["--junit", "x"]) == nil)
        #expect(InsightReplay.mistypedSubcommand([NSTemporaryDirectory()]) == nil)
        #expect(InsightReplay.mistypedSubcommand(["Scenariosxyz/foo.yaml"]) == nil)
    }

    @Test func editDistance() {
        #expect(InsightReplay.editDistance("rnu", "run") == 2)
        #expect(InsightReplay.editDistance("", "run") == 3)
        #expect(InsightReplay.editDistance("serve", "serve") == 0)
        #expect(InsightReplay.editDistance("lst", "list") == 1)
    }

    /// `--port -1` is a bad port (not "Missing value"), and the usage shown is serve's own.
    @Test func aBadPortIsNamedWithTheSubcommandsUsage() {
        for arguments in [["serve", "--port", "-1"], ["serve", "--port", "70000"], ["record", "--upstream", "rapid7", "--name", "x", "--port", "-1"]] {
            do {
                _ = try InsightReplay.parseAsRoot(arguments)
                Issue.record("\(arguments) parsed")
            } catch {
                let message = InsightReplay.fullMessage(for: error)
                #expect(message.contains("--port must be 0…65535 (0 picks a free port; e.g. --port 808"), "\(message)")
                #expect(message.contains("), not \(arguments.last!)"), "\(message)")
                #expect(message.contains("Usage: insight-replay \(arguments[0])"), "\(message)")
                #expect(InsightReplay.exitCode(for: error).rawValue == 64)
            }
        }
    }

    /// Every numeric option of every command is range-checked before anything runs, the message
    /// giving the range and an example.
    @Test(arguments: Hostile.badOptions)
    func numericOptionsAreRangeChecked(arguments: [String], message expected: String) {
        do {
            _ = try InsightReplay.parseAsRoot(arguments)
            Issue.record("\(arguments) parsed")
        } catch {
            let message = InsightReplay.fullMessage(for: error)
            #expect(message.contains(expected), "\(arguments): \(message)")
            #expect(InsightReplay.exitCode(for: error).rawValue == 64)
        }
    }

    @Test func twoReportsMayNotShareAFile() {
        let path = NSTemporaryDirectory() + "same-\(UUID().uuidString).out"
        do {
            _ = try InsightReplay.parseAsRoot(["run", "--json", path, "--html", path])
            Issue.record("parsed")
        } catch {
            #expect(InsightReplay.fullMessage(for: error).contains("--json and --html both name \(path): give each report a file of its own"))
        }
    }

    @Test func reportPathsAreCheckedBeforeTheRun() {
        do {
            _ = try InsightReplay.parseAsRoot(["run", "--junit", "/nonexistent-folder/junit.xml"])
            Issue.record("parsed")
        } catch {
            let message = InsightReplay.fullMessage(for: error)
            #expect(message.contains("--junit /nonexistent-folder/junit.xml: the folder /nonexistent-folder does not exist"))
            #expect(message.contains("Usage: insight-replay run"))
        }
        do {
            _ = try InsightReplay.parseAsRoot(["run", "--html", NSTemporaryDirectory()])
            Issue.record("parsed")
        } catch {
            #expect(InsightReplay.fullMessage(for: error).contains("is a folder; give a file name"))
        }
    }

    @Test func aBadShardAndCoverageOfOneShardAreRefusedBeforeTheRun() {
        for (arguments, expected) in [
            (["run", "--shard", "3/2"], "--shard 3/2: expected I/N with 1 ≤ I ≤ N ≤ 1000\nfix: give it like 2/4 (the second of four jobs)"),
            (["run", "--shard", "1/2", "--require-coverage"], "--require-coverage is about the whole catalogue; run it without --shard (one job of the matrix)"),
            (["run", "--jobs", "0"], "--jobs must be 1…256 (e.g. --jobs 4), not 0"),
        ] {
            do {
                _ = try InsightReplay.parseAsRoot(arguments)
                Issue.record("\(arguments) parsed")
            } catch {
                #expect(InsightReplay.fullMessage(for: error).contains(expected), "\(InsightReplay.fullMessage(for: error))")
                #expect(InsightReplay.exitCode(for: error).rawValue == 64)
            }
        }
    }

    @Test func progressLine() {
        #expect(Progress.line(done: 3, total: 39, name: "happy-path-us2-sync", elapsed: 1.25) == "[3/39] happy-path-us2-sync  1.2 s")
    }

    /// `Scenarios/x.yaml` finds `Recordings/` beside its folder, whatever the working directory.
    @Test func recordingsAreFoundBesideTheScenarios() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/project/Scenarios/nested", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/project/Recordings", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(RunRecordings.folders(besideScenarioFiles: [root + "/project/Scenarios/a.yaml"]) == [root + "/project/Recordings"])
        // Two folders down (Scenarios/seed-000/x.yaml), as the catalogue is laid out.
        #expect(RunRecordings.folders(besideScenarioFiles: [root + "/project/Scenarios/nested/b.yaml"]) == [root + "/project/Recordings"])
        // Further down than that, nothing is guessed: the working directory's Recordings.
        try FileManager.default.createDirectory(atPath: root + "/project/Scenarios/nested/deeper/still", withIntermediateDirectories: true)
        #expect(RunRecordings.folders(besideScenarioFiles: [root + "/project/Scenarios/nested/deeper/still/c.yaml"]) == ["Recordings"])
        // Relative forms (against the working folder, which tests share, so not changed here).
        let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: depth) + root.dropFirst() + "/project/Scenarios/nested/b.yaml"
        for form in [relative, "./" + relative] {
            #expect(RunRecordings.folders(besideScenarioFiles: [form]) == [root + "/project/Recordings"], "\(form)")
        }
    }
}

/// `run` end to end in process: what it writes for bad files, and where recordings come from.
@Suite struct RunCommandTests {
    static func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// CI shows why nothing ran: the JUnit file holds an <error> per bad scenario file.
    @Test func aBadScenarioFileStillWritesJUnitAndJSON() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "name: [\n".write(toFile: folder + "/bad.yaml", atomically: true, encoding: .utf8)
        var command = try InsightReplay.parseAsRoot(["run", folder + "/bad.yaml", "--no-store", "--junit", folder + "/junit.xml",
                                                     "--json", folder + "/report.json"]) as! AsyncParsableCommand
        await #expect(throws: ExitCode(2)) { try await command.run() }
        let xml = try String(contentsOfFile: folder + "/junit.xml", encoding: .utf8)
        #expect(xml.contains("errors=\"1\""))
        #expect(xml.contains("<error type=\"ScenarioError\" message=\"\(folder)/bad.yaml:2:1: invalid YAML"))
        #expect(xml.contains("hostname=\""))
        let report = try String(contentsOfFile: folder + "/report.json", encoding: .utf8)
        #expect(report.contains("\"errors\" : 1"))
    }

    /// `--no-store` does not write the store, but still reads what `import` put there.
    @Test func noStoreStillReadsImportedRecordings() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = folder + "/store.sqlite"
        let recording = Recording(name: "imported", provenance: Provenance(recordedAt: Date(timeIntervalSince1970: 0), region: "us",
                                                                          source: "test", productVersion: nil), exchanges: [])
        try SQLiteRecordingStore(path: store).saveRecording(recording)
        let recordings = try RunRecordings(store: store, noStore: true, folders: [])
        #expect(try recordings.source("imported")?.name == "imported")
        #expect(recordings.writable is InMemoryRecordingStore)
        // Without a store file, --no-store makes none.
        let none = try RunRecordings(store: folder + "/absent.sqlite", noStore: true, folders: [])
        #expect(try none.source("imported") == nil)
        #expect(!FileManager.default.fileExists(atPath: folder + "/absent.sqlite"))
    }

    @Test func noColorTurnsColourOff() {
        #expect(Terminal(stdoutIsTerminal: true, environment: [:]).colour)
        #expect(!Terminal(stdoutIsTerminal: true, environment: ["NO_COLOR": "1"]).colour)
        #expect(!Terminal(stdoutIsTerminal: false, environment: [:]).colour)
    }
}

@Suite struct UsageErrorTests {
    /// A ValidationError thrown from a subcommand's run() shows that subcommand's usage.
    @Test func aSubcommandsOwnUsage() {
        let text = InsightReplay.usageError(ValidationError("--token-env NOPE: the variable is not set"), command: DiagnoseCommand.self)
        #expect(text.hasPrefix("Error: --token-env NOPE: the variable is not set\nUsage: insight-replay diagnose "))
        #expect(text.hasSuffix("See 'insight-replay help diagnose' for more information."))
    }
}
