import Foundation
import InsightCore

/// The two inputs seeds/003 asks for: the API trigger's URL and an API key.
public struct TriggerSettings: Sendable {
    public var url: String
    public var apiKey: String
    public init(url: String, apiKey: String) {
        self.url = url
        self.apiKey = apiKey
    }
}

/// A trigger URL that passed the checks.
public struct TriggerEndpoint: Sendable, Hashable {
    public enum Style: String, Sendable, Hashable {
        /// `/connect/v1/workflows/{id}/events/execute`
        case legacy
        /// `/connect/v1/execute/async/workflows/{id}`
        case async
    }
    public let region: Region
    public let workflowID: String
    public let style: Style
    public let version: Int

    public var path: String {
        switch style {
        case .legacy: return "/connect/v\(version)/workflows/\(workflowID)/events/execute"
        case .async: return "/connect/v\(version)/execute/async/workflows/\(workflowID)"
        }
    }
    public var url: String { "https://\(region.platformHost)\(path)" }

    /// The same trigger on another region's host.
    public func inRegion(_ other: Region) -> TriggerEndpoint {
        TriggerEndpoint(region: other, workflowID: workflowID, style: style, version: version)
    }
}

extension SettingsCheck {
    /// Checks the API URL of seeds/003: https, any regional platform host (us2, us3, aps2 and me1
    /// included — unlike the `.{2}` region pattern one public client uses, reference §7), and
    /// either trigger path style.
    public static func triggerURL(_ text: String) -> Result<TriggerEndpoint, Diagnosis> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        func wrong(_ summary: String, _ evidence: String, remedy: String = "Copy the generated API URL again from the workflow's API Trigger") -> Result<TriggerEndpoint, Diagnosis> {
            .failure(Diagnosis(product: .notifier, .incorrectIntegrationParameters, summary: summary, evidence: [evidence],
                               ranked: [RankedCause(Cause.triggerURLWrong, .confirmed, because: evidence)], remedies: [remedy]))
        }
        guard !trimmed.isEmpty else { return wrong("The API URL is empty.", "API URL field: empty") }
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased()
        else { return wrong("The API URL is not an absolute https URL.", "API URL field: no scheme or host") }
        guard scheme == "https" else {
            return wrong("The API URL uses \(scheme)://; triggers are served over https only.", "URL scheme: \(scheme)",
                         remedy: "Use the https:// URL the API Trigger shows")
        }
        guard let found = Region.lookup(host: host), found.kind == .platform else {
            return wrong("\(host) is not a Rapid7 platform API host.", "host \(host) is not REGION.api.insight.rapid7.com")
        }
        guard components.query == nil, components.fragment == nil else {
            return wrong("The API URL carries a query or fragment.", "URL: \(Redaction.scrub(trimmed))")
        }
        let segments = components.path.split(separator: "/").map(String.init)
        let shapes = "/connect/vN/workflows/{id}/events/execute or /connect/vN/execute/async/workflows/{id}"
        guard segments.count >= 2, segments[0] == "connect", segments[1].hasPrefix("v"), let version = Int(segments[1].dropFirst()) else {
            return wrong("The API URL is not an InsightConnect API trigger URL.", "path \(components.path) is not \(shapes)")
        }
        let rest = Array(segments.dropFirst(2))
        let id: String?
        let style: TriggerEndpoint.Style
        switch rest.count {
        case 4 where rest[0] == "workflows" && rest[2] == "events" && rest[3] == "execute":
            (id, style) = (rest[1], .legacy)
        case 4 where rest[0] == "execute" && rest[1] == "async" && rest[2] == "workflows":
            (id, style) = (rest[3], .async)
        case 3 where rest == ["execute", "async", "workflows"], 2 where rest == ["execute", "async"]:
            (id, style) = (nil, .async)
        case 2 where rest[0] == "workflows", 3 where rest[0] == "workflows" && rest[2] == "events":
            (id, style) = (nil, .legacy)
        default:
            return wrong("The API URL is not an InsightConnect API trigger URL.", "path \(components.path) is not \(shapes)")
        }
        guard let id, id.range(of: "^[A-Za-z0-9-]+$", options: .regularExpression) != nil else {
            return wrong("The API URL is incomplete: it has no workflow id and action.", "path \(components.path) is not \(shapes)")
        }
        return .success(TriggerEndpoint(region: found.region, workflowID: id, style: style, version: version))
    }
}

/// seeds/003 "Disabling and deleting an integration": "disabling just stops sending
/// notifications, which you can at any moment re-enable with the same settings". What becomes
/// of the events that arise, or still wait, while the integration is disabled.
public enum WhileDisabled: String, Sendable, CaseIterable {
    /// ASSUMED default, the seed's plain reading: the settings are kept, the events are not.
    /// Nothing is sent while disabled, then or later (a SOAR flooded with stale alerts on
    /// re-enabling is worse than a gap it is told about); each is counted and named.
    case drop
    /// The events are held and sent once the integration is enabled again (a product that
    /// catches up).
    case queue
}

/// What the 60 % rule ("the percentage of unsuccessful requests reaches 60% in 12 hours")
/// counts as one request.
public enum DisableCounting: String, Sendable, CaseIterable {
    /// ASSUMED default: one notification, its resends included, counted at its outcome. The
    /// seed says Wallarm "resends the request" until a 2xx: a resend is the same request sent
    /// again. (Counting every send would disable an integration whose trigger recovers on the
    /// third attempt: 2 of 3 sends failed.)
    case notifications
    /// Each HTTP send, first attempt and every resend, counted as it is answered.
    case attempts

    /// `notifications`, `requests (sends and resends)`: the unit in messages.
    public var unit: String { self == .notifications ? "notifications" : "requests (sends and resends)" }
}
