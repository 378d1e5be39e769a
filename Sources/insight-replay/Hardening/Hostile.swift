import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import InsightEmulator
import InsightHardening
import InsightRecordings
import InsightServer
import Logging

struct Hostile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hardening run: hostile HTTP and TLS against the embedded server, and mutants of the bundled files through the loaders, `run`, `import` and the admin upload, as figures.",
        discussion: "Loopback only; run from the repository's root. Exit code 0 when nothing crashed, hung, answered wrongly or lost data, 1 otherwise.")

    @Option(name: .long, parsing: .unconditional, help: "Hostile HTTP inputs on plain connections (each on a connection of its own).")
    var http = 10_000

    @Option(name: .long, parsing: .unconditional, help: "Inputs over TLS: a third bad ClientHellos, a third hostile HTTP on the TLS port, a third inside CONNECT tunnels.")
    var tls = 3_000

    @Option(name: .long, parsing: .unconditional, help: "Mutants of each kind of file (scenarios, recordings, HAR captures) through the loaders and the admin upload.")
    var files = 1_000

    @Option(name: .long, parsing: .unconditional, help: "Mutants of each kind of file through `run` or `import` as processes of this binary (default: as many as --files).")
    var processes: Int?

    @Option(name: .long, parsing: .unconditional, help: "Seed of the inputs and mutants.")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Leave out the shell-user checks: path forms, option ranges, special report files, web pages at the admin API.")
    var skipSafety = false

    func validate() throws {
        for (name, value) in [("--http", http), ("--tls", tls), ("--files", files), ("--processes", processes ?? 0)] {
            try OptionRange.check(name, value, 0...1_000_000, example: 100)
        }
    }

    func run() async throws {
        var failed = false
        let tenants = DemoWorld.tenants(now: Date())
        // The server's notices (each refused CONNECT) would drown the figures.
        var quiet = Logger(label: "insight-replay.hostile")
        quiet.logLevel = .critical
        // The server runs as `insight-replay serve` in a process of its own: its resident set is
        // then the server's alone, not the 16 client threads' of this harness.
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        if http > 0 {
            let server = try ServeProcess(binary: binary)
            defer { server.stop() }
            let started = Date()
            let valid = HostileHTTP.validRequest(key: server.key)
            let report = HostileHTTP.run(
                count: http, inputs: { HostileHTTP.input($0, seed: seed, key: server.key) },
                send: { HostileHTTP.send($1.bytes, port: server.port, timeout: 10, answers: $1.answers) },
                healthy: { HostileHTTP.send(valid, port: server.port, timeout: 10) == .answered(200) },
                workers: 16, serverRSS: { server.residentKiB }, progress: { done in
                    if done % 1000 == 0 { printError("  \(done) / \(http) inputs, server RSS \(server.residentKiB / 1024) MB") }
                })
            failed = Self.print("hostile HTTP", report, seconds: Date().timeIntervalSince(started)) || failed
        }
        if tls > 0 {
            let server = try ServeProcess(binary: binary)
            defer { server.stop() }
            let started = Date()
            let report = try HostileTLS.run(count: tls, plainPort: server.port, tlsPort: server.tlsPort, trusting: server.certificate,
                                            key: server.key, seed: seed, timeout: 10, workers: 16, serverRSS: { server.residentKiB },
                                            progress: { done in
                if done % 1000 == 0 { printError("  \(done) / \(tls) TLS inputs, server RSS \(server.residentKiB / 1024) MB") }
            })
            failed = Self.print("hostile TLS", report, seconds: Date().timeIntervalSince(started)) || failed
        }
        if files > 0 {
            failed = try loaders() || failed
            failed = try await upload(tenants: tenants, logger: quiet) || failed
        }
        if (processes ?? files) > 0 { failed = try await entryPoints() || failed }
        if !skipSafety { failed = try await safety(binary: binary) || failed }
        if failed { throw ExitCode(1) }
    }

    /// The figures of a hostile run, and whether it failed.
    static func print(_ label: String, _ report: HostileHTTP.Report, seconds: Double) -> Bool {
        let statuses = report.byStatus.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        let slowest = report.slowest.max { $0.value < $1.value }.map { "\($0.key) \(String(format: "%.2f", $0.value)) s" } ?? "-"
        let memory = report.serverRSSKiB.count == 3
            ? "server RSS \(mb(report.serverRSSKiB[0])) before, \(mb(report.serverRSSKiB[1])) after the first \(report.warmUp) inputs, \(mb(report.serverRSSKiB[2])) at the end"
            : "heap in use \(mb(report.heapBeforeKiB)) before, \(mb(report.heapWarmKiB)) after the first \(report.warmUp) inputs, \(mb(report.heapAfterKiB)) at the end (RSS \(mb(report.rssBeforeKiB)), \(mb(report.rssWarmKiB)), \(mb(report.rssAfterKiB)))"
        Swift.print("""
            \(label): \(report.inputs) inputs in \(String(format: "%.1f", seconds)) s; answered \(report.answered) (\(statuses)), \
            closed \(report.closed), hangs \(report.hangs.count), refused \(report.refused), wrong 2xx \(report.wrongSuccesses.count), \
            health checks failed \(report.unhealthy.count); slowest \(slowest); \(memory)
            """)
        for (name, list) in [("hangs", report.hangs), ("wrong 2xx", report.wrongSuccesses), ("unhealthy", report.unhealthy)] where !list.isEmpty {
            Swift.print("  \(name): \(list.prefix(10).joined(separator: ", "))")
        }
        // Each input's memory is freed when its connection closes. In process: heap still held
        // after the warm-up beyond 1 MB (a hundred leaked buffers of 10 KB) is a leak. A server
        // process of its own: its resident set may not grow by more than a tenth after the warm-up.
        let growth = report.serverRSSKiB.count == 3 ? report.serverRSSKiB[2] - report.serverRSSKiB[1] : report.growthAfterWarmUpKiB
        let allowed = report.serverRSSKiB.count == 3 ? max(2_048, report.serverRSSKiB[1] / 10) : 1_024
        // Judged only with 1,000 inputs or more after the warm-up: fewer show no trend, only noise.
        let judged = report.inputs - report.warmUp >= 1_000
        let leaked = judged && growth > allowed
        if leaked { Swift.print("  memory grew \(mb(growth)) after the warm-up (allowed \(mb(allowed)))") }
        if !judged { Swift.print("  (memory not judged: fewer than 1,000 inputs after the warm-up)") }
        return !report.hangs.isEmpty || !report.unhealthy.isEmpty || report.refused > 0 || !report.wrongSuccesses.isEmpty || leaked
    }

    static func mb(_ kib: Int) -> String { String(format: "%.1f MB", Double(kib) / 1024) }

    static let kinds = [("scenarios", "Scenarios", ".yaml"), ("recordings", "Recordings", ".json"),
                        ("HAR captures", "Tests/InsightDriverTests/Fixtures/har", ".har")]

    func sample(_ folder: String, _ suffix: String, count: Int) throws -> HostileEntryPoints.Sample {
        do {
            return try HostileEntryPoints.Sample(folder: folder, suffix: suffix, count: count, seed: seed)
        } catch {
            throw refuse(error)
        }
    }

    /// Mutants through the loaders in this process; whether any failed wrongly.
    func loaders() throws -> Bool {
        var failed = false
        for (label, folder, suffix) in Self.kinds {
            let sample = try sample(folder, suffix, count: files)
            var refused = 0, unexpected: [String] = [], slowest = 0.0
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            for position in 0..<sample.count {
                let (name, bytes) = sample.mutant(position)
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
                    if error.errors.contains(where: { $0.line == nil && !$0.field.isEmpty }) { unexpected.append("\(name): an error without its line") }
                } catch is RecordingError {
                    refused += 1
                } catch {
                    unexpected.append("\(name): \(error)")
                }
                slowest = max(slowest, Date().timeIntervalSince(started))
            }
            Swift.print("hostile files, \(label) through the loader: \(sample.count) mutants of \(sample.originals.count) file(s); refused \(refused), read \(sample.count - refused - unexpected.count), unexpected errors \(unexpected.count), slowest \(String(format: "%.3f", slowest)) s")
            for line in unexpected.prefix(10) { Swift.print("  \(line)") }
            failed = failed || !unexpected.isEmpty || slowest > 5
        }
        return failed
    }

    /// Scenario mutants uploaded to a running server's admin API.
    func upload(tenants: [Tenant], logger: Logger) async throws -> Bool {
        let server = try await EmulatorServer.start(emulator: Emulator(tenants: tenants, clock: SystemClock()), threads: 2,
                                                    loadScenario: ScenarioLoader.upload, logger: logger)
        let figures = HostileEntryPoints.throughUpload(try sample("Scenarios", ".yaml", count: files), port: server.port, token: server.adminToken, timeout: 30)
        try await server.shutdown()
        return Self.print("scenarios through POST /_admin/scenario", figures)
    }

    /// Mutants through `run` and `import` as processes of this binary.
    func entryPoints() async throws -> Bool {
        let count = processes ?? files
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let invoke = HostileEntryPoints.process(binary: binary, timeout: 30)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-entry-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var failed = Self.print("scenarios through `run`", try await HostileEntryPoints.throughRun(
            try sample("Scenarios", ".yaml", count: count), scratch: scratch, invoke: invoke) { done in
                if done % 250 == 0 { printError("  \(done) / \(count) runs") }
            })
        for (label, folder, suffix) in Self.kinds.dropFirst() {
            // A store with a recording in it already, so a refused import has something to lose.
            let store = scratch + "/store-\(suffix.dropFirst()).sqlite"
            try SQLiteRecordingStore(path: store).saveRecording(try RecordingFile.load("Recordings/rate-limit-burst-recovers.json"))
            let figures = try await HostileEntryPoints.throughImport(try sample(folder, suffix, count: count), suffix: suffix, scratch: scratch,
                                                                     store: store, invoke: invoke) { done in
                if done % 250 == 0 { printError("  \(done) / \(count) imports") }
            }
            failed = Self.print("\(label) through `import`", figures) || failed
        }
        return failed
    }

    static func print(_ label: String, _ figures: HostileEntryPoints.Figures) -> Bool {
        Swift.print("hostile files, \(label): \(figures.tried) mutants; accepted \(figures.accepted), refused \(figures.refused), problems \(figures.problems.count), slowest \(String(format: "%.3f", figures.slowest)) s")
        for line in figures.problems.prefix(10) { Swift.print("  \(line)") }
        return !figures.problems.isEmpty
    }
}

/// `insight-replay serve` in a process of its own, with the demo world, a small journal and a
/// short idle timeout: its ports, the us2 user key and the CA it prints, and its resident set.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let folder: String
    private(set) var port = 0
    private(set) var tlsPort = 0
    private(set) var key = ""
    private(set) var certificate = ""

    init(binary: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-serve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", "0", "--tls-port", "0", "--store", folder + "/store.sqlite",
                             "--journal-cap", "100", "--idle-timeout", "0.5", "--threads", "2"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice  // a notice per refused CONNECT
        try process.run()
        // Read what serve prints until the ports, the key and the CA are known (bounded).
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning, port == 0 || tlsPort == 0 || key.isEmpty || certificate.isEmpty {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if line.hasPrefix("insight-replay emulator listening on http://127.0.0.1:"), let last = words.dropFirst(4).first {
                    port = Int(last.split(separator: ":").last ?? "") ?? 0
                } else if let range = line.range(of: "TLS port: https://127.0.0.1:") {
                    tlsPort = Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
                } else if words.count >= 4, words[0] == "us2", words[1] == "user" {
                    key = String(words[2])
                } else if let range = line.range(of: "trusting ") {
                    certificate = String(line[range.upperBound...].prefix { $0 != " " })
                }
            }
        }
        guard port > 0, tlsPort > 0, !key.isEmpty, !certificate.isEmpty else {
            stop()
            throw ValidationError("could not start `insight-replay serve` for the hostile run (read: \(text.prefix(300)))")
        }
    }

    var residentKiB: Int { HostileHTTP.residentKiB(pid: process.processIdentifier) }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }
}
