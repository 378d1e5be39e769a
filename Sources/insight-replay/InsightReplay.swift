import ArgumentParser
import Foundation
import Logging

@main
struct InsightReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insight-replay",
        abstract: "Replay Rapid7 Insight API scenarios against an offline emulator and check how an integration copes.",
        version: "0.1.0",
        subcommands: [Run.self, List.self, Serve.self, CA.self, History.self, Record.self, Export.self, Import.self, Recordings.self, BenchStore.self, BenchScale.self],
        defaultSubcommand: Run.self)

    /// Bad input exits 2 across the tool, including the parser's own usage errors (64 by default).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error).rawValue == 64 {
                printError(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (run: error, serve: warning).")
    var logLevel: String?

    /// Sets up logging to standard error; `fallback` when --log-level is not given.
    func bootstrap(fallback: Logger.Level = .warning) throws {
        let text = logLevel ?? fallback.rawValue
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ValidationError("--log-level '\(text)' is not one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
