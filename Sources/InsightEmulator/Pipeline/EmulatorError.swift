import InsightCore

/// The errors of InsightEmulator. Two leave it: an admin change or fault given in the wrong form
/// (`adminInput`, answered 400), and one the emulator's state refuses (`adminRefused`, with the
/// status that says so). The others are how a handler stops early; the emulator turns each into
/// the platform's own answer before it leaves (`denied` into the documented 401 or 404, `query`
/// into Log Search's 400 for a bad LEQL statement, `invalid` into a 400).
public struct EmulatorError: InsightError, Hashable {
    private enum Code: Hashable, Sendable {
        case adminInput(String, remedy: String)
        case adminRefused(status: Int, String, remedy: String)
        case denied(reason: String, notFound: Bool)
        case query(String, position: Int)
        case invalid(String)
    }
    private let code: Code

    /// An admin change, fault or setting that is not in the form the admin API and scenarios take.
    public static func adminInput(_ message: String, remedy: String = EmulatorError.adminForms) -> EmulatorError {
        EmulatorError(code: .adminInput(message, remedy: remedy))
    }

    /// An admin change the tenants refuse: no such tenant (404), a key id or secret taken (409).
    static func adminRefused(_ status: Int, _ message: String, remedy: String) -> EmulatorError {
        EmulatorError(code: .adminRefused(status: status, message, remedy: remedy))
    }

    /// A request authentication refuses; `reason` goes to the journal, never to the client.
    static func denied(_ reason: String, notFound: Bool = false) -> EmulatorError {
        EmulatorError(code: .denied(reason: reason, notFound: notFound))
    }

    /// A LEQL statement the emulator cannot read, at `position` (from 0).
    static func query(_ message: String, at position: Int) -> EmulatorError {
        EmulatorError(code: .query(message, position: position))
    }

    /// A request body a handler answers with 400 and this message.
    static func invalid(_ message: String) -> EmulatorError { EmulatorError(code: .invalid(message)) }

    /// Where the admin API's forms are described.
    public static let adminForms = "docs/CLI.md (Admin API) and docs/admin.schema.json give the forms"

    /// The HTTP status an answer to this error carries.
    public var status: Int {
        switch code {
        case .adminRefused(let status, _, _): return status
        case .denied(_, let notFound): return notFound ? 404 : 401
        case .adminInput, .query, .invalid: return 400
        }
    }

    /// Why authentication refused, when it did: for the journal.
    var denial: (reason: String, notFound: Bool)? {
        if case .denied(let reason, let notFound) = code { return (reason, notFound) }
        return nil
    }

    public var problem: String {
        switch code {
        case .adminInput(let message, _), .adminRefused(_, let message, _), .invalid(let message): return message
        case .denied(let reason, _): return reason
        case .query(let message, let position): return "Invalid LEQL statement at position \(position): \(message)"
        }
    }

    public var remedy: String {
        switch code {
        case .adminInput(_, let remedy), .adminRefused(_, _, let remedy): return remedy
        case .denied, .query, .invalid: return ""
        }
    }
}
