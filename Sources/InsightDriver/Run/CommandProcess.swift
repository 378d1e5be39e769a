import Foundation

/// One run of a command client: started with its environment, its output captured to files
/// (no pipe to fill up and block it), stopped at its timeout.
package struct CommandProcess {
    /// One run's exit, timeout, launch error and output.
    package typealias Outcome = CommandObservation

    /// Output kept per stream; beyond it the rest is dropped and the cut is said.
    static let outputCap = 1 << 20

    let arguments: [String]
    let environment: [String: String]
    let directory: String?
    let timeout: Double

    package init(arguments: [String], environment: [String: String], directory: String?, timeout: Double) {
        self.arguments = arguments
        self.environment = environment
        self.directory = directory
        self.timeout = timeout
    }

    /// Runs the command; `started` learns its process id as soon as it runs.
    package func run(started: @Sendable (Int32) -> Void = { _ in }) async -> Outcome {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("insight-replay-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            return Outcome(launchError: "cannot create a folder for its output: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("stdout")
        let errURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        // env finds the program on the PATH the scenario's environment gives.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        let outcome: Outcome
        do {
            let out = try FileHandle(forWritingTo: outURL)
            let err = try FileHandle(forWritingTo: errURL)
            defer {
                try? out.close()
                try? err.close()
            }
            process.standardOutput = out
            process.standardError = err
            outcome = try await runToExit(process, started: started)
        } catch {
            return Outcome(launchError: "\(arguments.joined(separator: " ")): \(error.localizedDescription)")
        }
        var result = outcome
        result.stdout = Self.read(outURL)
        result.stderr = Self.read(errURL)
        if result.exitCode == 127, result.stderr.contains("No such file or directory") || result.stderr.contains("not found") {
            result.launchError = "\(arguments[0]) was not found (exit 127): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
        return result
    }

    private func runToExit(_ process: Process, started: @Sendable (Int32) -> Void) async throws -> Outcome {
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.finish() }
        try process.run()
        let pid = process.processIdentifier
        started(pid)
        let fired = TimeoutFlag()
        let watchdog = Task {
            try await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
            fired.set()
            kill(pid, SIGTERM)
            try await Task.sleep(nanoseconds: 2_000_000_000)
            kill(pid, SIGKILL)
        }
        for await _ in exited.stream {}
        watchdog.cancel()
        let status = process.terminationStatus
        return Outcome(exitCode: process.terminationReason == .exit ? status : 128 + status, timedOut: fired.value)
    }

    static func read(_ url: URL) -> String {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return "" }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: outputCap + 1)) ?? Data()
        let text = String(decoding: data.prefix(outputCap), as: UTF8.self)
        return data.count > outputCap ? text + "\n[output cut at \(outputCap) bytes]" : text
    }
}

/// Set once by the watchdog when a process outlived its timeout.
private final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    func set() { lock.withLock { fired = true } }
    var value: Bool { lock.withLock { fired } }
}
