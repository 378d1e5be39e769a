import Foundation
import InsightClient
import InsightCore
import InsightEmulator
@testable import InsightDriver
@testable import InsightScenario
import Testing

/// `insight-replay diagnose`: a customer's settings, the right diagnosis and the exact remedy,
/// and never a key in what it prints.
@Suite struct DiagnoseTests {
    static func catalogue(_ name: String) throws -> Scenario {
        try ScenarioLoader.loadFile(catalogueFile(name))
    }

    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    static func settings(url: String? = nil, storageRegion: String? = nil, triggerURL: String? = nil,
                         token: Diagnose.Credential? = nil) -> Diagnose.Settings {
        var settings = Diagnose.Settings()
        settings.url = url
        settings.storageRegion = storageRegion
        settings.triggerURL = triggerURL
        settings.token = token
        return settings
    }

    /// The ticket of the issue: "Authentication failed", URL us, the key is from us3.
    @Test func theCustomersKeyFromUS3OnTheUSURL() async throws {
        let keys = Diagnose.demoKeys(DemoWorld.tenants(now: Self.now))
        let secret = try #require(keys["demo-us3-user"])
        let (outcome, secrets) = try await Diagnose.demo(Self.settings(url: "https://us.api.insight.rapid7.com", token: .secret(secret)), now: Self.now)
        #expect(outcome.diagnosis?.category == .wrongRegionalURL)
        #expect(outcome.exitCode == 1)
        let text = Diagnose.text(outcome, secrets: secrets)
        #expect(text.contains("result: PROBLEM: Wrong Regional URL (wrong_regional_url)"))
        #expect(text.contains("  - Set URL to https://us3.api.insight.rapid7.com\n"))
        #expect(text.contains("  Token: 36 characters, not shown"))
        #expect(text.contains("GET us3.api.insight.rapid7.com/validate → 200"))
        #expect(!text.contains(secret))
        let json = try #require(JSON(data: Data(Diagnose.json(outcome, secrets: secrets).utf8)))
        #expect(json["diagnosis"]?["category"]?.stringValue == "wrong_regional_url")
        #expect(json["diagnosis"]?["remedies"]?.arrayValue?.first?.stringValue == "Set URL to https://us3.api.insight.rapid7.com")
        #expect(json["ok"]?.boolValue == false)
        #expect(!Diagnose.json(outcome, secrets: secrets).contains(secret))
    }

    @Test func rightSettingsAreOK() async throws {
        let (outcome, _) = try await Diagnose.demo(Self.settings(url: "https://us2.api.insight.rapid7.com", token: .key("demo-us2-user")), now: Self.now)
        #expect(outcome.ok, "\(String(describing: outcome.diagnosis))")
        #expect(outcome.exitCode == 0)
        #expect(outcome.findings.first == "the key is accepted by https://us2.api.insight.rapid7.com/validate (region us2, United States 2)")
        #expect(outcome.findings.last?.hasPrefix("one sync: 120 investigation(s), 240 alert(s)") == true)
    }

    /// A pasted space is evidence: said in the settings (never the key) and in the diagnosis.
    @Test func whitespaceAroundTheKey() async throws {
        let keys = Diagnose.demoKeys(DemoWorld.tenants(now: Self.now))
        let secret = try #require(keys["demo-eu-user"])
        let (outcome, secrets) = try await Diagnose.demo(Self.settings(url: "https://eu.api.insight.rapid7.com", token: .secret(secret + " ")), now: Self.now)
        #expect(outcome.diagnosis?.category == .authenticationFailed)
        let text = Diagnose.text(outcome, secrets: secrets)
        #expect(text.contains("Token: 37 characters, not shown (whitespace after it)"))
        #expect(!text.contains(secret))
    }

    @Test func theAuditAndTriggerSettingsOfTheDemo() async throws {
        let audit = try await Diagnose.demo(Self.settings(storageRegion: "United States - 3", token: .key("demo-us3-org")), now: Self.now).0
        #expect(audit.ok, "\(String(describing: audit.diagnosis))")
        #expect(audit.findings.first?.hasPrefix("one pull: 100 audit event(s)") == true)
        let wrong = try await Diagnose.demo(Self.settings(storageRegion: "us", token: .key("demo-us3-org")), now: Self.now).0
        #expect(wrong.diagnosis?.category == .wrongRegionalURL)
        #expect(wrong.diagnosis?.remedies.first?.hasPrefix("Set the storage region to us3") == true)
    }

    /// Each troubleshooting case of seeds/000, and those of seeds/002 and /003, from the
    /// catalogue scenario that stages it: the right category and the specific remedy first.
    @Test(arguments: [
        ("auth-failed-wrong-key", DiagnosisCategory.authenticationFailed, "Copy the key again from Settings → API Keys, or generate a new one"),
        ("auth-failed-user-deactivated", .authenticationFailed, "Reactivate the service user, or create a new one and a key for it"),
        ("insufficient-permissions-no-log-search-role", .insufficientPermissions, "Ensure the service user has the role \"Log Search View Only\" and access to the Insight IDR product"),
        ("no-data-no-log-sources", .noDataSyncing, "Add an event source in InsightIDR (Data Collection): Log Search lists no logs"),
        ("no-data-initial-sync", .noDataSyncing, "Allow up to 15 minutes for initial data sync: sync again after 2026-01-01T00:15:00Z (15 min)"),
        ("service-user-email-changed", .serviceUserAccountProblems, "Recreate the service user (or find it under its new email) and generate a new key for it"),
        ("api-key-expired", .apiKeyIssues, "Generate a new API key for the service user and update it in the integration settings"),
        ("insufficient-permissions-no-product", .insufficientPermissions, "Assign the service user to the Insight IDR product"),
        ("wrong-url-path-component", .wrongRegionalURL, "Set URL to https://us2.api.insight.rapid7.com (remove /api/3)"),
        ("wrong-region-key-from-us3", .wrongRegionalURL, "Set URL to https://us3.api.insight.rapid7.com"),
        ("api-key-revoked-mid-sync", .apiKeyIssues, "Generate a new API key for the service user and update it in the integration settings"),
        ("service-user-locked", .serviceUserAccountProblems, "Unlock the account if it was locked"),
        ("service-user-suspended", .serviceUserAccountProblems, "Reactivate the account if it was suspended"),
        ("audit-wrong-storage-region", .wrongRegionalURL, "Set the storage region to us3 (United States 3), the Data Storage Region of Settings → Audit Log"),
        ("audit-logging-not-enabled", .auditLoggingNotEnabled, "Enable audit logging in Rapid7 (Settings → Audit Log)"),
        ("notify-trigger-url-other-region", .incorrectIntegrationParameters, "Use the API URL of the workflow in us3: https://us3.api.insight.rapid7.com/connect/v1/workflows/5e2b1c4d-6a7f-4b8c-9d0e-1f2a3b4c5d6e/events/execute"),
        ("notify-auto-disable", .integrationDisabled, "Fix what makes the requests fail (see the failures' diagnoses)"),
    ] as [(String, DiagnosisCategory, String?)])
    func theCatalogueCases(name: String, category: DiagnosisCategory, remedy: String?) async throws {
        let (outcome, secrets) = try await Diagnose.scenario(try Self.catalogue(name), settings: Diagnose.Settings())
        #expect(outcome.diagnosis?.category == category, "\(name): \(String(describing: outcome.diagnosis))")
        if let remedy { #expect(outcome.diagnosis?.remedies.first == remedy, "\(name)") }
        let text = Diagnose.text(outcome, secrets: secrets)
        for secret in secrets { #expect(!text.contains(secret)) }
        #expect(!text.contains("svc-integration@") && !text.contains("svc@example.com"))
    }

    /// The scenario's tenant with the customer's own URL: the key of us3 typed on us.
    @Test func aScenarioWithTheCustomersURL() async throws {
        var settings = Diagnose.Settings()
        settings.url = "https://eu.api.insight.rapid7.com"
        let (outcome, _) = try await Diagnose.scenario(try Self.catalogue("happy-path-us2-sync"), settings: settings)
        #expect(outcome.diagnosis?.category == .wrongRegionalURL)
        #expect(outcome.diagnosis?.remedies.first == "Set URL to https://us2.api.insight.rapid7.com")
    }

    @Test func badInputIsNamed() async throws {
        var both = Self.settings(url: "https://us.api.insight.rapid7.com", storageRegion: "us", token: .key("demo-us-user"))
        await #expect(throws: DriverError.self) { try await Diagnose.demo(both) }
        both.storageRegion = nil
        both.token = .key("demo-zz-user")
        do {
            _ = try await Diagnose.demo(both)
            Issue.record("an unknown key id was accepted")
        } catch {
            let error = error as? DriverError
            #expect(error?.problem == "--key demo-zz-user: no such key")
            #expect(error?.remedy.hasPrefix("give one of the tenant's keys: demo-ap-org") == true)
        }
        do {
            _ = try Diagnose.product(Self.settings(url: "https://us.api.insight.rapid7.com", token: .key("demo-us-user")), keys: nil)
            Issue.record("a key id was accepted for a network target")
        } catch {
            #expect(error.description.contains("for --server and --live give the key itself"))
        }
        await #expect(throws: DriverError.self) {
            try await Diagnose.scenario(try Self.catalogue("happy-path-us2-sync"), settings: Self.settings(storageRegion: "us"))
        }
    }

    @Test func liveSendsReadOnlyCalls() {
        func request(_ method: String, _ path: String) -> HTTPRequest {
            HTTPRequest(method: method, host: "us.api.insight.rapid7.com", path: path)
        }
        #expect(ReadOnlyTransport.reads(request("GET", "/validate")))
        #expect(ReadOnlyTransport.reads(request("POST", "/idr/v1/accounts/_search")))
        #expect(ReadOnlyTransport.reads(request("POST", "/idr/at/alerts/ops/search")))
        #expect(!ReadOnlyTransport.reads(request("POST", "/connect/v1/workflows/x/events/execute")))
        #expect(!ReadOnlyTransport.reads(request("PUT", "/idr/v2/investigations/x/status/CLOSED")))
    }

    /// A network that fails every request to a host one way (DNS, TLS …), as a support
    /// engineer's machine without DNS or behind an intercepting proxy does.
    struct FailingNetwork: HTTPTransport {
        let kind: TransportFailure.Kind
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            throw CoreError.transport(kind, host: request.host, detail: kind == .tlsFailed ? "serverCertificateUntrusted" : "")
        }
    }

    @Test(arguments: [TransportFailure.Kind.nameResolution, .tlsFailed, .connectionRefused, .timedOut])
    func aLiveCheckThatCannotReachRapid7SaysSoAndBlamesNoSetting(kind: TransportFailure.Kind) async throws {
        let key = "0b8e2d4c-1a3f-4e5d-8c7b-6a5f4e3d2c1b"
        let product = Diagnose.Product.idr(url: "https://us.api.insight.rapid7.com", token: key, serviceUser: nil, adminToken: nil)
        let outcome = await Diagnose.live(product, network: FailingNetwork(kind: kind), timeoutRetry: RetryPolicy(maxAttempts: 1))
        #expect(outcome.exitCode == 3)
        #expect(outcome.diagnosis == nil)
        #expect(outcome.notChecked?.host == "us.api.insight.rapid7.com")
        let text = Diagnose.text(outcome, secrets: product.secrets)
        #expect(text.contains("result: NOT CHECKED: this machine could not reach Rapid7"))
        #expect(text.contains("HTTPS_PROXY"))
        #expect(!text.contains("Wrong Regional URL") && !text.contains("[confirmed]") && !text.contains(key))
        if kind == .tlsFailed { #expect(text.contains("intercepts TLS")) }
        let json = Diagnose.json(outcome, secrets: product.secrets)
        #expect(json.contains("\"not_checked\"") && json.contains("\"diagnosis\" : null"), "\(json)")
    }

    /// A host that is not Rapid7's (a typo) stays the customer's wrong URL.
    @Test func aTypoedHostIsStillTheCustomersWrongURL() async throws {
        #expect(!Diagnose.LocalLimit.isRapid7("us4.api.insight.rapid7.com"))
        #expect(Diagnose.LocalLimit.isRapid7("US3.API.insight.rapid7.com") && Diagnose.LocalLimit.isRapid7("eu.rest.logs.insight.rapid7.com"))
        let product = Diagnose.Product.audit(storageRegion: "eu", apiKey: "0b8e2d4c-1a3f-4e5d-8c7b-6a5f4e3d2c1b")
        let outcome = await Diagnose.live(product, network: FailingNetwork(kind: .nameResolution), timeoutRetry: RetryPolicy(maxAttempts: 1))
        #expect(outcome.notChecked?.host == "eu.rest.logs.insight.rapid7.com" && outcome.exitCode == 3)
    }
}
