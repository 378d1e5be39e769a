import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import InsightEmulator
import InsightRecordings
import InsightServer
import Logging

struct Hostile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hardening run: hostile HTTP against the embedded server and mutants of the bundled files through the loaders, as figures.",
        discussion: "Loopback only. Exit code 0 when nothing crashed, hung or answered wrongly, 1 otherwise.")

    @Option(name: .long, help: "Hostile HTTP inputs (each on a connection of its own).")
    var http = 10_000

    @Option(name: .long, help: "Mutants of each kind of file (scenarios, recordings, HAR captures).")
    var files = 1_000

    @Option(name: .long, help: "Seed of the inputs and mutants.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (0...1_000_000).contains(http) else { throw ValidationError("--http must be 0…1000000") }
        guard (0...1_000_000).contains(files) else { throw ValidationError("--files must be 0…1000000") }
    }

    func run() async throws {
        var failed = false
        if http > 0 {
            let tenants = DemoWorld.tenants(now: Date())
            guard let key = tenants.first(where: { $0.region == .us2 })?.keys.first(where: { $0.kind == .user })?.secret else { throw ExitCode(2) }
            // The server's notices (each refused CONNECT) would drown the figures.
            var quiet = Logger(label: "insight-replay.hostile")
            quiet.logLevel = .critical
            let server = try await EmulatorServer.start(emulator: Emulator(tenants: tenants, clock: SystemClock()), threads: 2,
                                                        idleTimeout: 0.5, logger: quiet)
            let started = Date()
            let report = HostileHTTP.run(count: http, port: server.port, key: key, seed: seed, timeout: 5, workers: 16) { done in
                if done % 1000 == 0 { printError("  \(done) / \(http) inputs") }
            }
            try await server.shutdown()
            let statuses = report.byStatus.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            print("hostile HTTP: \(report.inputs) inputs in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; answered \(report.answered) (\(statuses)), closed \(report.closed), hangs \(report.hangs.count), refused \(report.refused), health checks failed \(report.unhealthy.count), RSS \(report.rssBeforeKiB / 1024) → \(report.rssAfterKiB / 1024) MB")
            if !report.hangs.isEmpty { print("  hangs: \(report.hangs.prefix(10).joined(separator: ", "))") }
            failed = failed || !report.hangs.isEmpty || !report.unhealthy.isEmpty || report.refused > 0
        }
        if files > 0 {
            for (label, folder, suffix) in [("scenarios", "Scenarios", ".yaml"), ("recordings", "Recordings", ".json"),
                                            ("HAR captures", "Tests/InsightDriverTests/Fixtures/har", ".har")] {
                let originals = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
                guard !originals.isEmpty else {
                    printError("\(label): no \(suffix) file in \(folder) (run from the repository's root)")
                    throw ExitCode(2)
                }
                let perFile = max(1, (files + originals.count - 1) / originals.count)
                var tried = 0, refused = 0, unexpected: [String] = [], slowest = 0.0
                let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                for name in originals {
                    let text = try String(contentsOfFile: (folder as NSString).appendingPathComponent(name), encoding: .utf8)
                    let mutants = Mutants(text, seed: seed)
                    for index in 0..<perFile {
                        let (kind, bytes) = mutants.mutant(index)
                        let started = Date()
                        do {
                            switch suffix {
                            case ".yaml":
                                let path = scratch + "/m.yaml"
                                try bytes.write(to: URL(fileURLWithPath: path))
                                _ = try ScenarioLoader.loadFile(path)
                            case ".json": _ = try RecordingFile.decode(bytes, file: "m.json")
                            default: _ = try HAR.read(bytes, name: "m", file: "m.har", now: Date())
                            }
                        } catch let error as ScenarioError {
                            refused += 1
                            if error.line == nil, !error.field.isEmpty { unexpected.append("\(name) \(kind.rawValue) #\(index): no line") }
                        } catch is RecordingFileError {
                            refused += 1
                        } catch {
                            unexpected.append("\(name) \(kind.rawValue) #\(index): \(error)")
                        }
                        slowest = max(slowest, Date().timeIntervalSince(started))
                        tried += 1
                    }
                }
                print("hostile files, \(label): \(tried) mutants of \(originals.count) file(s); refused \(refused), read \(tried - refused - unexpected.count), unexpected errors \(unexpected.count), slowest \(String(format: "%.3f", slowest)) s")
                for line in unexpected.prefix(10) { print("  \(line)") }
                failed = failed || !unexpected.isEmpty || slowest > 5
            }
        }
        if failed { throw ExitCode(1) }
    }
}
