import InsightCore
import InsightScenario
import InsightServer

/// The errors of InsightDriver: a catalogue run that ran nothing (bad scenario files, a selection
/// that selects nothing, recordings that do not load), what was asked of `diagnose` that does not
/// go together, a capture `reproduce` cannot read, a report that cannot be written, a command
/// client that cannot be set up. One stays inside: a sink that stops taking audit records.
public struct DriverError: InsightError {
    private enum Code: Sendable {
        case nothingRun(String, remedy: String, badFiles: [ScenarioError])
        case input(String, remedy: String)
        case capture(String, remedy: String)
        case report(String, remedy: String)
        case commandSetup(String, remedy: String)
        case stopped
    }
    private let code: Code

    /// Nothing was run, because of `cause` (a scenario, recording or selection error), whose
    /// remedy `more` follows.
    static func nothingRun(_ cause: any Error, more: String? = nil) -> DriverError {
        let badFiles = (cause as? ScenarioError)?.errors.filter { !$0.file.isEmpty } ?? []
        let problem = (cause as? any InsightError)?.problem ?? "\(cause)"
        let remedy = [(cause as? any InsightError)?.remedy, more].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "; ")
        return DriverError(code: .nothingRun(problem, remedy: remedy, badFiles: badFiles))
    }

    /// Nothing was run: the options select nothing.
    static func nothingRun(_ problem: String, remedy: String) -> DriverError {
        DriverError(code: .nothingRun(problem, remedy: remedy, badFiles: []))
    }

    /// Settings or options that do not go together (exit code 2).
    static func input(_ problem: String, remedy: String) -> DriverError { DriverError(code: .input(problem, remedy: remedy)) }

    /// A capture that cannot become a scenario.
    static func capture(_ problem: String, remedy: String) -> DriverError { DriverError(code: .capture(problem, remedy: remedy)) }

    /// A report that cannot be written where asked.
    static func report(_ problem: String, remedy: String) -> DriverError { DriverError(code: .report(problem, remedy: remedy)) }

    /// A command client that cannot be set up or started.
    static func commandSetup(_ problem: String, remedy: String) -> DriverError {
        DriverError(code: .commandSetup(problem, remedy: remedy))
    }

    /// A command client that cannot be set up because of `cause` (the server's setup of it).
    static func commandSetup(_ cause: ServerError, context: String = "") -> DriverError {
        DriverError(code: .commandSetup(context + cause.problem, remedy: cause.remedy))
    }

    /// A sink that takes no more records (`AuditSink.stopAfter`); never leaves the driver.
    static let stopped = DriverError(code: .stopped)

    /// The bad scenario files behind a run that ran nothing, for the reports to name.
    public var badFiles: [ScenarioError] {
        if case .nothingRun(_, _, let files) = code { return files }
        return []
    }

    public var problem: String {
        switch code {
        case .nothingRun(let problem, _, _), .input(let problem, _), .capture(let problem, _), .report(let problem, _),
             .commandSetup(let problem, _):
            return problem
        case .stopped: return "the sink takes no more records"
        }
    }

    public var remedy: String {
        switch code {
        case .nothingRun(_, let remedy, _), .input(_, let remedy), .capture(_, let remedy), .report(_, let remedy),
             .commandSetup(_, let remedy):
            return remedy
        case .stopped: return ""
        }
    }
}
