import Foundation
import InsightCore
import InsightDriver
import InsightRecordings
@testable import insight_replay
import Testing

/// Every error says what went wrong and what to do, and each module says it with one type.
@Suite struct ErrorTests {
    @Test func theCommandLineSaysTheRemedyOnALineOfItsOwn() {
        let unreadable = RecordingError.file("x.json", "cannot read the file", remedy: RecordingError.checkPath)
        #expect(errorText(unreadable) == "x.json: cannot read the file\nfix: check the path, and that this user can read the file")
        #expect(errorText(unreadable, context: "--har: ").hasPrefix("--har: x.json: cannot read the file\nfix: "))
        // One line, for logs and HTTP answers.
        #expect("\(unreadable)" == "x.json: cannot read the file; check the path, and that this user can read the file")
        // Bad scenario files: each on its line, the remedy once after them.
        let files = ScenarioError.several([
            ScenarioError(file: "a.yaml", line: 2, column: 1, field: "", message: "invalid YAML"),
            ScenarioError(file: "b.yaml", line: 5, column: 3, field: "steps[0]", message: "unknown step"),
        ])
        #expect(errorText(files).split(separator: "\n").map(String.init) == [
            "a.yaml:2:1: invalid YAML", "b.yaml:5:3: steps[0]: unknown step",
            "fix: correct the files above (docs/SCENARIOS.md gives the format): no scenario runs while one is wrong",
        ])
        // An error of another library is said as it is.
        #expect(errorText(CocoaError(.fileNoSuchFile), context: "--out: ").hasPrefix("--out: "))
        #expect(!errorText(CocoaError(.fileNoSuchFile)).contains("\nfix: "))
    }

    @Test func aTransportFailureSaysWhatToCheck() {
        let error = CoreError.transport(.nameResolution, host: "us4.api.insight.rapid7.com")
        #expect(error.transport?.kind == .nameResolution)
        #expect(error.problem == "could not resolve host us4.api.insight.rapid7.com")
        #expect(error.remedy.contains("REGION.api.insight.rapid7.com"))
        #expect(CoreError.malformedForm("x").transport == nil)
    }

    /// One error type per module: a second would be a concern the module's type does not name.
    @Test func eachModuleDeclaresOneErrorType() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let declaration = try Regex(#"(?m)^\s*(?:public |package |internal |private |fileprivate )?(?:final )?(?:struct|enum|class|actor) (\w+)[^{\n]*:[^{\n]*\b(?:Error|InsightError)\b"#)
        var byModule: [String: [String]] = [:]
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources.path)
        for module in modules {
            let folder = sources.appendingPathComponent(module)
            guard let walker = FileManager.default.enumerator(atPath: folder.path) else { continue }
            for case let file as String in walker where file.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for match in text.matches(of: declaration) {
                    byModule[module, default: []].append(String(text[match.output[1].range!]))
                }
            }
        }
        #expect(byModule["InsightCore"] == ["CoreError"])
        #expect(byModule["InsightEmulator"] == ["EmulatorError"])
        #expect(byModule["InsightServer"] == ["ServerError"])
        #expect(byModule["InsightClient"] == ["ClientError"])
        #expect(byModule["InsightRecordings"] == ["RecordingError"])
        #expect(byModule["InsightScenario"] == ["ScenarioError"])
        #expect(byModule["InsightDriver"] == ["DriverError"])
        for (module, types) in byModule.sorted(by: { $0.key < $1.key }) {
            #expect(types.count <= 1, "\(module) declares \(types.joined(separator: ", "))")
        }
    }
}
