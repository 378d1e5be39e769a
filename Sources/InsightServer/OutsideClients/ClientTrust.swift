import Foundation

/// What makes each common client stack trust the local CA without dropping the system's roots
/// and without touching the user's own trust store or packages: files written once beside the
/// CA, and the variables that point at them.
///
/// | stack | how |
/// |---|---|
/// | OpenSSL (Python `ssl`, urllib, aiohttp, httpx's system store), Ruby | `SSL_CERT_FILE` = the CA, `SSL_CERT_DIR` = the system's hashed roots (read lazily) |
/// | curl | `CURL_CA_BUNDLE` = the CA; curl keeps its own CApath |
/// | requests (`REQUESTS_CA_BUNDLE`, read by `Session.request` only) | the combined bundle |
/// | requests' `Session.send`, httpx: certifi | `PYTHONPATH` = a folder whose `sitecustomize` points `certifi.where()` at the combined bundle |
/// | wget (GnuTLS ignores `SSL_CERT_FILE`) | `WGETRC` = a file naming the combined bundle |
/// | Node | `NODE_EXTRA_CA_CERTS` = the CA |
/// | Java | `JAVA_TOOL_OPTIONS`: a truststore made from the JVM's own `cacerts` plus the CA, and the proxy |
/// | Go | `SSL_CERT_FILE` and `SSL_CERT_DIR`, as OpenSSL |
public enum ClientTrust {
    /// The system's folder of roots by subject hash (`/etc/ssl/certs` on Debian), when it has
    /// one: OpenSSL then loads only the root a connection needs, where a bundle file is parsed
    /// whole (about 30 ms for 140 roots) by every new TLS context.
    public static let systemHashedFolder: String? = ["/etc/ssl/certs", "/usr/lib/ssl/certs", "/etc/pki/tls/certs", "/etc/ssl"]
        .first { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .contains { $0.range(of: "^[0-9a-f]{8}\\.[0-9]+$", options: .regularExpression) != nil }
        }

    /// The trust variables for clients of `authority` (paths made absolute).
    public static func variables(_ authority: CertificateAuthority) -> [(String, String)] {
        let ca = ClientEnvironment.absolute(authority.certificatePath)
        let bundle = ClientEnvironment.absolute(authority.bundlePath)
        var variables: [(String, String)]
        if let folder = systemHashedFolder {
            variables = [("SSL_CERT_FILE", ca), ("SSL_CERT_DIR", joined(folder, ProcessInfo.processInfo.environment["SSL_CERT_DIR"])),
                         ("CURL_CA_BUNDLE", ca)]
        } else {
            variables = [("SSL_CERT_FILE", bundle), ("CURL_CA_BUNDLE", bundle)]
        }
        variables.append(("REQUESTS_CA_BUNDLE", bundle))
        variables.append(("NODE_EXTRA_CA_CERTS", ca))
        if let python = try? pythonFolder(authority) {
            variables.append(("PYTHONPATH", joined(python, ProcessInfo.processInfo.environment["PYTHONPATH"])))
        }
        if let wgetrc = try? wgetrc(authority) { variables.append(("WGETRC", wgetrc)) }
        return variables
    }

    /// `first`, then the folders of an existing search path that are not `first`.
    static func joined(_ first: String, _ existing: String?) -> String {
        ([first] + (existing ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty && $0 != first }).joined(separator: ":")
    }

    // MARK: Python's certifi

    /// A folder holding `sitecustomize.py`, which Python imports at start: it points certifi at
    /// the combined bundle (requests' `Session.send` and httpx verify against certifi, not the
    /// variables), then runs any other `sitecustomize` on the path, so the user's still runs.
    static func pythonFolder(_ authority: CertificateAuthority) throws -> String {
        let folder = (ClientEnvironment.absolute(authority.directory) as NSString).appendingPathComponent("python")
        let bundle = ClientEnvironment.absolute(authority.bundlePath)
        let text = """
            # Written by insight-replay: trust its local CA in Python clients that verify against
            # certifi (requests' Session.send, httpx), without editing certifi. Only this
            # process is affected; the bundle keeps the system's roots.
            import os as _os
            import sys as _sys

            _BUNDLE = \(pythonString(bundle))

            try:
                import certifi as _certifi
                if _os.path.exists(_BUNDLE):
                    _certifi.where = lambda: _BUNDLE
                    try:
                        import certifi.core as _core
                        _core.where = _certifi.where
                    except Exception:
                        pass
            except ImportError:
                pass

            # The user's own sitecustomize, if one is further along the path.
            def _next():
                import importlib.machinery
                import importlib.util
                here = _os.path.dirname(_os.path.abspath(__file__))
                rest = [p for p in _sys.path if _os.path.abspath(p or ".") != here]
                spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
                if spec and spec.loader:
                    module = importlib.util.module_from_spec(spec)
                    spec.loader.exec_module(module)

            try:
                _next()
            except Exception:
                pass

            """
        try writeIfChanged(text, folder: folder, name: "sitecustomize.py")
        return folder
    }

    static func pythonString(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    // MARK: wget

    /// A wgetrc naming the combined bundle: Debian's wget (GnuTLS) reads no CA variable.
    static func wgetrc(_ authority: CertificateAuthority) throws -> String {
        let folder = ClientEnvironment.absolute(authority.directory)
        let text = "# Written by insight-replay: trust its local CA (the bundle keeps the system's roots).\nca_certificate = \(ClientEnvironment.absolute(authority.bundlePath))\n"
        try writeIfChanged(text, folder: folder, name: "wgetrc")
        return (folder as NSString).appendingPathComponent("wgetrc")
    }

    // MARK: Java

    /// `JAVA_TOOL_OPTIONS` for a JVM: a PKCS#12 truststore holding the JVM's default roots plus
    /// the CA (made once with the JDK's `keytool`, again when the CA changes), and the proxy
    /// properties, which `HttpClient` and `HttpsURLConnection` read. Nil, with the reason, when
    /// no JDK is found.
    public static func javaOptions(_ authority: CertificateAuthority, proxyPort: Int?) -> Result<String, ServerError> {
        let store = (ClientEnvironment.absolute(authority.directory) as NSString).appendingPathComponent("truststore.p12")
        do {
            try makeTruststore(authority, at: store)
        } catch let error as ServerError {
            return .failure(error)
        } catch {
            return .failure(.outsideClient("\(error)", remedy: ServerError.trustYourself(authority)))
        }
        var options = ["-Djavax.net.ssl.trustStore=\(store)", "-Djavax.net.ssl.trustStorePassword=\(truststorePassword)",
                       "-Djavax.net.ssl.trustStoreType=PKCS12"]
        if let proxyPort {
            options += ["-Dhttps.proxyHost=127.0.0.1", "-Dhttps.proxyPort=\(proxyPort)", "-Dhttp.proxyHost=127.0.0.1",
                        "-Dhttp.proxyPort=\(proxyPort)", "-Dhttp.nonProxyHosts=localhost|127.*|[::1]"]
        }
        return .success(options.joined(separator: " "))
    }

    /// Not a secret: a truststore holds only public certificates; Java wants a password all the same.
    static let truststorePassword = "insight-replay"

    /// Whether a command starts a JVM, also inside `sh -c` text (the truststore is made only
    /// then: it costs a JVM start of its own, once).
    public static func isJava(_ arguments: [String]) -> Bool {
        let launchers: Set<String> = ["java", "jshell", "jbang", "mvn", "gradle", "gradlew", "kotlin", "scala", "sbt"]
        return arguments.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "&" || $0 == "|" }) }
            .contains { launchers.contains((String($0) as NSString).lastPathComponent) }
    }

    static func makeTruststore(_ authority: CertificateAuthority, at store: String) throws {
        let manager = FileManager.default
        let caDate = (try? manager.attributesOfItem(atPath: authority.certificatePath)[.modificationDate] as? Date) ?? .distantPast
        if let made = try? manager.attributesOfItem(atPath: store)[.modificationDate] as? Date, made >= caDate { return }
        guard let keytool = ProgramPath.find("keytool") else {
            throw ServerError.outsideClient("no JDK found (keytool is not on the PATH)", remedy: "install one, or \(ServerError.trustYourself(authority))")
        }
        let partial = store + ".partial"
        try? manager.removeItem(atPath: partial)
        let arguments = ["-importcert", "-noprompt", "-alias", "insight-replay-local-ca", "-file", ClientEnvironment.absolute(authority.certificatePath),
                         "-keystore", partial, "-storetype", "PKCS12", "-storepass", truststorePassword]
        if let roots = javaDefaultRoots(keytool: keytool) {
            try run(keytool, ["-importkeystore", "-noprompt", "-srckeystore", roots, "-srcstorepass", "changeit",
                              "-destkeystore", partial, "-deststoretype", "PKCS12", "-deststorepass", truststorePassword])
        }
        try run(keytool, arguments)
        // rename(2) replaces the old truststore at once: a JVM never reads half of one.
        guard rename(partial, store) == 0 else {
            throw ServerError.outsideClient("cannot move the truststore into place at \(store): \(String(cString: strerror(errno)))", remedy: ServerError.writable)
        }
    }

    /// The JVM's own `lib/security/cacerts`, beside the JDK that holds `keytool`.
    static func javaDefaultRoots(keytool: String) -> String? {
        let real = URL(fileURLWithPath: keytool).resolvingSymlinksInPath()
        let home = real.deletingLastPathComponent().deletingLastPathComponent()
        let cacerts = home.appendingPathComponent("lib/security/cacerts").resolvingSymlinksInPath().path
        return FileManager.default.isReadableFile(atPath: cacerts) ? cacerts : nil
    }

    static func run(_ program: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ServerError.outsideClient("\((program as NSString).lastPathComponent) \(arguments.first ?? "") failed (exit \(process.terminationStatus)): \(text.trimmingCharacters(in: .whitespacesAndNewlines))",
                                    remedy: "run it by hand to see why, or trust the CA in your JVM yourself")
        }
    }

    static func writeIfChanged(_ text: String, folder: String, name: String) throws {
        let path = (folder as NSString).appendingPathComponent(name)
        if (try? String(contentsOfFile: path, encoding: .utf8)) == text { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}


/// A program on the PATH, as a shell finds it.
public enum ProgramPath {
    public static func find(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for folder in (path ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
