import ArgumentParser
import Foundation
import InsightCore
import InsightDriver
import Logging

@main
struct InsightReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insight-replay",
        abstract: "Replay Rapid7 Insight API scenarios against an offline emulator and check how an integration copes.",
        version: "0.1.0",
        subcommands: [Run.self, List.self, DiagnoseCommand.self, ReproduceCommand.self, Serve.self, Exec.self, CA.self, History.self, Record.self, Export.self, Import.self, Recordings.self, BenchStore.self, BenchScale.self, BenchRequest.self, Hostile.self],
        defaultSubcommand: Run.self)

    /// Bad input exits 2 across the tool, including the parser's own usage errors (64 by default).
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let message = mistypedSubcommand(arguments) {
            printError(message)
            Foundation.exit(2)
        }
        var parsed: (any ParsableCommand)?
        do {
            var command = try parseAsRoot(arguments)
            parsed = command
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error).rawValue == 64 {
                printError(usageError(error, command: parsed.map { type(of: $0) }))
                Foundation.exit(2)
            }
            if error is any InsightError {
                printError("Error: " + errorText(error))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }

    /// A usage error with the usage of the command it came from: the parser's own errors carry
    /// their command; a ValidationError thrown from a subcommand's run() gets that subcommand's.
    static func usageError(_ error: any Error, command: (any ParsableCommand.Type)?) -> String {
        guard let command, command != InsightReplay.self, error is ValidationError else { return fullMessage(for: error) }
        return "Error: \(message(for: error))\nUsage: \(usageString(for: command))\n  See 'insight-replay help \(command._commandName)' for more information."
    }
}

extension InsightReplay {
    /// `insight-replay rnu`: the default subcommand would read `rnu` as a scenario path. When
    /// the first argument is no file, no option and no subcommand, but within two edits of a
    /// subcommand's name, say so and name it.
    static func mistypedSubcommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-"), !FileManager.default.fileExists(atPath: first) else { return nil }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !names.contains(first) else { return nil }
        let near = names.map { ($0, editDistance(first.lowercased(), $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }
        guard let (name, _) = near else { return nil }
        return "insight-replay: '\(first)' is not a command or a scenario file; did you mean '\(name)'?"
            + " (`insight-replay --help` lists the commands)"
    }

    /// Levenshtein distance, for suggestions.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
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

/// An error as the tool says every one: what went wrong (after `context`: an option, a
/// command), then what to do on a line of its own when the error knows (an `InsightError`).
func errorText(_ error: any Error, context: String = "") -> String {
    guard let error = error as? any InsightError else { return context + "\(error)" }
    return context + error.problem + (error.remedy.isEmpty ? "" : "\nfix: \(error.remedy)")
}

/// A scenario file as the commands take one: loaded, or refused (exit code 2).
func loadScenario(_ path: String) throws -> Scenario {
    do { return try ScenarioLoader.loadFile(path) } catch { throw refuse(error) }
}

/// Says `error` on standard error and gives the exit code of bad input (2), for the caller to throw.
func refuse(_ error: any Error, context: String = "") -> ExitCode {
    printError(errorText(error, context: context))
    return ExitCode(2)
}

/// A numeric option's allowed range, said the same way by every command: the range, an example
/// and the value given (`--threads must be 1…64 (e.g. --threads 4), not 100000`).
enum OptionRange {
    static func check<Value: Comparable & CustomStringConvertible>(_ name: String, _ value: Value, _ range: ClosedRange<Value>,
                                                                   example: Value, note: String? = nil) throws {
        guard range.contains(value) else {
            let aside = note.map { "\($0); " } ?? ""
            throw ValidationError("\(name) must be \(range.lowerBound)…\(range.upperBound) (\(aside)e.g. \(name) \(example)), not \(value)")
        }
    }

    /// A number of seconds: above 0, at most `maximum`.
    static func seconds(_ name: String, _ value: Double, maximum: Double, example: Double) throws {
        guard value > 0, value <= maximum, value.isFinite else {
            throw ValidationError("\(name) must be above 0 and at most \(Int(maximum)) seconds (e.g. \(name) \(example)), not \(value)")
        }
    }
}

/// What `serve` and `record` say when bound to an address other than loopback.
func offLoopbackWarning(_ host: String, what: String) -> String {
    "warning: bound to \(host), not loopback: this server \(what); bind 127.0.0.1 (the default) unless that is what you want"
}
