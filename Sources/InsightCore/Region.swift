import Foundation

/// A Rapid7 Insight platform region: its code, the names people type for it, and its hosts.
///
/// Codes and names follow reference/rapid7-api.md §1 (us…ap from the InsightOps REST API
/// overview and the plugin region enums; aps2 and me1 from the InsightVM Cloud doc).
public enum Region: String, CaseIterable, Sendable, Codable, Hashable {
    case us, us2, us3, eu, ca, au, ap, aps2, me1

    /// The regions that seeds/000 lists as regional URLs (the emulator's main seven).
    public static let seedRegions: [Region] = [.us, .us2, .us3, .eu, .ca, .au, .ap]

    public var code: String { rawValue }

    /// The label Rapid7's own plugin enums use ("United States 1" … "Japan").
    public var displayName: String {
        switch self {
        case .us: return "United States 1"
        case .us2: return "United States 2"
        case .us3: return "United States 3"
        case .eu: return "Europe"
        case .ca: return "Canada"
        case .au: return "Australia"
        case .ap: return "Japan"
        case .aps2: return "India"
        case .me1: return "Middle East"
        }
    }

    /// Platform API host, e.g. `us3.api.insight.rapid7.com`. Literals: every request to the
    /// server names one, and a literal is neither made nor counted (RegionTests checks them).
    public var platformHost: String {
        switch self {
        case .us: return "us.api.insight.rapid7.com"
        case .us2: return "us2.api.insight.rapid7.com"
        case .us3: return "us3.api.insight.rapid7.com"
        case .eu: return "eu.api.insight.rapid7.com"
        case .ca: return "ca.api.insight.rapid7.com"
        case .au: return "au.api.insight.rapid7.com"
        case .ap: return "ap.api.insight.rapid7.com"
        case .aps2: return "aps2.api.insight.rapid7.com"
        case .me1: return "me1.api.insight.rapid7.com"
        }
    }
    /// Legacy Log Search host, e.g. `us3.rest.logs.insight.rapid7.com` (literals, as above).
    public var logSearchHost: String {
        switch self {
        case .us: return "us.rest.logs.insight.rapid7.com"
        case .us2: return "us2.rest.logs.insight.rapid7.com"
        case .us3: return "us3.rest.logs.insight.rapid7.com"
        case .eu: return "eu.rest.logs.insight.rapid7.com"
        case .ca: return "ca.rest.logs.insight.rapid7.com"
        case .au: return "au.rest.logs.insight.rapid7.com"
        case .ap: return "ap.rest.logs.insight.rapid7.com"
        case .aps2: return "aps2.rest.logs.insight.rapid7.com"
        case .me1: return "me1.rest.logs.insight.rapid7.com"
        }
    }
    /// The host of a kind.
    public func host(_ kind: HostKind) -> String { kind == .platform ? platformHost : logSearchHost }
    /// The product console host people see in their browser, e.g. `us3.idr.insight.rapid7.com`.
    public var consoleHost: String { "\(code).idr.insight.rapid7.com" }
    /// The base URL integrations are told to use: `https://us3.api.insight.rapid7.com`.
    public var platformBaseURL: String { "https://\(platformHost)" }

    /// Every host the emulator answers for this region.
    public var hosts: [String] { [platformHost, logSearchHost] }

    /// Parses a region from its code or any of the names people type:
    /// "us3", "US3", "United States 3", "United States - 3", "united  states-3", "Europe", "Japan".
    public init?(name: String) {
        let folded = Region.fold(name)
        if folded.isEmpty { return nil }
        if let byCode = Region(rawValue: folded) {
            self = byCode
            return
        }
        guard let match = Region.allCases.first(where: { $0.foldedNames.contains(folded) }) else {
            return nil
        }
        self = match
    }

    /// The kinds of host a region has.
    public enum HostKind: Sendable, Hashable {
        case platform, logSearch
    }

    /// The region and kind of an emulated host (any case), or nil: `CODE.api.insight.rapid7.com`
    /// or `CODE.rest.logs.insight.rapid7.com`. Read from the host's bytes, on every request: no
    /// hashing, no folded copy, and only literals compared (nothing shared to count references on).
    public static func lookup(host: String) -> (region: Region, kind: HostKind)? {
        host.withContiguousUTF8 { bytes -> (Region, HostKind)? in
            let kind: HostKind, code: Slice<UnsafeBufferPointer<UInt8>>
            if let rest = dropSuffixFolded(bytes, ".api.insight.rapid7.com") {
                (kind, code) = (.platform, rest)
            } else if let rest = dropSuffixFolded(bytes, ".rest.logs.insight.rapid7.com") {
                (kind, code) = (.logSearch, rest)
            } else {
                return nil
            }
            for region in allCases where code.equalsFolded(region.staticCode) { return (region, kind) }
            return nil
        }
    }

    /// The code as a literal (`rawValue` is one too, but a `String`).
    private var staticCode: StaticString {
        switch self {
        case .us: return "us"
        case .us2: return "us2"
        case .us3: return "us3"
        case .eu: return "eu"
        case .ca: return "ca"
        case .au: return "au"
        case .ap: return "ap"
        case .aps2: return "aps2"
        case .me1: return "me1"
        }
    }

    /// `bytes` without `suffix` (lower case) at its end, compared ignoring ASCII case; nil when
    /// it does not end so, or is nothing but the suffix.
    private static func dropSuffixFolded(_ bytes: UnsafeBufferPointer<UInt8>, _ suffix: StaticString) -> Slice<UnsafeBufferPointer<UInt8>>? {
        let length = suffix.utf8CodeUnitCount
        guard bytes.count > length, bytes[(bytes.count - length)...].equalsFolded(suffix) else { return nil }
        return bytes[..<(bytes.count - length)]
    }

    /// Which region a host belongs to, if it is one of the emulated hosts.
    public init?(host: String) {
        guard let found = Region.lookup(host: host) else { return nil }
        self = found.region
    }

    private var foldedNames: [String] {
        var names = [displayName]
        switch self {
        case .us: names += ["United States", "United States 1", "US East", "North America"]
        case .us2: names += ["United States 2"]
        case .us3: names += ["United States 3"]
        case .eu: names += ["EU", "European Union"]
        case .ca: names += ["CA"]
        case .au: names += ["AU"]
        case .ap: names += ["Asia Pacific", "AP", "Japan"]
        case .aps2: names += ["Asia Pacific South 2", "India"]
        case .me1: names += ["Middle East", "ME"]
        }
        return names.map(Region.fold)
    }

    /// Lowercases and drops spaces, dashes, underscores and dots, so
    /// "United States - 3" and "united states3" compare equal.
    static func fold(_ text: String) -> String {
        String(text.lowercased().unicodeScalars.filter { !" \t\n-_.".unicodeScalars.contains($0) }
            .map(Character.init))
    }
}
