import Foundation

/// Every behaviour the three seed documents ask for, a row each: what a scenario names in
/// `covers:` and what `run --coverage` accounts for. Taken from the seeds' own words (the
/// troubleshooting causes, the regional table, the synced data, the schema, the resend cycles);
/// a row's id is `SEED/section/behaviour`.
public struct SeedRow: Sendable, Hashable {
    public let id: String
    /// Where in the seed, in its words.
    public let text: String

    /// The seed document: `000`, `002` or `003`.
    public var seed: String { String(id.prefix { $0 != "/" }) }
}

public enum SeedRows {
    public static let all: [SeedRow] = seed000 + seed002 + seed003

    static let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    public static func row(_ id: String) -> SeedRow? { byID[id] }

    static let seed000: [SeedRow] = [
        .init(id: "000/setup/roles", text: "Step 1 \"Assign Roles\": Insight IDR Analyst and Log Search View Only"),
        .init(id: "000/setup/product", text: "Step 1 \"Assign Product Access\": the Insight IDR product"),
        .init(id: "000/setup/user-key", text: "Step 2 \"Create User Platform API Key\""),
        .init(id: "000/parameters/url-without-path", text: "Step 4 \"URL\": regional base URL (no path components)"),
        .init(id: "000/parameters/token", text: "Step 4 \"Token\": the platform API key from Step 2"),
        .init(id: "000/verify/connected", text: "\"Verify Integration\": the connection shows Connected and security events are synced"),
    ] + ["us", "us2", "us3", "eu", "ca", "au", "ap"].map {
        .init(id: "000/region/\($0)", text: "Step 3 \"Regional URLs\": https://\($0).api.insight.rapid7.com")
    } + [
        .init(id: "000/synced/security-events", text: "\"What Data is Synced\": Security Events (detections and alerts, incidents, investigation findings)"),
        .init(id: "000/synced/user-behavior", text: "\"What Data is Synced\": User Behavior Data (authentication events, activity, anomalies)"),
        .init(id: "000/synced/log-data", text: "\"What Data is Synced\": Log Data (security, authentication, network, endpoint, custom logs)"),
        .init(id: "000/synced/investigation-data", text: "\"What Data is Synced\": Investigation Data (timelines, notes, evidence)"),
        .init(id: "000/auth-failed/key-incorrect-or-expired", text: "\"Authentication Failed\": API key is incorrect or expired"),
        .init(id: "000/auth-failed/user-deactivated", text: "\"Authentication Failed\": Service user account was deactivated"),
        .init(id: "000/auth-failed/wrong-region", text: "\"Authentication Failed\": Wrong regional API URL"),
        .init(id: "000/auth-failed/extra-spaces", text: "\"Authentication Failed\" solution: the API key copied correctly (no extra spaces)"),
        .init(id: "000/permissions/missing-roles", text: "\"Insufficient Permissions\": Service user doesn't have required roles"),
        .init(id: "000/permissions/no-product", text: "\"Insufficient Permissions\": User not assigned to Insight IDR product"),
        .init(id: "000/permissions/roles-removed-or-changed", text: "\"Insufficient Permissions\": Roles were removed or changed"),
        .init(id: "000/no-data/no-events-yet", text: "\"No Data Syncing\": No security events in InsightIDR yet"),
        .init(id: "000/no-data/initial-sync", text: "\"No Data Syncing\": Initial sync still in progress (allow up to 15 minutes)"),
        .init(id: "000/no-data/no-log-sources", text: "\"No Data Syncing\": Log sources not configured"),
        .init(id: "000/no-data/rate-limits", text: "\"No Data Syncing\": API rate limits reached (monitor API usage)"),
        .init(id: "000/wrong-url/wrong-region", text: "\"Wrong Regional URL\": Using incorrect regional endpoint"),
        .init(id: "000/wrong-url/path-components", text: "\"Wrong Regional URL\": Including path components in URL (remove /api/3)"),
        .init(id: "000/wrong-url/old-format", text: "\"Wrong Regional URL\": Using old API endpoint format"),
        .init(id: "000/key-issues/revoked", text: "\"API Key Issues\": API key was manually revoked"),
        .init(id: "000/key-issues/password-changed", text: "\"API Key Issues\": Service user password was changed"),
        .init(id: "000/key-issues/expired-or-deleted", text: "\"API Key Issues\": Key expired or deleted"),
        .init(id: "000/service-user/deleted-or-suspended", text: "\"Service User Account Problems\": Service user was deleted or suspended"),
        .init(id: "000/service-user/locked", text: "\"Service User Account Problems\": Account locked due to failed login attempts"),
        .init(id: "000/service-user/email-changed", text: "\"Service User Account Problems\": Email address changed or invalid"),
        .init(id: "000/key-management/rotate", text: "\"API Key Management\" Rotate Keys: new key, update, verify, delete the old one"),
        .init(id: "000/key-management/revoke-compromised", text: "\"API Key Management\": revoke a compromised key and generate a new one"),
    ]

    static let seed002: [SeedRow] = [
        .init(id: "002/setup/audit-logging", text: "Step 1: enable audit logging in Rapid7"),
        .init(id: "002/setup/storage-region", text: "Step 1 / Step 3 \"Storage Region\": the Data Storage Region, shortened (United States - 3 → us3)"),
        .init(id: "002/setup/org-key", text: "Step 2: an organization key is recommended"),
        .init(id: "002/setup/admin-permissions", text: "Step 2: the key must have Administrator permissions (a user key without them)"),
        .init(id: "002/pull/incremental", text: "Panther pulls the audit logs: each event once, across restarts"),
        .init(id: "002/alert/no-events", text: "\"Trigger an alert when no events are processed\": on by default, after 24 hours (configurable)"),
        .init(id: "002/schema/required", text: "Rapid7.AuditLog required fields: action, audit_id, time (rfc3339)"),
        .init(id: "002/schema/optional", text: "Rapid7.AuditLog optional fields: result, access_method, product, description, request.user"),
        .init(id: "002/schema/service-info", text: "Rapid7.AuditLog service_info: previousEntry, event (type, ids, initiatorIdentification, timestamp unix_ms), type"),
    ]

    static let seed003: [SeedRow] = [
        .init(id: "003/setup/api-key", text: "\"Setting up integration\": an API key (New User Key)"),
        .init(id: "003/setup/api-url", text: "\"Setting up integration\": the API URL of a workflow's API Trigger"),
        .init(id: "003/test-message", text: "\"Test integration\": test notifications with the prefix [Test message]"),
        .init(id: "003/resend/non-2xx", text: "any code other than 2xx is resent until a 2xx is received"),
        .init(id: "003/resend/cycle-1", text: "the first cycle intervals: 1, 3, 5, 10, 10 seconds"),
        .init(id: "003/resend/cycle-2", text: "the second cycle intervals: 0, 1, 3, 5, 30 seconds"),
        .init(id: "003/resend/cycle-3", text: "the third cycle intervals: 1, 1, 3, 5, 10, 30 minutes"),
        .init(id: "003/auto-disable", text: "unsuccessful requests reaching 60% in 12 hours disable the integration automatically"),
        .init(id: "003/incorrect-parameters", text: "\"System unavailability and incorrect integration parameters\": the error code is returned"),
        .init(id: "003/disable-delete", text: "\"Disabling and deleting an integration\": disabling stops sending, deleting removes the configuration"),
    ]
}
