import Foundation
import InsightCore

/// A 3xx from what the user entered as the platform. Rapid7's API hosts answer JSON and never
/// redirect; the console hosts (`us3.idr.insight.rapid7.com`) and the single sign-on pages send
/// a browser to the login page. A redirect is therefore a wrong URL (the console's or a
/// portal's pasted in place of the API host), never "service unavailable".
///
/// ASSUMED: which hosts and paths are the login page (the public record shows the console
/// and `insight.rapid7.com/login`); a recording's own Location overrides nothing here, it is
/// read as it came.
enum Redirect {
    /// Whether `location` leads to a console or login page.
    static func isLogin(_ location: String) -> Bool {
        guard let url = URL(string: location), let host = url.host?.lowercased() else {
            return location.lowercased().contains("login")
        }
        let consoleOrPortal = host.hasSuffix("insight.rapid7.com") && !host.contains(".api.") && !host.contains(".rest.logs.")
        return consoleOrPortal || url.path.lowercased().contains("login") || host.contains("sso") || host.hasPrefix("login.")
    }

    /// The region a host names, its first label (`us3.idr…`, `us3.api…`), if it names one.
    static func region(of location: String) -> Region? {
        let host = URL(string: location)?.host ?? location
        return host.split(separator: ".").first.flatMap { Region(rawValue: String($0).lowercased()) }
    }

    /// A wrong URL in the product's terms, naming the API host of the region the redirect or
    /// the request names (`requestURL`'s host first: that is the region the user chose).
    static func diagnosis(status: Int, location: String?, requestURL: String, product: Product) -> Diagnosis {
        let target = location ?? "(no Location header)"
        let login = location.map(isLogin) ?? false
        let region = region(of: requestURL) ?? location.flatMap(region(of:))
        let host = region.map(\.platformHost) ?? "REGION.api.insight.rapid7.com"
        let evidence = ["\(requestURL): \(status) → \(target)"]
        let requestHost = URL(string: requestURL)?.host?.lowercased()
        let where_ = login ? "to the console's login page" : "to \(target)"
        let summary = requestHost == host
            ? "\(requestURL) answers \(status) \(where_), which Rapid7's API host never does: something in between (a proxy, a portal) redirects it; the URL must reach \(host) directly."
            : "\(requestURL) answers \(status) \(where_): it is not the API host; the API host is \(host)."
        switch product {
        case .siemConnector:
            return Diagnosis(product: product, .wrongRegionalURL, summary: summary, evidence: evidence,
                             ranked: [RankedCause(Cause.oldEndpointFormat, .confirmed, because: login ? "redirected to the login page" : "redirected"),
                                      RankedCause(Cause.pathComponents, .possible)],
                             remedies: ["Set URL to https://\(host)"])
        case .auditPull:
            return Diagnosis(product: product, .wrongRegionalURL, summary: summary, evidence: evidence,
                             ranked: [RankedCause(Cause.wrongStorageRegion, .likely, because: "redirected")],
                             remedies: region.map { ["Set the storage region to \($0.code) (\($0.displayName))"] } ?? [])
        case .notifier:
            return Diagnosis(product: product, .incorrectIntegrationParameters, summary: summary, evidence: evidence,
                             ranked: [RankedCause(Cause.triggerURLWrong, .confirmed, because: login ? "redirected to the login page" : "redirected")],
                             remedies: ["Copy the API URL of the workflow's API trigger again: it starts https://\(host)/connect/"])
        }
    }
}
