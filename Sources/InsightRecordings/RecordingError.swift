import InsightCore

/// The errors of InsightRecordings: a recording refused because a secret would survive in it, a
/// store (SQLite) that cannot be opened or written, a recording or HAR file that is not one.
public struct RecordingError: InsightError, Hashable {
    private enum Code: Hashable, Sendable {
        case redaction(field: String, exchange: String)
        case store(path: String, message: String)
        case file(file: String, message: String, remedy: String)
    }
    private let code: Code

    /// A key-shaped value would survive in `field` of `exchange` (`GET host/path`): nothing is written.
    static func redaction(field: String, exchange: String) -> RecordingError {
        RecordingError(code: .redaction(field: field, exchange: exchange))
    }

    /// The store at `path` failed, with SQLite's own message.
    static func store(_ path: String, _ message: String) -> RecordingError {
        RecordingError(code: .store(path: path, message: message))
    }

    /// A problem with a recording or HAR file (or a folder of them): which, what was expected,
    /// and what to do.
    public static func file(_ file: String, _ message: String, remedy: String = "") -> RecordingError {
        RecordingError(code: .file(file: file, message: message, remedy: remedy))
    }

    public static let checkPath = "check the path, and that this user can read the file"

    /// The field a refused recording would have leaked a key in.
    public var refusedField: String? {
        if case .redaction(let field, _) = code { return field }
        return nil
    }

    public var problem: String {
        switch code {
        case .redaction(let field, let exchange):
            return "refusing to write: a key-shaped value would survive in \(field) of \(exchange); nothing was written"
        case .store(let path, let message): return "\(path): \(message)"
        case .file(let file, let message, _): return "\(file): \(message)"
        }
    }

    public var remedy: String {
        switch code {
        case .redaction:
            return "take the secret out of that field (or send it in X-Api-Key, which is redacted), then record again"
        case .store:
            return "check that the folder can be written and the file is an insight-replay store, or name another with --store"
        case .file(_, _, let remedy): return remedy
        }
    }
}
