import Foundation
import InsightCore

/// Which hosts the proxy answers for, and what it says about the others: it is a stand-in for
/// the Rapid7 hosts, never an open proxy.
public enum ProxyPolicy {
    /// The hosts the emulator serves: every region's platform and Log Search hosts, and the
    /// product console hosts (`us.idr.insight.rapid7.com`), whose region code the reference
    /// says is the prefix of the API host (reference §1).
    public static func isEmulated(host: String) -> Bool {
        Region.lookup(host: host) != nil || consoleRegion(host: host) != nil
    }

    /// The region of a console host `REGION.idr.insight.rapid7.com`, or nil.
    public static func consoleRegion(host: String) -> Region? {
        consoleHosts[host] ?? consoleHosts[host.lowercased()]
    }
    private static let consoleHosts = Dictionary(uniqueKeysWithValues: Region.allCases.map { ($0.consoleHost, $0) })

    public static func isLoopback(host: String) -> Bool {
        let host = host.lowercased()
        return ["localhost", "[::1]", "::1"].contains(host) || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
    }

    /// Every host name the emulator serves, lower case: what the interposer resolves.
    public static let emulatedHosts: [String] = Region.allCases.flatMap { [$0.platformHost, $0.logSearchHost, $0.consoleHost] }

    /// The patterns of allowed hosts, for refusals and `--print-env`.
    public static let allowedPatterns = ["REGION.api.insight.rapid7.com", "REGION.rest.logs.insight.rapid7.com",
                                         "REGION.idr.insight.rapid7.com"]

    /// The answer to a CONNECT or absolute-form request for a host the emulator does not serve.
    static func refusal(target: String) -> HTTPResponse {
        .json(403, [
            "message": .string("insight-replay proxies only the Rapid7 Insight hosts it emulates; \(target) is not one of them"),
            "allowed_hosts": .array(allowedPatterns.map { .string($0) }),
            "regions": .array(Region.allCases.map { .string($0.code) }),
            "hint": "reach other hosts directly: add them to NO_PROXY",
        ])
    }

    /// A console host serves a browser page, not the API: a client that calls it has the wrong
    /// URL. ASSUMED: the real console answers API paths with its HTML shell or a login redirect;
    /// the emulator answers 404 in the platform's error shape and names the API host.
    static func consoleAnswer(host: String) -> HTTPResponse? {
        guard let region = consoleRegion(host: host) else { return nil }
        return .json(404, [
            "message": .string("\(host) is the InsightIDR console, not the API"),
            "hint": .string("call the API at \(region.platformBaseURL)"),
        ])
    }
}

/// Rewrites absolute links to the Rapid7 hosts (`Self`, `Next`, `Location` …) in an answer to a
/// path-prefix request, so a client that follows them stays inside the emulator:
/// `https://us2.rest.logs.insight.rapid7.com/query/…` becomes `BASE/us2.rest.logs.insight.rapid7.com/query/…`,
/// which the server routes by its path prefix.
struct LinkRewriter: Sendable {
    let base: String

    init(base: String) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    func rewrite(_ response: HTTPResponse) -> HTTPResponse {
        var rewritten = response
        if let body = rewrite(bytes: response.body) { rewritten.body = body }
        var headers = InsightCore.HTTPHeaders()
        var changed = false
        for field in response.headers {
            if let bytes = rewrite(bytes: Data(field.value.utf8)) {
                headers.add(field.name, String(decoding: bytes, as: UTF8.self))
                changed = true
            } else {
                headers.add(field.name, field.value)
            }
        }
        if changed { rewritten.headers = headers }
        return rewritten
    }

    private static let scheme = Array("https://".utf8)

    /// The bytes with every `https://HOST` of an emulated host replaced; nil when none occurs.
    /// One pass over the answer: cost follows what is returned.
    func rewrite(bytes: Data) -> Data? {
        let scheme = Self.scheme
        guard bytes.count >= scheme.count else { return nil }
        var output: Data?
        var copied = bytes.startIndex
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index <= end - scheme.count {
            guard bytes[index] == scheme[0], bytes[index..<index + scheme.count].elementsEqual(scheme) else {
                index += 1
                continue
            }
            let hostStart = index + scheme.count
            var hostEnd = hostStart
            while hostEnd < end, Self.isHostByte(bytes[hostEnd]) { hostEnd += 1 }
            let host = String(decoding: bytes[hostStart..<hostEnd], as: UTF8.self)
            guard Region.lookup(host: host) != nil else {
                index = hostEnd
                continue
            }
            if output == nil { output = Data(capacity: bytes.count + 64) }
            output!.append(bytes[copied..<index])
            output!.append(contentsOf: Array("\(base)/\(host.lowercased())".utf8))
            copied = hostEnd
            index = hostEnd
        }
        guard var result = output else { return nil }
        result.append(bytes[copied..<end])
        return result
    }

    private static func isHostByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2e || byte == 0x2d
    }
}
