/// What goes wrong below HTTP, as a value a client reasons about: the host does not resolve,
/// the connection is refused or reset, the request timed out, the TLS handshake failed.
public struct TransportFailure: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case nameResolution = "name_resolution"
        case connectionRefused = "connection_refused"
        case connectionReset = "connection_reset"
        case timedOut = "timed_out"
        /// The TLS handshake failed: a certificate this machine does not trust (a proxy that
        /// intercepts TLS), or no common protocol.
        case tlsFailed = "tls_failed"
    }
    public let kind: Kind
    public let host: String
    public let detail: String

    public var description: String {
        switch kind {
        case .nameResolution: return "could not resolve host \(host)"
        case .connectionRefused: return "connection to \(host) refused"
        case .connectionReset: return "connection to \(host) reset"
        case .timedOut: return "request to \(host) timed out"
        case .tlsFailed: return "TLS handshake with \(host) failed\(detail.isEmpty ? "" : " (\(detail))")"
        }
    }

    /// What to do, when nobody has diagnosed it further.
    var remedy: String {
        switch kind {
        case .nameResolution: return "check the host in the URL (a Rapid7 regional host is REGION.api.insight.rapid7.com) and this machine's DNS"
        case .connectionRefused: return "check that the server is running and listens on that port"
        case .connectionReset: return "try again; if it keeps happening, look at the proxies and firewalls on the way"
        case .timedOut: return "check the network path to the host, or give the request more time"
        case .tlsFailed: return "trust the certificate the host presents (a TLS-intercepting proxy's CA: `insight-replay ca` prints the emulator's), or check the TLS versions both ends allow"
        }
    }
}

/// The errors of InsightCore: a transport failure, bytes that must be UTF-8 text and are not, a
/// malformed `multipart/form-data` body.
public struct CoreError: InsightError, Hashable {
    private enum Code: Hashable, Sendable {
        case transport(TransportFailure)
        case notUTF8(offset: Int, line: Int, column: Int, byte: UInt8)
        case malformedForm(String)
    }
    private let code: Code

    /// A failure below HTTP (`.transport(.nameResolution, host: …)`).
    public static func transport(_ kind: TransportFailure.Kind, host: String, detail: String = "") -> CoreError {
        CoreError(code: .transport(TransportFailure(kind: kind, host: host, detail: detail)))
    }

    /// A byte that is not UTF-8: its offset from 0, its line and column from 1 (columns in bytes).
    public static func notUTF8(offset: Int, line: Int, column: Int, byte: UInt8) -> CoreError {
        CoreError(code: .notUTF8(offset: offset, line: line, column: column, byte: byte))
    }

    /// A `multipart/form-data` body that is not one, saying what is malformed.
    public static func malformedForm(_ what: String) -> CoreError { CoreError(code: .malformedForm(what)) }

    /// The transport failure, when the error is one.
    public var transport: TransportFailure? {
        if case .transport(let failure) = code { return failure }
        return nil
    }

    /// Where the first byte that is not UTF-8 sits, when the error is one.
    public var textPosition: (line: Int, column: Int)? {
        if case .notUTF8(_, let line, let column, _) = code { return (line, column) }
        return nil
    }

    public var problem: String {
        switch code {
        case .transport(let failure): return failure.description
        case .notUTF8(_, let line, let column, let byte):
            return "byte 0x\(String(byte, radix: 16, uppercase: true)) at line \(line), column \(column) is not UTF-8"
        case .malformedForm(let what): return what
        }
    }

    public var remedy: String {
        switch code {
        case .transport(let failure): return failure.remedy
        case .notUTF8: return "save the file as UTF-8 text"
        case .malformedForm: return ""
        }
    }
}
