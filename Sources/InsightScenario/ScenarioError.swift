import InsightCore

/// The errors of InsightScenario: problems with scenario files, each where it is (file, line,
/// column, field) and what was expected, reported all together (nothing runs while any scenario
/// file has one); and a selection (`--filter`, `--shard`) that cannot be made.
///
/// A file problem's `description` is its location and message; several are one a line, as a
/// compiler lists them, and the remedy is said once after them.
public struct ScenarioError: InsightError, Hashable {
    private enum Code: Hashable, Sendable {
        case located(file: String, line: Int?, column: Int?, field: String, message: String)
        case several([ScenarioError])
        case selection(String, remedy: String)
    }
    private let code: Code

    /// One problem in a scenario file.
    /// - Parameter field: the dotted path of the field (`client.token.key`, `steps[2]`), empty
    ///   for the whole file.
    public init(file: String, line: Int?, column: Int?, field: String, message: String) {
        code = .located(file: file, line: line, column: column, field: field, message: message)
    }

    private init(code: Code) { self.code = code }

    /// Every problem of `errors`, in order, as one error (one problem stays itself).
    public static func several(_ errors: [ScenarioError]) -> ScenarioError {
        let all = errors.flatMap(\.errors)
        return all.count == 1 ? all[0] : ScenarioError(code: .several(all))
    }

    /// A selection that cannot be made.
    static func selection(_ problem: String, remedy: String) -> ScenarioError {
        ScenarioError(code: .selection(problem, remedy: remedy))
    }

    /// Each problem on its own, in order: one for a single problem or a selection.
    public var errors: [ScenarioError] {
        if case .several(let all) = code { return all }
        return [self]
    }

    private var located: (file: String, line: Int?, column: Int?, field: String, message: String)? {
        switch code {
        case .located(let file, let line, let column, let field, let message): return (file, line, column, field, message)
        case .several(let all): return all.first?.located
        case .selection: return nil
        }
    }

    /// The file of the (first) problem; empty for a selection.
    public var file: String { located?.file ?? "" }
    /// The line of the (first) problem, from 1, when it has one.
    public var line: Int? { located?.line }
    /// The column of the (first) problem, from 1, when it has one.
    public var column: Int? { located?.column }
    /// The dotted path of the (first) problem's field, empty for the whole file.
    public var field: String { located?.field ?? "" }
    /// What is wrong and what was expected, without the location.
    public var message: String {
        if case .selection(let problem, _) = code { return problem }
        return located?.message ?? ""
    }

    public var problem: String {
        switch code {
        case .located(let file, let line, let column, let field, let message):
            var location = file
            if let line { location += ":\(line)" }
            if let column { location += ":\(column)" }
            return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
        case .several(let all): return all.map(\.problem).joined(separator: "\n")
        case .selection(let problem, _): return problem
        }
    }

    public var remedy: String {
        switch code {
        case .located, .several: return "correct the files above (docs/SCENARIOS.md gives the format): no scenario runs while one is wrong"
        case .selection(_, let remedy): return remedy
        }
    }

    public var description: String {
        if case .selection = code { return "\(problem); \(remedy)" }
        return problem
    }
}

extension ScenarioError {
    /// Errors kept while reading goes on, so a file's problems are reported together.
    final class Gathered {
        let file: String
        private(set) var errors: [ScenarioError] = []
        init(file: String) { self.file = file }

        /// The body's value, or nil with its error(s) kept.
        func attempt<T>(_ body: () throws -> T) -> T? {
            do {
                return try body()
            } catch let error as ScenarioError {
                errors += error.errors
            } catch {
                errors.append(ScenarioError(file: file, line: nil, column: nil, field: "", message: "\(error)"))
            }
            return nil
        }

        /// Throws the errors as one (in file order if asked).
        func throwIfAny(sorted: Bool) throws {
            if errors.count == 1 { throw errors[0] }
            guard !errors.isEmpty else { return }
            throw ScenarioError.several(sorted ? errors.sorted { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) } : errors)
        }
    }
}
