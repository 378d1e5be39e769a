/// What every error of this project says: what went wrong (and where: the file, line, field or
/// request) and what to do about it.
///
/// Each module has one error type that conforms (`CoreError`, `EmulatorError`, `ServerError`,
/// `ClientError`, `RecordingError`, `ScenarioError`, `DriverError`), on the model of
/// async-http-client's `HTTPClientError`: a struct around a private code, made by static
/// functions, so a case can be added without breaking a caller. The command line prints
/// `problem` and then `remedy` on a line of its own; logs and HTTP answers take `description`,
/// both on one line.
public protocol InsightError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, and where.
    var problem: String { get }
    /// What to do about it, in one line; empty when there is nothing the reader can do.
    var remedy: String { get }
}

extension InsightError {
    public var description: String { remedy.isEmpty ? problem : "\(problem); \(remedy)" }
}
