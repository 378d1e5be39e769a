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
