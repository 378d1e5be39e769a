import Foundation
import InsightCore

/// The environment that points an unmodified client at a running server: the proxy variables
/// the common runtimes read, the CA bundle variables, and the keys a client may use.
///
/// | variable | read by |
/// |---|---|
/// | `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`, `http_proxy` | curl, Python (urllib, requests, httpx), Go, Node ≥ 22.21 with `NODE_USE_ENV_PROXY=1` |
/// | `NO_PROXY`, `no_proxy` | the same; the server itself is reached directly |
/// | trust variables (`SSL_CERT_FILE`, `SSL_CERT_DIR`, `CURL_CA_BUNDLE`, `REQUESTS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`, `PYTHONPATH`, `WGETRC`) | see `ClientTrust` |
public struct ClientEnvironment: Sendable {
    /// Variables in the order they are printed.
    public private(set) var variables: [(name: String, value: String)] = []

    public init() {}

    public mutating func set(_ name: String, _ value: String) {
        variables.removeAll { $0.name == name }
        variables.append((name, value))
    }

    public var dictionary: [String: String] {
        Dictionary(variables.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// Proxy and CA variables for a server at `proxy` (`http://127.0.0.1:PORT`).
    public static func proxy(_ proxy: String, authority: CertificateAuthority) -> ClientEnvironment {
        var environment = ClientEnvironment()
        for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] { environment.set(name, proxy) }
        for name in ["NO_PROXY", "no_proxy"] { environment.set(name, "127.0.0.1,localhost,::1") }
        for (name, value) in ClientTrust.variables(authority) { environment.set(name, value) }
        environment.set("NODE_USE_ENV_PROXY", "1")
        environment.set("INSIGHT_REPLAY_PROXY", proxy)
        environment.set("INSIGHT_REPLAY_CA", absolute(authority.certificatePath))
        return environment
    }

    /// `export NAME='value'` lines, ready for `eval` in sh, bash and zsh.
    public var exportLines: String {
        variables.map { "export \($0.name)=\(Self.shellQuoted($0.value))" }.joined(separator: "\n")
    }

    static func shellQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `path` made absolute against the current folder.
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    /// A variable name from a key id or region code: `demo-us2-user` → `DEMO_US2_USER`.
    public static func variableName(_ text: String) -> String {
        String(text.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
