import Crypto
import Foundation
import InsightCore
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The local certificate authority behind transparent HTTPS: made once, kept beside the store
/// (`.insight-replay/ca/`), and used to issue a leaf certificate for each Rapid7 host a client
/// asks for, on the fly. The client trusts `ca.pem` (or `ca-bundle.pem`, the system's roots plus
/// this one) and keeps certificate checks on.
///
/// Files: `ca.pem` (the CA certificate), `ca-key.pem` (its private key, mode 0600, the folder
/// 0700), `ca-bundle.pem` (the system's CA bundle, when there is one, followed by `ca.pem`).
public final class CertificateAuthority: @unchecked Sendable {
    public let directory: String
    public var certificatePath: String { (directory as NSString).appendingPathComponent("ca.pem") }
    public var keyPath: String { (directory as NSString).appendingPathComponent("ca-key.pem") }
    public var bundlePath: String { (directory as NSString).appendingPathComponent("ca-bundle.pem") }
    /// The CA's subject, as clients show it ("InsightReplay local CA …").
    public var subject: String { certificate.subject.description }

    let certificate: Certificate
    private let privateKey: Certificate.PrivateKey
    /// One key for every leaf of this process: issuing a leaf is then a single signature.
    private let leafKey: Certificate.PrivateKey
    private let nioLeafKey: NIOSSLPrivateKey
    private let lock = NSLock()
    private var leaves: [String: NIOSSLCertificate] = [:]
    private var contexts: [String: NIOSSLContext] = [:]

    /// Where the CA lives for a store path: the folder `ca` beside it.
    public static func directory(besideStore store: String) -> String {
        ((store as NSString).deletingLastPathComponent as NSString).appendingPathComponent("ca")
    }

    private init(directory: String, certificate: Certificate, privateKey: Certificate.PrivateKey) throws {
        self.directory = directory
        self.certificate = certificate
        self.privateKey = privateKey
        let leafKey = P256.Signing.PrivateKey()
        self.leafKey = Certificate.PrivateKey(leafKey)
        nioLeafKey = try NIOSSLPrivateKey(bytes: Array(leafKey.pemRepresentation.utf8), format: .pem)
    }

    /// Loads the CA in `directory`, or makes one there when the folder holds none.
    ///
    /// - Throws: `ServerError` naming the file when a CA is there but cannot be
    ///   read (a damaged or foreign file is never overwritten: `--reset` replaces it on purpose).
    public static func loadOrCreate(directory: String) throws -> CertificateAuthority {
        try locked(directory) { try unlockedLoadOrCreate(directory: directory) }
    }

    /// Two commands started together (`serve &` and `serve --print-env`) must agree on one CA:
    /// making and loading it happen under an exclusive lock on `DIRECTORY/.lock`.
    static func locked<T>(_ directory: String, _ body: () throws -> T) throws -> T {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw ServerError.authority("cannot create \(directory): \(error.localizedDescription)", remedy: ServerError.writable)
        }
        let path = (directory as NSString).appendingPathComponent(".lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServerError.authority("cannot open \(path): \(String(cString: strerror(errno)))", remedy: ServerError.writable) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw ServerError.authority("cannot lock \(path): \(String(cString: strerror(errno)))", remedy: ServerError.writable) }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private static func unlockedLoadOrCreate(directory: String) throws -> CertificateAuthority {
        let manager = FileManager.default
        let certPath = (directory as NSString).appendingPathComponent("ca.pem")
        let keyPath = (directory as NSString).appendingPathComponent("ca-key.pem")
        let hasCert = manager.fileExists(atPath: certPath)
        let hasKey = manager.fileExists(atPath: keyPath)
        if !hasCert && !hasKey { return try create(directory: directory) }
        guard hasCert && hasKey else {
            let missing = hasCert ? keyPath : certPath
            throw ServerError.authority("\(missing) is missing while its pair is there")
        }
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: try String(contentsOfFile: certPath, encoding: .utf8))
        } catch {
            throw ServerError.authority("\(certPath) is not a PEM certificate (\(error))")
        }
        do {
            key = try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: keyPath, encoding: .utf8))
        } catch {
            throw ServerError.authority("\(keyPath) is not a PEM private key (\(error))")
        }
        guard key.publicKey == certificate.publicKey else {
            throw ServerError.authority("\(keyPath) is not the key of \(certPath)")
        }
        let authority = try CertificateAuthority(directory: directory, certificate: certificate, privateKey: key)
        if !manager.fileExists(atPath: authority.bundlePath) { try authority.writeBundle() }
        return authority
    }

    /// Replaces the CA in `directory` with a new one. Clients must trust the new `ca.pem`.
    public static func reset(directory: String) throws -> CertificateAuthority {
        try locked(directory) {
            for name in ["ca.pem", "ca-key.pem", "ca-bundle.pem"] {
                try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            }
            return try create(directory: directory)
        }
    }

    private static func create(directory: String) throws -> CertificateAuthority {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw ServerError.authority("cannot create \(directory): \(error.localizedDescription)", remedy: ServerError.writable)
        }
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let host = ProcessInfo.processInfo.hostName
        let name = try DistinguishedName {
            OrganizationName("InsightReplay")
            CommonName("InsightReplay local CA on \(host) \(Date().iso8601.prefix(10))")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: Self.earliestValidity, notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                // Trusting this CA cannot be abused for other sites: it may only vouch for the
                // Rapid7 Insight hosts and loopback (RFC 5280 name constraints).
                Critical(Self.nameConstraints)
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key)
        let authority = try CertificateAuthority(directory: directory, certificate: certificate, privateKey: key)
        // The key first, private from the moment it exists; the certificate last, so a crash
        // in between leaves "key without certificate", which loading reports, never a CA
        // whose key is lost.
        try writeAtomically(try key.serializeAsPEM().pemString, to: authority.keyPath, mode: 0o600)
        try writeAtomically(try certificate.serializeAsPEM().pemString, to: authority.certificatePath, mode: 0o644)
        try authority.writeBundle()
        return authority
    }

    /// Where the system keeps its roots, so a bundle with ours added still reaches real hosts.
    static let systemBundles = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]

    private func writeBundle() throws {
        var text = ""
        if let system = Self.systemBundles.lazy.compactMap({ try? String(contentsOfFile: $0, encoding: .utf8) }).first {
            text = system.hasSuffix("\n") ? system : system + "\n"
        }
        text += try certificate.serializeAsPEM().pemString + "\n"
        try Self.writeAtomically(text, to: bundlePath, mode: 0o644)
    }

    /// Writes through a temporary file created with `mode` and renamed into place: a reader
    /// never sees half a file, and a key is never readable by others, not even for a moment.
    static func writeAtomically(_ text: String, to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ServerError.authority("cannot write \(path): \(String(cString: strerror(errno)))", remedy: ServerError.writable) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ServerError.authority("cannot write \(path): \(String(cString: strerror(errno)))", remedy: ServerError.writable)
        }
        chmod(path, mode)
    }

    // MARK: Leaves

    /// The leaf certificate for `host`, issued on first use and kept for the process's life.
    /// `localhost` (and no SNI at all) gets one naming localhost, 127.0.0.1 and ::1.
    public func leaf(for host: String) throws -> NIOSSLCertificate {
        let host = host.lowercased()
        if let cached = lock.withLock({ leaves[host] }) { return cached }
        let certificate = try issue(for: host)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let leaf = try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        return lock.withLock {
            if let raced = leaves[host] { return raced }
            leaves[host] = leaf
            return leaf
        }
    }

    /// The names this CA may vouch for: `insight.rapid7.com` and its subdomains, `localhost`,
    /// 127.0.0.0/8 and ::1.
    static let nameConstraints = NameConstraints(
        permittedDNSDomains: ["insight.rapid7.com", "localhost"],
        permittedIPRanges: [ASN1OctetString(contentBytes: [127, 0, 0, 0, 255, 0, 0, 0]),
                            ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1] + [UInt8](repeating: 0xFF, count: 16)))])

    /// Where a new CA's validity starts: 2000-01-01. A client on the emulator's virtual clock
    /// lives at its scenario's `start`, which may be any date, and must find the certificates
    /// valid then. The name constraints keep a long-lived CA from vouching for anything else.
    static let earliestValidity = Date(timeIntervalSince1970: 946_684_800)

    /// When this CA's certificate starts to be valid.
    public var validFrom: Date { certificate.notValidBefore }

    /// Whether the CA issues for `host`: the emulated hosts and localhost only.
    static func mayIssue(for host: String) -> Bool {
        host == "localhost" || ProxyPolicy.isEmulated(host: host)
    }

    func issue(for host: String) throws -> Certificate {
        guard Self.mayIssue(for: host) else {
            throw ServerError.authority("the local CA issues certificates for the Rapid7 Insight hosts and localhost only, not \(host)", remedy: "send only Rapid7 Insight hosts through the emulator (HTTPS_PROXY with NO_PROXY for the rest)")
        }
        let names: [GeneralName] = host == "localhost"
            ? [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
               .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))]
            : [.dnsName(host)]
        let now = Date()
        let authorityKey = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: leafKey.publicKey,
            // From the CA's own start (a client on virtual time may live at a scenario's start,
            // years back); 397 days ahead of now, which outlasts any scenario's span.
            notValidBefore: certificate.notValidBefore, notValidAfter: now.addingTimeInterval(397 * 86_400),
            issuer: certificate.subject, subject: try DistinguishedName { CommonName(host) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: leafKey.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: authorityKey)
            },
            issuerPrivateKey: privateKey)
    }

    /// A server context presenting the leaf for `host` (a CONNECT tunnel's host).
    public func serverContext(for host: String) throws -> NIOSSLContext {
        let host = host.lowercased()
        if let cached = lock.withLock({ contexts[host] }) { return cached }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try leaf(for: host))], privateKey: .privateKey(nioLeafKey))
        let context = try NIOSSLContext(configuration: configuration)
        lock.withLock { contexts[host] = context }
        return context
    }

    /// A server context for a direct TLS port: the leaf follows the client's SNI when it names a
    /// host the emulator serves, else the localhost leaf (a client of `https://127.0.0.1:PORT/us2/…`).
    public func directContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try leaf(for: "localhost"))], privateKey: .privateKey(nioLeafKey))
        configuration.sslContextCallback = { [self] values, promise in
            guard let name = values.serverHostname?.lowercased(), ProxyPolicy.isEmulated(host: name) else {
                promise.succeed(.noChanges)
                return
            }
            do {
                var override = NIOSSLContextConfigurationOverride()
                override.certificateChain = [.certificate(try leaf(for: name))]
                override.privateKey = .privateKey(nioLeafKey)
                promise.succeed(override)
            } catch {
                promise.fail(error)
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

