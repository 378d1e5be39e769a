/// A problem with a scenario file: where it is (file, line, column, field), what was expected,
/// and what to do. Nothing runs while any scenario file has one.
public struct ScenarioError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let column: Int?
    /// Dotted path of the field (`client.token.key`, `steps[2]`), empty for the whole file.
    public let field: String
    public let message: String

    public init(file: String, line: Int?, column: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }
}

/// Several scenario errors, reported together so one run shows every problem.
public struct ScenarioErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [ScenarioError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
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
                errors.append(error)
            } catch let many as ScenarioErrors {
                errors += many.errors
            } catch {
                errors.append(ScenarioError(file: file, line: nil, column: nil, field: "", message: "\(error)"))
            }
            return nil
        }

        /// Throws the one error as itself, several as `ScenarioErrors` (in file order if asked).
        func throwIfAny(sorted: Bool) throws {
            if errors.count == 1 { throw errors[0] }
            guard !errors.isEmpty else { return }
            throw ScenarioErrors(errors: sorted ? errors.sorted { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) } : errors)
        }
    }
}
