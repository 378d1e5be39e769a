import Foundation
import InsightClient
import InsightCore
import InsightEmulator

extension Diagnose {
    /// A key as the customer gave it, or (on an emulated target) a tenant key by its id, so a
    /// support engineer can say "the key of demo-us3-user" without ever seeing a secret.
    public enum Credential: Sendable, Hashable {
        case secret(String)
        case key(String)
    }

    /// The settings given on the command line; which product they are follows from the field set.
    public struct Settings: Sendable {
        public var url: String?
        public var storageRegion: String?
        public var triggerURL: String?
        public var token: Credential?
        public var serviceUser: String?
        public var adminToken: Credential?
        public init() {}

        /// The one product these settings describe, or what is wrong with them.
        public var problem: String? {
            let given = [url, storageRegion, triggerURL].compactMap { $0 }.count
            if given > 1 { return "give one product's settings: --url (a SIEM connector), --storage-region (an audit-log pull) or --trigger-url (an InsightConnect trigger), not several" }
            if adminToken != nil, url == nil { return "--admin-key/--admin-token-env go with --url (a SIEM connector)" }
            if serviceUser != nil, url == nil { return "--service-user goes with --url (a SIEM connector)" }
            return nil
        }
    }

    /// Where the settings of each integration are listed.
    static let settingsHelp = "`insight-replay diagnose --help` lists the settings of each integration"

    /// Resolves credentials: a secret as given, a key id through `keys` (an emulated world's).
    static func resolve(_ credential: Credential, keys: [String: String]?, option: String) throws(DriverError) -> String {
        switch credential {
        case .secret(let value): return value
        case .key(let id):
            guard let keys else { throw .input("\(option) \(id): key ids name keys of an emulated tenant", remedy: "for --server and --live give the key itself (--token-env or --token-stdin)") }
            guard let secret = keys[id] else {
                throw .input("\(option) \(id): no such key", remedy: "give one of the tenant's keys: \(keys.keys.sorted().joined(separator: ", "))")
            }
            return secret
        }
    }

    /// The product for a network target or the demo world (`keys`: the demo keys by id).
    public static func product(_ settings: Settings, keys: [String: String]?) throws(DriverError) -> Product {
        if let problem = settings.problem { throw .input(problem, remedy: settingsHelp) }
        func key(_ option: String) throws(DriverError) -> String {
            guard let token = settings.token else {
                throw .input("no key given (\(option))", remedy: "give it with --token-env VAR or --token-stdin\(keys == nil ? "" : ", or --key ID")")
            }
            return try resolve(token, keys: keys, option: "--key")
        }
        if let url = settings.url {
            return .idr(url: url, token: try key("the Token"), serviceUser: settings.serviceUser,
                        adminToken: try settings.adminToken.map { (credential) throws(DriverError) in try resolve(credential, keys: keys, option: "--admin-key") })
        }
        if let region = settings.storageRegion { return .audit(storageRegion: region, apiKey: try key("the API key")) }
        if let url = settings.triggerURL { return .trigger(url: url, apiKey: try key("the API key")) }
        throw .input("no settings given", remedy: "give --url with a token (a SIEM connector), --storage-region (an audit-log pull) or --trigger-url (an InsightConnect trigger)")
    }

    /// The demo world's keys by id (`demo-us3-user` …), made from its fixed seed.
    public static func demoKeys(_ tenants: [Tenant]) -> [String: String] {
        Dictionary(tenants.flatMap { $0.keys.map { ($0.id, $0.secret) } }, uniquingKeysWith: { first, _ in first })
    }

    /// The sequence against the demo world on a virtual clock: every retry and wait in no wall time.
    public static func demo(_ settings: Settings, now: Date = Date()) async throws(DriverError) -> (Outcome, secrets: [String]) {
        let clock = VirtualClock(start: now)
        let tenants = DemoWorld.tenants(now: now)
        let product = try product(settings, keys: demoKeys(tenants))
        let emulator = Emulator(tenants: tenants, clock: clock)
        return (await run(product, transport: emulator, clock: clock, target: "emulator: the demo world (one organization per region)"),
                product.secrets)
    }

    /// A scenario's own tenant, faults, timeline and steps, with the customer's settings in
    /// place of its client's: the case the scenario reproduces, as this customer configured it.
    /// Settings not given keep the scenario's.
    public static func scenario(_ scenario: Scenario, settings: Settings) async throws(DriverError) -> (Outcome, secrets: [String]) {
        if let problem = settings.problem { throw .input(problem, remedy: settingsHelp) }
        var scenario = scenario
        let world = ScenarioWorld(scenario)
        let keys = Dictionary(world.keyIDs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        func token(_ credential: Credential?) throws(DriverError) -> TokenSpec? {
            switch credential {
            case nil: return nil
            case .secret(let value)?: return .literal(value)
            case .key(let id)?:
                guard keys[id] != nil else {
                    throw .input("--key \(id): no such key in \(scenario.file)", remedy: "give one of its keys: \(keys.keys.sorted().joined(separator: ", "))")
                }
                return .key(id, wrap: "")
            }
        }
        let steps = Set(scenario.steps.map(\.family))
        var product: Product
        if settings.storageRegion != nil || (settings.url == nil && settings.triggerURL == nil && steps.contains("audit")) {
            guard var audit = scenario.client.audit, steps.contains("audit") else {
                throw .input("\(scenario.file) has no audit_pull step", remedy: "use an audit-log pull scenario, or --emulate demo")
            }
            if let region = settings.storageRegion { audit.storageRegion = region }
            if let given = try token(settings.token) { audit.token = given }
            scenario.client.audit = audit
            scenario.steps = scenario.steps.filter { $0.family == "audit" || $0.family == "wait" }
            product = .audit(storageRegion: audit.storageRegion, apiKey: world.resolve(audit.token))
        } else if settings.triggerURL != nil || (settings.url == nil && steps.contains("notify")) {
            guard var notifier = scenario.client.notifier, steps.contains("notify") else {
                throw .input("\(scenario.file) has no notifier steps", remedy: "use an InsightConnect trigger scenario, or --emulate demo")
            }
            if let url = settings.triggerURL { notifier.url = url }
            if let given = try token(settings.token) { notifier.token = given }
            scenario.client.notifier = notifier
            scenario.steps = scenario.steps.filter { $0.family == "notify" || $0.family == "wait" }
            product = .trigger(url: notifier.url, apiKey: world.resolve(notifier.token))
        } else {
            guard scenario.client.url != nil || settings.url != nil, steps.contains("idr") else {
                throw .input("\(scenario.file) has no validate or sync step", remedy: "use a SIEM connector scenario, or --emulate demo")
            }
            if let url = settings.url { scenario.client.url = url }
            if let given = try token(settings.token) { scenario.client.token = given }
            if let user = settings.serviceUser { scenario.client.serviceUser = user }
            if let admin = try token(settings.adminToken) { scenario.client.adminToken = admin }
            scenario.client.command = nil
            scenario.steps = scenario.steps.filter { $0.family == "idr" || $0.family == "wait" }
            product = .idr(url: scenario.client.url!, token: scenario.client.token.map(world.resolve) ?? "",
                           serviceUser: scenario.client.serviceUser, adminToken: scenario.client.adminToken.map(world.resolve))
        }
        scenario.expect = Expectations()
        let result = await ScenarioRunner().run(scenario)
        var findings: [String] = []
        if let count = result.syncedInvestigations { findings.append("synced \(count) investigation(s) from \(result.syncedLogSources ?? 0) log(s)") }
        if result.diagnosis == nil, !result.journal.isEmpty, result.journal.allSatisfy({ (200..<300).contains($0.status) }) {
            findings.append("every request was answered 2xx")
        }
        let outcome = Outcome(
            product: product.title, target: "emulator: \(scenario.file) (\(scenario.name); its tenant, faults, timeline and steps)",
            settings: product.settings, diagnosis: result.diagnosis, findings: findings,
            requests: result.journal.map { "\($0.method) \($0.host)\($0.path) → \($0.status)" })
        return (outcome, product.secrets + world.secrets)
    }
}

extension Step {
    /// Which client a step drives: idr (validate, sync), audit, notify, wait, or run.
    var family: String {
        switch self {
        case .validate, .sync, .setToken: return "idr"
        case .auditPull: return "audit"
        case .testNotification, .notify, .notifier: return "notify"
        case .wait: return "wait"
        case .run: return "run"
        }
    }
}
