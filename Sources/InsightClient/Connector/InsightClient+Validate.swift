import Foundation
import InsightCore

/// The result of a successful `validate()`.
public struct Validation: Sendable, Hashable {
    public let region: Region
    public let acceptedAt: Date
}

extension InsightClient {
    /// Checks the settings, then `GET /validate` on the configured region (seeds/000 "Verify").
    public func validate() async throws(ClientError) -> Validation {
        let endpoint = try checkedEndpoint()
        let outcome = try await send("GET", host: endpoint.region.platformHost, path: "/validate", token: settings.token)
        switch outcome.response.status {
        case 200:
            let now = clock.now()
            lastAccepted = now
            return Validation(region: endpoint.region, acceptedAt: now)
        case 401:
            throw ClientError(await diagnoseUnauthorized(endpoint, outcome, operation: "validate"))
        case 403:
            throw ClientError(Diagnosis(
                .insufficientPermissions, summary: "The platform refused /validate for this key (403).",
                evidence: ["validate: 403 from \(outcome.url)"]))
        default:
            throw ClientError(unexpected(outcome, operation: "validate"))
        }
    }
}
