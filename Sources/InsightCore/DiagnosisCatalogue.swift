/// The troubleshooting categories of seeds/000 ("Troubleshooting"), plus the two the platform
/// adds on its own: rate limited and service unavailable.
public enum DiagnosisCategory: String, CaseIterable, Sendable, Codable, Hashable {
    case authenticationFailed = "authentication_failed"
    case insufficientPermissions = "insufficient_permissions"
    case noDataSyncing = "no_data_syncing"
    case wrongRegionalURL = "wrong_regional_url"
    case apiKeyIssues = "api_key_issues"
    case serviceUserAccountProblems = "service_user_account_problems"
    case rateLimited = "rate_limited"
    case serviceUnavailable = "service_unavailable"
    /// seeds/002 Step 1: the audit log has to be enabled before anything can be pulled.
    case auditLoggingNotEnabled = "audit_logging_not_enabled"
    /// seeds/003 "System unavailability and incorrect integration parameters".
    case incorrectIntegrationParameters = "incorrect_integration_parameters"
    /// seeds/003: failures reached 60% in 12 hours and the integration disabled itself.
    case integrationDisabled = "integration_disabled"
    /// seeds/003 "Disabling and deleting an integration": a user deleted it on purpose; not a
    /// misconfiguration, and nothing is sent any more.
    case integrationDeleted = "integration_deleted"
    /// Not the platform's: a scenario's recording holds no answer for a request the client made
    /// (the emulator answers 501 with `X-Insight-Replay-Miss`).
    case replayMiss = "replay_miss"

    /// The catalogue entry: title, possible causes and solutions.
    public var entry: CatalogueEntry { CatalogueEntry.all[self]! }
}

/// One troubleshooting row: its title, possible causes and solutions, in the seed's own words.
public struct CatalogueEntry: Sendable, Hashable {
    /// Set once the table is built (the key it is filed under).
    public private(set) var category: DiagnosisCategory = .serviceUnavailable
    public let title: String
    public let causes: [String]
    public let solutions: [String]
    /// Where the row comes from.
    public let source: String

    init(title: String, causes: [String], solutions: [String], source: String) {
        self.title = title
        self.causes = causes
        self.solutions = solutions
        self.source = source
    }

    static let all: [DiagnosisCategory: CatalogueEntry] = Dictionary(uniqueKeysWithValues: rows.map { category, row in
        var entry = row
        entry.category = category
        return (category, entry)
    })

    private static let rows: [DiagnosisCategory: CatalogueEntry] = [
        .authenticationFailed: CatalogueEntry(
            title: "Authentication Failed",
            causes: [Cause.keyIncorrectOrExpired, Cause.userDeactivated, Cause.wrongRegionalURL],
            solutions: [
                "Verify the API key is copied correctly (no extra spaces)",
                "Check that the service user account is still active",
                "Confirm you're using the correct regional URL for your instance",
                "Generate a new API key if the current one is lost or compromised",
            ],
            source: "SIEM connector guide, Troubleshooting: Authentication Failed"),
        .insufficientPermissions: CatalogueEntry(
            title: "Insufficient Permissions",
            causes: [Cause.missingRoles, Cause.noProductAccess, Cause.rolesChanged],
            solutions: [
                "Log in as admin and verify user roles",
                "Ensure user has both \"Insight IDR Analyst\" and \"Log Search View Only\" roles",
                "Verify user is assigned to Insight IDR product",
                "Check that roles haven't been modified",
            ],
            source: "SIEM connector guide, Troubleshooting: Insufficient Permissions"),
        .noDataSyncing: CatalogueEntry(
            title: "No Data Syncing",
            causes: [Cause.noEventsYet, Cause.initialSyncInProgress, Cause.noLogSources, Cause.rateLimitsReached],
            solutions: [
                "Verify InsightIDR has active log sources",
                "Allow up to 15 minutes for initial data sync",
                "Check that collectors are sending data to InsightIDR",
                "Review integration logs for specific errors",
                "Monitor API usage to ensure you're within rate limits",
            ],
            source: "SIEM connector guide, Troubleshooting: No Data Syncing"),
        .wrongRegionalURL: CatalogueEntry(
            title: "Wrong Regional URL",
            causes: [Cause.incorrectRegionalEndpoint, Cause.pathComponents, Cause.oldEndpointFormat],
            solutions: [
                "Verify you're using the correct region (US, US2, US3, EU, CA, AU, AP)",
                "Ensure URL is base only (e.g., https://us2.api.insight.rapid7.com)",
                "Remove any path components like /api/3",
                "Check your InsightIDR console URL to determine your region",
            ],
            source: "SIEM connector guide, Troubleshooting: Wrong Regional URL"),
        .apiKeyIssues: CatalogueEntry(
            title: "API Key Issues",
            causes: [Cause.keyRevoked, Cause.passwordChanged, Cause.keyExpiredOrDeleted],
            solutions: [
                "Log in as the service user",
                "Navigate to API Keys management",
                "Check if the key still exists and is active",
                "Generate a new API key if needed",
                "Update the key in the integration settings",
            ],
            source: "SIEM connector guide, Troubleshooting: API Key Issues"),
        .serviceUserAccountProblems: CatalogueEntry(
            title: "Service User Account Problems",
            causes: [Cause.userDeletedOrSuspended, Cause.accountLocked, Cause.emailChanged],
            solutions: [
                "Log in as admin and verify the service user exists",
                "Check the account status is Active",
                "Unlock the account if it was locked",
                "Verify the email address is accessible",
                "Reactivate the account if it was suspended",
            ],
            source: "SIEM connector guide, Troubleshooting: Service User Account Problems"),
        .rateLimited: CatalogueEntry(
            title: "Rate Limited",
            causes: [Cause.rateLimitsReached],
            solutions: [
                "Monitor API usage to ensure you're within rate limits",
                "Wait for the window to reset (Retry-After / X-RateLimit-Reset) before retrying",
            ],
            source: "SIEM connector guide, No Data Syncing (API rate limits reached); reference §3 (429, Retry-After)"),
        .serviceUnavailable: CatalogueEntry(
            title: "Service Unavailable",
            causes: [Cause.serverError],
            solutions: [
                "Retry later; the integration retries with backoff on its own",
                "If it persists, contact Rapid7 support with the correlation id",
            ],
            source: "reference §2 (5xx → SERVICE_UNAVAILABLE in the IDR plugin)"),
        .auditLoggingNotEnabled: CatalogueEntry(
            title: "Audit Logging Not Enabled",
            causes: [Cause.auditLoggingOff],
            solutions: [
                "Enable audit logging in Rapid7 (Settings → Audit Log)",
                "Copy the Data Storage Region value and use it as the storage region",
            ],
            source: "audit-log pull guide, Step 1: Enable audit logging in Rapid7"),
        .incorrectIntegrationParameters: CatalogueEntry(
            title: "Incorrect Integration Parameters",
            causes: [Cause.workflowInactive, Cause.triggerURLWrong, Cause.triggerKeyRejected],
            solutions: [
                "Open Automation → Workflows, check the workflow uses an API Trigger and is active",
                "Copy the generated API URL again into the API URL field",
                "Generate a new user key (Settings → API Keys → New User Key) and paste it into the API key field",
                "Click Test integration to check the configuration",
            ],
            source: "InsightConnect trigger guide, System unavailability and incorrect integration parameters"),
        .integrationDisabled: CatalogueEntry(
            title: "Integration Disabled",
            causes: [Cause.failuresReachedThreshold, Cause.disabledByUser],
            solutions: [
                "Fix what makes the requests fail (see the failures' diagnoses)",
                "Re-enable the integration; its settings were kept",
            ],
            source: "InsightConnect trigger guide: the integration is automatically disabled at 60% unsuccessful requests in 12 hours; disabling stops sending notifications"),
        .integrationDeleted: CatalogueEntry(
            title: "Integration Deleted",
            causes: [Cause.deletedByUser],
            solutions: [
                "Nothing to fix if it was deleted on purpose",
                "To notify InsightConnect again, add the integration anew: its API URL and API key were deleted with it",
            ],
            source: "InsightConnect trigger guide, Disabling and deleting an integration: deleting stops sending notifications and deletes all configuration"),
        .replayMiss: CatalogueEntry(
            title: "Not in the Recording",
            causes: [Cause.notInRecording],
            solutions: [
                "Record the missing exchange against the platform (insight-replay record), or run with --record missing to capture the emulator's answer",
                "If the client should not make this request, fix the client: the recording shows what it made before",
            ],
            source: "InsightReplay: a request the scenario's recordings do not hold (a 501 replay miss); not a Rapid7 answer"),
    ]
}

/// Cause texts, shared between the catalogue and the evidence that ranks them.
public enum Cause {
    public static let keyIncorrectOrExpired = "API key is incorrect or expired"
    public static let userDeactivated = "Service user account was deactivated"
    public static let wrongRegionalURL = "Wrong regional API URL"
    public static let missingRoles = "Service user doesn't have required roles"
    public static let noProductAccess = "User not assigned to Insight IDR product"
    public static let rolesChanged = "Roles were removed or changed"
    public static let noEventsYet = "No security events in InsightIDR yet"
    public static let initialSyncInProgress = "Initial sync still in progress"
    public static let noLogSources = "Log sources not configured"
    public static let rateLimitsReached = "API rate limits reached"
    public static let incorrectRegionalEndpoint = "Using incorrect regional endpoint"
    public static let pathComponents = "Including path components in URL"
    public static let oldEndpointFormat = "Using old API endpoint format"
    public static let keyRevoked = "API key was manually revoked"
    public static let passwordChanged = "Service user password was changed"
    public static let keyExpiredOrDeleted = "Key expired or deleted"
    public static let userDeletedOrSuspended = "Service user was deleted or suspended"
    public static let accountLocked = "Account locked due to failed login attempts"
    public static let emailChanged = "Email address changed or invalid"
    public static let serverError = "The platform answered with a server error (5xx)"
    public static let auditLoggingOff = "Audit logging is not enabled for the organization"
    public static let auditNeedsAdmin = "Audit logs need an organization key or a Platform Admin's user key"
    public static let workflowInactive = "The workflow is not active"
    public static let triggerURLWrong = "The API URL is wrong (another region, or the workflow was deleted)"
    public static let triggerKeyRejected = "The API key is missing, invalid or revoked"
    public static let failuresReachedThreshold = "Unsuccessful requests reached 60% in 12 hours"
    public static let disabledByUser = "A user disabled the integration"
    public static let deletedByUser = "A user deleted the integration"
    public static let notInRecording = "The recording holds no answer for this request"
    public static let wrongStorageRegion = "The storage region is not the organization's Data Storage Region"
    public static let keyOwnerInactive = "The key's user was deactivated, deleted or locked"
}
