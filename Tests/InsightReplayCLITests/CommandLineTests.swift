import ArgumentParser
import Foundation
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
                #expect(message.contains("--port must be 0…65535 (0 picks a free port), not \(arguments.last!)"), "\(message)")
                #expect(message.contains("Usage: insight-replay \(arguments[0])"), "\(message)")
                #expect(InsightReplay.exitCode(for: error).rawValue == 64)
            }
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
        // Nothing beside them: the working directory's Recordings, as before.
        #expect(RunRecordings.folders(besideScenarioFiles: [root + "/project/Scenarios/nested/b.yaml"]) == ["Recordings"])
    }
}
