import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import InsightRecordings

struct ReproduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Turn a customer's capture (a .har, a recording's .json, or a recording in the store) into a scenario that fails the same way.",
        discussion: """
            Reads the capture (redacted on the way in; keys become placeholders), writes a scenario: \
            the tenant (region from the hosts), the faults and timeline the capture shows (a 401 after \
            200s is a revocation, 429s a quota, 5xx faults), the client's settings, and the diagnosis \
            the capture implies. Then runs it and says whether the emulator's client came to the same \
            diagnosis. What the capture shows and what the scenario assumes are printed apart; when \
            several worlds fit (a refused key unknown everywhere, or valid in a region the capture \
            never asked), it says so and --key-region chooses. Exit code 0 when reproduced, 1 when \
            not, 2 on bad input.
            """)

    @Argument(help: "A .har file, a recording's .json file, or the name of a recording in --store.")
    var capture: String

    @Option(name: .long, help: "The scenario's name (default: reproduce-<capture's name>).")
    var name: String?

    @Option(name: .shortAndLong, help: "Where to write the scenario (default: <name>.yaml here; - for standard output).")
    var output: String?

    @Flag(name: .long, help: "Replace --output if it exists.")
    var force = false

    @Option(name: .long, help: "Where a key the capture shows refused, and never tried in another region, is valid: a region code (us, us2, us3, eu, ca, au, ap). Default: unknown everywhere.")
    var keyRegion: String?

    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        if let keyRegion, Region(name: keyRegion) == nil {
            throw ValidationError("--key-region '\(keyRegion)' is not a region; use one of \(Region.seedRegions.map(\.code).joined(separator: ", "))")
        }
        if let name, name.range(of: "^[a-z0-9][a-z0-9-]*$", options: .regularExpression) == nil {
            throw ValidationError("--name '\(name)' must be lowercase letters, digits and dashes")
        }
    }

    func run() async throws {
        let base = ((capture as NSString).lastPathComponent as NSString).deletingPathExtension
        let scenarioName = name ?? "reproduce-" + base.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce(into: "") { $0.append($1) }
        let recording: Recording
        do {
            if capture.lowercased().hasSuffix(".har") {
                guard let data = FileManager.default.contents(atPath: capture) else {
                    throw RecordingError.file(capture, "cannot read the file", remedy: RecordingError.checkPath)
                }
                let read = try HAR.read(data, name: base, file: capture, now: Date())
                for line in read.skipped { printError("warning: \(capture): \(line)") }
                recording = read.recording
            } else if capture.lowercased().hasSuffix(".json") {
                var redactor = Redactor()
                recording = try redactor.redact(try RecordingFile.load(capture))
            } else if let stored = try storeOption.open().recording(named: capture) {
                recording = stored
            } else {
                throw RecordingError.file(capture, "no such .har or .json file, and no recording of that name in \(storeOption.store)", remedy: "give a capture's path, or a recording's name: `insight-replay recordings` lists them")
            }
        } catch {
            throw refuse(error)
        }
        let made: Reproduce.Made
        do {
            made = try Reproduce.scenario(from: recording, name: scenarioName, source: capture,
                                          keyWorld: keyRegion.flatMap(Region.init(name:)).map { .region($0) })
        } catch {
            throw refuse(error)
        }
        let path = output ?? "\(scenarioName).yaml"
        let (reproduced, result) = try await Reproduce.verify(made, file: path == "-" ? "\(scenarioName).yaml" : path)
        if path == "-" {
            print(made.yaml, terminator: "")
        } else {
            if FileManager.default.fileExists(atPath: path), !force {
                printError("\(path) exists; --force replaces it, or give --output")
                throw ExitCode(2)
            }
            do { try made.yaml.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                printError("cannot write \(path): \(error.localizedDescription)")
                throw ExitCode(2)
            }
            print("wrote \(path) (\(made.name))")
        }
        let report = path == "-" ? printError : { print($0) }
        for finding in made.findings { report("  the capture shows: \(finding)") }
        for assumption in made.assumptions { report("  the scenario assumes: \(assumption)") }
        for alternative in made.alternatives { report("  also fits the capture: \(alternative)") }
        let expected = made.expected?.rawValue ?? "none"
        let got = result.diagnosis?.category.rawValue ?? "none"
        if reproduced {
            report("reproduced: the emulator's client diagnoses \(got), as the capture implies; `insight-replay run \(path == "-" ? "FILE" : path)` replays it")
        } else {
            report("NOT reproduced: the capture implies \(expected), the emulator's client said \(got)")
            for failure in result.failures { report("  - \(failure)") }
            throw ExitCode(1)
        }
    }
}
