import Foundation
import InsightEmulator
import Logging
import NIOCore

/// What every connection of one server shares.
struct ServerSettings: Sendable {
    let emulator: Emulator
    let admin: AdminAPI
    let logger: Logger
    /// Issues the certificates of CONNECT tunnels; nil: CONNECT is answered 501.
    let authority: CertificateAuthority?
    /// Base that replaces `https://HOST` in answers to path-prefix requests (`--link-base`);
    /// nil: the address the request came to (`http://127.0.0.1:PORT`).
    let linkBase: String?
    /// A connection that completes no part of a request for this long is closed (`IdleTimer`);
    /// nil: never (the in-memory connection of the fuzzer).
    var idleTimeout: TimeAmount? = nil
    /// A request head not complete this long after its first byte closes the connection
    /// (`HeadClock`): shorter than the idle timeout, so half-sent heads are not held.
    var headTimeout: TimeAmount? = nil
}

/// How a connection reached the server.
struct Arrival: Sendable {
    /// Inside a CONNECT tunnel: every request goes to this host.
    var tunnelHost: String?
    /// TLS (a tunnel or the direct TLS port): the scheme of rewritten links.
    var secure: Bool

    static let plain = Arrival(tunnelHost: nil, secure: false)
}
