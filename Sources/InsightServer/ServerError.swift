import InsightCore

/// The errors of InsightServer: the local certificate authority (its files, the hosts it issues
/// for), an outside client that cannot be set up (a JDK's truststore, the preload library), and
/// serving (a port that cannot be bound, settings that do not go together).
public struct ServerError: InsightError, Hashable {
    private enum Code: Hashable, Sendable {
        case authority(String, remedy: String)
        case outsideClient(String, remedy: String)
        case serving(String, remedy: String)
    }
    private let code: Code

    /// What makes a new CA when its files are unusable.
    static let resetCA = "`insight-replay ca --reset` makes a new CA (clients must then trust the new ca.pem)"

    /// For a file or folder this user could not make or change.
    static let writable = "check that this user can write there (the CA lives beside the store: --store names another)"

    /// Trusting the CA by hand, for a stack this tool cannot set up.
    static func trustYourself(_ authority: CertificateAuthority) -> String {
        "trust \(authority.certificatePath) in your JVM yourself (keytool -importcert)"
    }

    /// A problem with the CA's files or with what it is asked to issue.
    static func authority(_ problem: String, remedy: String = resetCA) -> ServerError {
        ServerError(code: .authority(problem, remedy: remedy))
    }

    /// An outside client that cannot be set up: its stack's trust, the preload library.
    static func outsideClient(_ problem: String, remedy: String) -> ServerError {
        ServerError(code: .outsideClient(problem, remedy: remedy))
    }

    /// A server that cannot serve as asked.
    package static func serving(_ problem: String, remedy: String) -> ServerError {
        ServerError(code: .serving(problem, remedy: remedy))
    }

    public var problem: String {
        switch code {
        case .authority(let problem, _), .outsideClient(let problem, _), .serving(let problem, _): return problem
        }
    }

    public var remedy: String {
        switch code {
        case .authority(_, let remedy), .outsideClient(_, let remedy), .serving(_, let remedy): return remedy
        }
    }
}
