import Foundation
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import InsightHardening
import InsightRecordings
import Testing

/// Hostile files: mutants of every bundled scenario, recording and HAR fixture go through the
/// loaders; each is read or refused with an error naming the file (and the line, where the file
/// has lines), none crashes or hangs, and a refused import leaves the store as it was.
@Suite struct HostileFileTests {
    static let folder: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mutants-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    static func files(_ folder: String, suffix: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
            .map { (folder as NSString).appendingPathComponent($0) }
    }

    /// Mutants per bundled file: enough for 1,000 or more of each kind of file.
    static func perFile(_ count: Int) -> Int { max(30, (1_000 + count - 1) / count) }

    @Test func scenarioMutantsAreReadOrRefusedNamingFileAndLine() throws {
        let scenarios = Self.files(repositoryRoot + "/Scenarios", suffix: ".yaml")
        #expect(scenarios.count >= 30)
        var tried = 0, refused = 0, slowest = 0.0
        for original in scenarios {
            let text = try String(contentsOfFile: original, encoding: .utf8)
            let mutants = Mutants(text, seed: 10)
            for index in 0..<Self.perFile(scenarios.count) {
                let (kind, bytes) = mutants.mutant(index)
                let path = Self.folder + "/\(kind.rawValue)-\(index).yaml"
                try bytes.write(to: URL(fileURLWithPath: path))
                let started = Date()
                do {
                    _ = try ScenarioLoader.loadFile(path)
                } catch let error as ScenarioError where error.errors.count == 1 {
                    refused += 1
                    #expect(error.file == path)
                    // Whole-file problems (empty, not UTF-8) have no line; everything else does.
                    if error.line == nil { #expect(error.field.isEmpty, "\(kind) of \(original): \(error)") }
                } catch let several as ScenarioError {
                    refused += 1
                    for error in several.errors {
                        #expect(error.file == path)
                        #expect(error.line != nil, "\(kind) of \(original): \(error)")
                    }
                } catch {
                    Issue.record("\(kind) of \(original) #\(index): not a ScenarioError: \(error)")
                }
                slowest = max(slowest, Date().timeIntervalSince(started))
                tried += 1
            }
        }
        #expect(tried >= 1_000)
        #expect(refused > tried / 2)
        #expect(slowest < 5, "a mutant took \(slowest) s to load")
    }

    @Test func recordingAndHARMutantsAreReadOrRefused() throws {
        let recordings = Self.files(repositoryRoot + "/Recordings", suffix: ".json")
        let hars = Self.files(repositoryRoot + "/Tests/InsightDriverTests/Fixtures/har", suffix: ".har")
        var tried = (recordings: 0, hars: 0)
        for original in recordings + hars {
            let text = try String(contentsOfFile: original, encoding: .utf8)
            let mutants = Mutants(text, seed: 11)
            let isHAR = original.hasSuffix(".har")
            for index in 0..<(isHAR ? Self.perFile(hars.count) : Self.perFile(recordings.count)) {
                let (kind, bytes) = mutants.mutant(index)
                do {
                    if isHAR {
                        _ = try HAR.read(bytes, name: "m", file: "m.har", now: Date(timeIntervalSince1970: 0))
                        tried.hars += 1
                    } else {
                        _ = try RecordingFile.decode(bytes, file: "m.json")
                        tried.recordings += 1
                    }
                } catch is RecordingError {
                    if isHAR { tried.hars += 1 } else { tried.recordings += 1 }
                } catch {
                    Issue.record("\(kind) of \(original) #\(index): \(type(of: error)): \(error)")
                }
            }
        }
        #expect(tried.recordings >= 1_000)
        #expect(tried.hars >= 1_000)
    }

    /// A refused import writes nothing: the same recordings and rows, and an intact database.
    @Test func aRefusedImportLeavesTheStoreAsItWas() throws {
        let store = Self.folder + "/store-\(UUID().uuidString).sqlite"
        let database = try SQLiteRecordingStore(path: store)
        let good = try RecordingFile.load(repositoryRoot + "/Recordings/rate-limit-burst-recovers.json")
        try database.saveRecording(good)
        let before = try database.recordings().map { "\($0.name):\($0.exchanges)" }
        let mutants = Mutants(try String(contentsOfFile: repositoryRoot + "/Recordings/rate-limit-burst-recovers.json", encoding: .utf8), seed: 12)
        var refused = 0
        for index in 0..<200 {
            let bytes = mutants.mutant(index).bytes
            let listed = try database.recordings().map { "\($0.name):\($0.exchanges)" }
            do {
                var recording = try RecordingFile.decode(bytes, file: "m.json")
                var redactor = Redactor()
                recording = try redactor.redact(recording)
                try database.saveRecording(recording)
            } catch {
                refused += 1
                // Refused at any step: the store lists exactly what it did before.
                #expect(try database.recordings().map { "\($0.name):\($0.exchanges)" } == listed)
            }
        }
        #expect(refused > 50)
        #expect(try database.recordings().contains { $0.name == before[0].split(separator: ":")[0].description })
        #expect(try database.integrityCheck() == "ok")
    }
}

/// The entry-point harness (`insight-replay hostile` runs it on the real binary): it must see a
/// crash, a hang, a refusal that does not say where, and a refused import that touched the store.
@Suite struct HostileEntryPointTests {
    static func sample(_ count: Int) throws -> HostileEntryPoints.Sample {
        try HostileEntryPoints.Sample(folder: repositoryRoot + "/Scenarios", suffix: ".yaml", count: count, seed: 3)
    }

    @Test func aRefusalMustNameFileAndPlace() {
        let check = HostileEntryPoints.namesFileAndPlace
        #expect(check("/t/a.yaml:3:7: invalid YAML: …\nno scenario was run", "/t/a.yaml", false))
        #expect(check("/t/a.json: not JSON at line 2, column 4; expected …", "/t/a.json", false))
        #expect(check("/t/a.json: exchanges[2].status: expected a number", "/t/a.json", false))
        #expect(check("/t/a.json: .provenance: missing field", "/t/a.json", false))
        #expect(check("/t/a.yaml: the file is empty; a scenario needs …", "/t/a.yaml", true))
        #expect(!check("/t/a.yaml: something went wrong", "/t/a.yaml", false))
        #expect(!check("invalid YAML at line 3", "/t/a.yaml", false), "the file must be named")
    }

    @Test func theRunHarnessReportsCrashesHangsAndVagueRefusals() async throws {
        let sample = try Self.sample(4)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("entry-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        // Mutant 0 refused properly, 1 crashes (signal 11), 2 hangs, 3 refused without a place.
        let figures = try await HostileEntryPoints.throughRun(sample, scratch: scratch) { arguments in
            let file = arguments[1]
            switch file.hasSuffix("run-0.yaml") ? 0 : file.hasSuffix("run-1.yaml") ? 1 : file.hasSuffix("run-2.yaml") ? 2 : 3 {
            case 0: return .init(code: 2, stderr: "\(file):1:1: invalid YAML")
            case 1: return .init(code: 139, stderr: "Segmentation fault")
            case 2: return .init(code: 143, timedOut: true)
            default: return .init(code: 2, stderr: "\(file): something went wrong")
            }
        }
        #expect(figures.tried == 4)
        #expect(figures.problems.count == 3, "\(figures.problems)")
        #expect(figures.problems.contains { $0.contains("signal") })
        #expect(figures.problems.contains { $0.contains("a hang") })
        #expect(figures.problems.contains { $0.contains("without naming file and line") })
    }

    @Test func theImportHarnessSeesAStoreTouchedByARefusedImport() async throws {
        let sample = try HostileEntryPoints.Sample(folder: repositoryRoot + "/Recordings", suffix: ".json", count: 2, seed: 3)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("entry-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let store = scratch + "/store.sqlite"
        let good = try RecordingFile.load(repositoryRoot + "/Recordings/rate-limit-burst-recovers.json")
        try SQLiteRecordingStore(path: store).saveRecording(good)
        // An import that says it refused the file but wrote a recording anyway.
        let figures = try await HostileEntryPoints.throughImport(sample, suffix: ".json", scratch: scratch, store: store) { arguments in
            var leaked = good
            leaked.name = "half-written-\(arguments[1].hasSuffix("0.json") ? 0 : 1)"
            try? SQLiteRecordingStore(path: store).saveRecording(leaked)
            return .init(code: 2, stderr: "\(arguments[1]): not JSON at line 1, column 1")
        }
        #expect(figures.problems.count == 2)
        #expect(figures.problems.allSatisfy { $0.contains("a refused import changed the store") })
    }
}
