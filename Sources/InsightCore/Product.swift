/// The three integrations the seeds describe. A diagnosis is made for one of them, and lists
/// only its causes and remedies: an audit-log pull has no URL to strip a path from, a SIEM
/// connector no workflow to activate.
public enum Product: String, CaseIterable, Sendable, Codable, Hashable {
    /// seeds/000: a SIEM connector configured with a regional URL and a token.
    case siemConnector = "siem"
    /// seeds/002: a log platform pulling audit logs with a storage region and an API key.
    case auditPull = "audit"
    /// seeds/003: a security product notifying an InsightConnect API trigger (API URL + API key).
    case notifier

    /// Words that name this product's settings and nothing of the others': a diagnosis made for
    /// another product never uses them (the catalogue tests check every category and run).
    public var settingWords: [String] {
        switch self {
        case .siemConnector:
            return ["Set URL", "URL is base only", "path components", "console URL", "service user", "old API endpoint format",
                    "Insight IDR product", "incorrect regional endpoint"]
        case .auditPull: return ["storage region", "Data Storage Region", "Audit Log", "organization key"]
        case .notifier: return ["API trigger", "workflow", "Test integration", "New User Key"]
        }
    }

    /// The other products' setting words found in a diagnosis's causes and remedies.
    public func foreignWords(in diagnosis: Diagnosis) -> [String] {
        let texts = diagnosis.remedies + diagnosis.causes.map(\.text)
        return Product.allCases.filter { $0 != self }.flatMap(\.settingWords).filter { word in
            texts.contains { $0.localizedCaseInsensitiveContains(word) }
        }
    }

    public var title: String {
        switch self {
        case .siemConnector: return "SIEM connector (URL + token)"
        case .auditPull: return "audit-log pull (storage region + API key)"
        case .notifier: return "InsightConnect trigger notifier (API URL + API key)"
        }
    }
}

extension CatalogueEntry {
    /// The products a row can arise for: the seeds/003 rows for the notifier only, audit logging
    /// for the audit-log pull only, the rest for every product.
    public var products: [Product] {
        switch category {
        case .auditLoggingNotEnabled: return [.auditPull]
        case .incorrectIntegrationParameters, .integrationDisabled, .integrationDeleted: return [.notifier]
        case .noDataSyncing: return [.siemConnector, .auditPull]
        default: return Product.allCases
        }
    }

    /// The row's causes in the product's terms (the seed's own rows are the SIEM connector's).
    public func causes(for product: Product) -> [String] {
        Self.byProduct[category]?[product]?.causes ?? causes
    }

    /// The row's solutions in the product's terms.
    public func solutions(for product: Product) -> [String] {
        Self.byProduct[category]?[product]?.solutions ?? solutions
    }

    struct ProductRow {
        var causes: [String]?
        var solutions: [String]
    }

    /// Where the seeds/000 rows name a SIEM connector's settings (its URL, its service user),
    /// the audit-log pull (seeds/002) and the notifier (seeds/003) get their own words. A row
    /// not listed here is the same for every product (rate limits, server errors), or belongs
    /// to one product only.
    static let byProduct: [DiagnosisCategory: [Product: ProductRow]] = [
        .authenticationFailed: [
            .auditPull: ProductRow(
                causes: [Cause.keyIncorrectOrExpired, Cause.keyOwnerInactive, Cause.wrongStorageRegion],
                solutions: [
                    "Verify the API key is copied correctly (no extra spaces)",
                    "Check that the storage region is the Data Storage Region of Settings → Audit Log",
                    "Generate a new organization key if the current one is lost or compromised",
                ]),
            .notifier: ProductRow(
                causes: [Cause.triggerKeyRejected, Cause.triggerURLWrong],
                solutions: [
                    "Verify the API key is copied correctly (no extra spaces)",
                    "Copy the API URL of the workflow's API trigger again: it names the workflow's region",
                    "Generate a new user key (Settings → API Keys → New User Key) and paste it into the API key field",
                ]),
        ],
        .insufficientPermissions: [
            .auditPull: ProductRow(
                causes: [Cause.auditNeedsAdmin],
                solutions: [
                    "Use an organization key (Administrator API Keys → Generate New Organization Key)",
                    "Or use the user key of a Platform Admin",
                ]),
            .notifier: ProductRow(
                causes: [Cause.triggerKeyRejected],
                solutions: ["Use the user key of a user with access to InsightConnect and the workflow"]),
        ],
        .noDataSyncing: [
            .auditPull: ProductRow(
                causes: [Cause.noEventsYet, Cause.auditLoggingOff],
                solutions: [
                    "Check that audit logging is still enabled (Settings → Audit Log)",
                    "Check that activity happens in the organization (logins, changes)",
                ]),
        ],
        .wrongRegionalURL: [
            .auditPull: ProductRow(
                causes: [Cause.wrongStorageRegion],
                solutions: [
                    "Set the storage region to the Data Storage Region shown in Settings → Audit Log (e.g. us3 or United States - 3)",
                ]),
            .notifier: ProductRow(
                causes: [Cause.triggerURLWrong],
                solutions: ["Copy the API URL of the workflow's API trigger again: it names the workflow's region"]),
        ],
        .apiKeyIssues: [
            .auditPull: ProductRow(
                causes: [Cause.keyRevoked, Cause.keyExpiredOrDeleted],
                solutions: [
                    "Check in Administrator API Keys that the key still exists and is active",
                    "Generate a new organization key if needed",
                    "Update the API key in the audit-log pull's settings",
                ]),
            .notifier: ProductRow(
                causes: [Cause.keyRevoked, Cause.keyExpiredOrDeleted],
                solutions: [
                    "Check in Settings → API Keys that the key still exists and is active",
                    "Generate a new user key if needed and paste it into the API key field",
                ]),
        ],
        .serviceUserAccountProblems: [
            .auditPull: ProductRow(
                causes: [Cause.keyOwnerInactive],
                solutions: ["Log in as admin and check that the key's user exists and is Active, or use an organization key"]),
            .notifier: ProductRow(
                causes: [Cause.keyOwnerInactive],
                solutions: ["Log in as admin and check that the key's user exists and is Active, or generate a key for an active user"]),
        ],
    ]
}
