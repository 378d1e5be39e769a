import Foundation
import InsightCore

/// The two inputs seeds/000 asks for: the regional base URL and the platform API key.
public struct IntegrationSettings: Sendable {
    public var url: String
    public var token: String

    public init(url: String, token: String) {
        self.url = url
        self.token = token
    }
}

/// A base URL that passed every check: https, a known regional platform host, no path.
public struct PlatformEndpoint: Sendable, Hashable {
    public let region: Region
    public var baseURL: String { region.platformBaseURL }
    public init(region: Region) { self.region = region }
}

/// Checks made before any request, each failure a diagnosis with the seed's remedy.
public enum SettingsCheck {
    /// Checks the URL field (seeds/000 "Wrong Regional URL"): https only, base only, a known
    /// regional platform host. Surrounding whitespace and one trailing slash are tolerated.
    public static func url(_ text: String) -> Result<PlatformEndpoint, Diagnosis> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let example = "https://us2.api.insight.rapid7.com"
        guard !trimmed.isEmpty else {
            return .failure(Diagnosis(
                .wrongRegionalURL, summary: "The URL is empty.",
                evidence: ["URL field: empty"],
                ranked: [RankedCause(Cause.incorrectRegionalEndpoint, .confirmed, because: "no URL was given")],
                remedies: ["Set URL to your region's base URL, e.g. \(example)"]))
        }
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased(), !host.isEmpty
        else {
            let guess = Region(host: trimmed.lowercased().split(separator: "/").first.map(String.init) ?? "")
            return .failure(Diagnosis(
                .wrongRegionalURL, summary: "The URL is not an absolute https URL.",
                evidence: ["URL field: \(trimmed) (no scheme or host)"],
                ranked: [RankedCause(Cause.incorrectRegionalEndpoint, .confirmed, because: "it cannot be parsed as https://HOST")],
                remedies: ["Set URL to \(guess?.platformBaseURL ?? example)"]))
        }
        let path = components.percentEncodedPath
        let hasPath = !(path.isEmpty || path == "/")
        let region = Region(host: host)
        let suggestion = (region ?? consoleRegion(host) ?? apiRegionCode(host).flatMap(Region.init(rawValue:)))?.platformBaseURL

        if scheme != "https" {
            return .failure(Diagnosis(
                .wrongRegionalURL, summary: "The URL uses \(scheme)://; the Rapid7 API is served over https only.",
                evidence: ["URL scheme: \(scheme)"],
                ranked: [RankedCause(Cause.oldEndpointFormat, .confirmed, because: "scheme \(scheme) instead of https")],
                remedies: ["Set URL to \(suggestion ?? example)"]))
        }
        if components.user != nil || components.password != nil || components.query != nil || components.fragment != nil
            || components.port.map({ $0 != 443 }) == true
        {
            return .failure(Diagnosis(
                .wrongRegionalURL, summary: "The URL carries more than a base URL (credentials, port, query or fragment).",
                evidence: ["URL: \(Redaction.scrub(trimmed))"],
                ranked: [RankedCause(Cause.pathComponents, .confirmed, because: "a base URL is https://HOST only")],
                remedies: ["Set URL to \(suggestion ?? example)"]))
        }
        if let region, host == region.logSearchHost {
            return .failure(Diagnosis(
                .wrongRegionalURL, summary: "The URL is the legacy Log Search host, not the platform API base URL.",
                evidence: ["host \(host) is the \(region.code) Log Search (rest.logs) host"],
                ranked: [RankedCause(Cause.oldEndpointFormat, .confirmed, because: "rest.logs hosts predate the platform API")],
                remedies: ["Set URL to \(region.platformBaseURL)"]))
        }
        if let console = consoleRegion(host) {
            return .failure(Diagnosis(
                .wrongRegionalURL, summary: "The URL is the InsightIDR console address, not the API base URL.",
                evidence: ["host \(host) is the \(console.code) console"],
                ranked: [RankedCause(Cause.oldEndpointFormat, .confirmed, because: "console hosts do not serve the API")],
                remedies: ["Set URL to \(console.platformBaseURL)"]))
        }
        guard let region else {
            if let code = apiRegionCode(host) {
                let known = Region.allCases.map(\.code).joined(separator: ", ")
                return .failure(Diagnosis(
                    .wrongRegionalURL, summary: "'\(code)' is not a Rapid7 region.",
                    evidence: ["host \(host): region code \(code) is unknown (known: \(known))"],
                    ranked: [RankedCause(Cause.incorrectRegionalEndpoint, .confirmed, because: "no region \(code)")],
                    remedies: ["Set URL to your region's base URL; your region is the first part of your InsightIDR console URL (us2.idr.insight.rapid7.com → \(example))"]))
            }
            return .failure(Diagnosis(
                .wrongRegionalURL, summary: "\(host) is not a Rapid7 Insight API host.",
                evidence: ["host \(host) is not REGION.api.insight.rapid7.com"],
                ranked: [RankedCause(Cause.incorrectRegionalEndpoint, .confirmed, because: "unknown host")],
                remedies: ["Set URL to your region's base URL, e.g. \(example)"]))
        }
        if hasPath {
            return .failure(Diagnosis(
                .wrongRegionalURL, summary: "The URL has the path component \(path); use the base URL only.",
                evidence: ["URL path: \(path)"],
                ranked: [RankedCause(Cause.pathComponents, .confirmed, because: "path \(path) after the host")],
                remedies: ["Set URL to \(region.platformBaseURL) (remove \(path))"]))
        }
        return .success(PlatformEndpoint(region: region))
    }

    /// Checks the Token field: not empty, no whitespace around or inside it, shaped like a
    /// platform API key (a UUID). The token itself never appears in the diagnosis.
    public static func token(_ token: String) -> Diagnosis? {
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            return Diagnosis(
                .authenticationFailed, summary: "The token is empty.",
                evidence: ["Token field: empty"],
                ranked: [RankedCause(Cause.keyIncorrectOrExpired, .confirmed, because: "no key was given")],
                remedies: ["Paste the platform API key into the Token field"])
        }
        if trimmed != token {
            let leading = token.prefix { $0.isWhitespace }.count
            let trailing = token.reversed().prefix { $0.isWhitespace }.count
            return Diagnosis(
                .authenticationFailed, summary: "The token has extra whitespace around it.",
                evidence: ["Token field: \(leading) leading and \(trailing) trailing whitespace characters"],
                ranked: [RankedCause("API key copied with extra spaces", .confirmed, because: "whitespace around the key"),
                         RankedCause(Cause.keyIncorrectOrExpired, .likely)],
                remedies: ["Remove the spaces or line breaks around the token and save again"])
        }
        if trimmed.contains(where: \.isWhitespace) || !Redaction.isKeyShaped(trimmed) {
            return Diagnosis(
                .authenticationFailed, summary: "The token does not look like a Rapid7 platform API key.",
                evidence: ["Token field: \(trimmed.count) characters; a platform key is 36 (8-4-4-4-12 hexadecimal)"],
                ranked: [RankedCause(Cause.keyIncorrectOrExpired, .confirmed, because: "not the shape of a platform key")],
                remedies: ["Copy the whole key from Settings → API Keys; if it was lost, generate a new one"])
        }
        return nil
    }

    private static func consoleRegion(_ host: String) -> Region? {
        Region.allCases.first { host == $0.consoleHost }
    }

    /// `xx` of `xx.api.insight.rapid7.com`.
    private static func apiRegionCode(_ host: String) -> String? {
        let suffix = ".api.insight.rapid7.com"
        guard host.hasSuffix(suffix) else { return nil }
        let code = String(host.dropLast(suffix.count))
        return code.isEmpty || code.contains(".") ? nil : code
    }
}
