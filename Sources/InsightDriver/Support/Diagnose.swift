import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Logging

/// `insight-replay diagnose`: a customer's settings, exactly as typed, put through the seed
/// client's troubleshooting sequence against a target, and said the way a support engineer
/// pastes it into a ticket: the category in the seed's words, the evidence, the causes ranked,
/// the remedy with the exact corrected value. No key is ever printed; emails are masked.
public enum Diagnose {
    /// Which seed product's settings these are.
    public enum Product: Sendable {
        /// seeds/000: URL + Token; optionally the service user's email and an admin key to
        /// check that account ("Log in as admin and verify the service user exists").
        case idr(url: String, token: String, serviceUser: String?, adminToken: String?)
        /// seeds/002: storage region + API key.
        case audit(storageRegion: String, apiKey: String)
        /// seeds/003: API trigger URL + API key; the check sends a test message.
        case trigger(url: String, apiKey: String)

        public var title: String {
            switch self {
            case .idr: return "SIEM connector to InsightIDR (URL + token)"
            case .audit: return "audit-log pull (storage region + API key)"
            case .trigger: return "InsightConnect API trigger (API URL + API key)"
            }
        }

        /// Every secret in these settings, for scrubbing what is printed.
        public var secrets: [String] {
            switch self {
            case .idr(_, let token, _, let admin): return [token] + (admin.map { [$0] } ?? [])
            case .audit(_, let key), .trigger(_, let key): return [key]
            }
        }

        /// The settings as a person can read them: URLs and regions as typed, keys described
        /// (never shown), the email masked.
        public var settings: [(String, String)] {
            func describe(_ key: String) -> String {
                if key.isEmpty { return "(empty)" }
                var notes: [String] = []
                if key.first!.isWhitespace { notes.append("whitespace before it") }
                if key.last!.isWhitespace { notes.append("whitespace after it") }
                return "\(key.count) characters, not shown" + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))")
            }
            switch self {
            case .idr(let url, let token, let user, let admin):
                var rows = [("URL", url), ("Token", describe(token))]
                if let user { rows.append(("Service user", Redaction.maskEmail(user))) }
                if let admin { rows.append(("Admin key", describe(admin))) }
                return rows
            case .audit(let region, let key): return [("Storage region", region), ("API key", describe(key))]
            case .trigger(let url, let key): return [("API URL", url), ("API key", describe(key))]
            }
        }
    }

    /// What the sequence found.
    public struct Outcome: Sendable {
        public let product: String
        public let target: String
        public let settings: [(String, String)]
        /// Nil when everything worked.
        public let diagnosis: Diagnosis?
        /// What worked, one line each (the key accepted, what was synced …).
        public let findings: [String]
        /// Every request in order: `METHOD host/path → status`.
        public let requests: [String]
        /// Set when the check could not be made from this machine (`diagnose --live` could
        /// not reach a known Rapid7 host): what it saw, and no diagnosis of the customer's side.
        public var notChecked: LocalLimit?
        public var ok: Bool { diagnosis == nil && notChecked == nil }
        /// 0 when nothing is wrong, 1 when something is, 3 when it could not be checked (2 is
        /// bad input, from the command).
        public var exitCode: Int32 { notChecked != nil ? 3 : ok ? 0 : 1 }
    }

    /// Why a live check could not be made: a known Rapid7 host this machine could not resolve,
    /// reach or shake hands with. The host is real, so the cause is on the machine running the
    /// check (its DNS, proxy or firewall), never in the customer's settings.
    public struct LocalLimit: Sendable, Hashable {
        public let host: String
        public let error: TransportFailure

        public var cause: String {
            switch error.kind {
            case .nameResolution: return "this machine cannot resolve \(host), a Rapid7 host that exists: its DNS does not answer for it (no network, or a network that only reaches the internet through a proxy)"
            case .tlsFailed: return "the TLS handshake with \(host) failed: something on this network (a corporate proxy that intercepts TLS) presents a certificate this machine does not trust"
            case .connectionRefused, .connectionReset: return "the connection to \(host), a Rapid7 host, was refused or cut: a firewall or proxy on this network stops it"
            case .timedOut: return "\(host), a Rapid7 host, did not answer in time: a firewall drops the traffic, or the network is down"
            }
        }

        public var remedies: [String] {
            var list = ["If this network needs a proxy, set HTTPS_PROXY (e.g. HTTPS_PROXY=http://proxy.example.com:3128) and run the check again",
                        "Or run diagnose --live from another network (the customer's, or one with direct internet access)"]
            if error.kind == .tlsFailed { list.insert("Or add the proxy's CA to this machine's trust store (SSL_CERT_FILE)", at: 1) }
            return list
        }

        /// Whether `host` is one of Rapid7's own: a region's API, Log Search or console host.
        /// A typo'd host (`us4.api…`) is not, and stays the customer's wrong URL.
        public static func isRapid7(_ host: String) -> Bool {
            let host = host.lowercased()
            return Region.allCases.contains { $0.platformHost == host || $0.logSearchHost == host || $0.consoleHost == host }
        }
    }

    /// `diagnose --live`: the sequence against the real hosts through `network`, read-only
    /// unless a trigger's test message was allowed. A known Rapid7 host that cannot be reached
    /// makes the outcome "not checked": its diagnosis would blame the customer for this network.
    public static func live(_ product: Product, network: any HTTPTransport, timeoutRetry: RetryPolicy = RetryPolicy(maxAttempts: 2),
                            logger: Logger = Logger(label: "insight-replay.diagnose")) async -> Outcome
    {
        let limits = LocalLimits(network)
        var transport: any HTTPTransport = ReadOnlyTransport(limits)
        if case .trigger = product { transport = limits }  // --send-test-message was given
        var outcome = await run(product, transport: transport, clock: SystemClock(), target: "live: the real Rapid7 hosts (read-only calls)",
                                retry: timeoutRetry, logger: logger)
        if let limit = limits.first {
            outcome = Outcome(product: outcome.product, target: outcome.target, settings: outcome.settings, diagnosis: nil,
                              findings: outcome.findings, requests: outcome.requests, notChecked: limit)
        }
        return outcome
    }

    /// Runs the product's troubleshooting sequence through `transport`:
    /// - seeds/000: validate, then one sync (investigations, alerts, Log Search), which is
    ///   where roles, product access, data and rate limits show;
    /// - seeds/002: one audit pull from a fresh checkpoint;
    /// - seeds/003: one test message.
    public static func run(_ product: Product, transport: any HTTPTransport, clock: any InsightClock, target: String,
                           retry: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "insight-replay.diagnose")) async -> Outcome
    {
        let log = RequestLog(transport)
        var findings: [String] = []
        var diagnosis: Diagnosis?
        switch product {
        case .idr(let url, let token, let serviceUser, let adminToken):
            let client = InsightClient(
                settings: IntegrationSettings(url: url, token: token), transport: log, clock: clock, retry: retry,
                admin: adminToken.map { AdminCheck(token: $0, serviceUser: serviceUser) }, logger: logger)
            do {
                let validation = try await client.validate()
                findings.append("the key is accepted by \(validation.region.platformBaseURL)/validate (region \(validation.region.code), \(validation.region.displayName))")
                let report = try await client.sync()
                findings.append("one sync: \(report.investigations) investigation(s), \(report.alerts) alert(s), \(report.logEvents) log event(s) from \(report.logSources) log(s) in \(report.pages) page(s)")
                diagnosis = report.warning
            } catch {
                diagnosis = error.diagnosis
            }
        case .audit(let region, let key):
            let puller = AuditPuller(settings: AuditSettings(storageRegion: region, apiKey: key), transport: log, clock: clock,
                                     store: InMemoryCheckpointStore(), retry: retry, logger: logger)
            do {
                let report = try await puller.pull { _ in }
                findings.append("one pull: \(report.processed) audit event(s) in \(report.pages) page(s)"
                                + (report.rejected.isEmpty ? "" : ", \(report.rejected.count) rejected as not Rapid7.AuditLog"))
                for rejected in report.rejected.prefix(3) { findings.append("rejected: \(rejected)") }
                diagnosis = report.alert
            } catch {
                diagnosis = (error as? ClientError)?.diagnosis
                    ?? Diagnosis(.serviceUnavailable, summary: "The pull stopped: \(error)")
            }
        case .trigger(let url, let key):
            let notifier = Notifier(settings: TriggerSettings(url: url, apiKey: key), transport: log, clock: clock, logger: logger)
            switch await notifier.sendTest(name: "insight-replay diagnose") {
            case .success: findings.append("the test message was accepted by the trigger")
            case .failure(let failure): diagnosis = failure.diagnosis
            }
        }
        return Outcome(product: product.title, target: target, settings: product.settings, diagnosis: diagnosis,
                       findings: findings, requests: log.lines)
    }

    /// The ticket text. Scrubbed of the settings' secrets once more, whatever a diagnosis says.
    public static func text(_ outcome: Outcome, secrets: [String]) -> String {
        var lines = ["InsightReplay diagnosis: \(outcome.product)", "target: \(outcome.target)", "settings:"]
        for (name, value) in outcome.settings { lines.append("  \(name): \(value)") }
        if let limit = outcome.notChecked {
            lines.append("result: NOT CHECKED: this machine could not reach Rapid7, so nothing about the settings is confirmed or ruled out")
            lines.append("  local cause: \(limit.cause)")
            lines.append("  seen: \(limit.error)")
            lines.append("what to do:")
            for remedy in limit.remedies { lines.append("  - \(remedy)") }
        } else if let diagnosis = outcome.diagnosis {
            lines.append("result: PROBLEM: \(diagnosis.category.entry.title) (\(diagnosis.category.rawValue))")
            lines.append("  \(diagnosis.summary)")
            if !diagnosis.evidence.isEmpty {
                lines.append("evidence:")
                for item in diagnosis.evidence { lines.append("  - \(item)") }
            }
            lines.append("causes, most likely first:")
            for (number, cause) in diagnosis.causes.enumerated() {
                lines.append("  \(number + 1). [\(cause.likelihood)] \(cause.text)\(cause.because.map { " (\($0))" } ?? "")")
            }
            lines.append("how to fix:")
            for remedy in diagnosis.remedies { lines.append("  - \(remedy)") }
        } else {
            lines.append("result: OK: no problem found")
        }
        for finding in outcome.findings { lines.append("  - \(finding)") }
        lines.append("requests (\(outcome.requests.count)):")
        for request in outcome.requests.prefix(40) { lines.append("  \(request)") }
        if outcome.requests.count > 40 { lines.append("  … \(outcome.requests.count - 40) more") }
        return Redaction.scrub(lines.joined(separator: "\n"), secrets: secrets)
    }

    /// The same as JSON, for machines (keys in snake case, sorted).
    public static func json(_ outcome: Outcome, secrets: [String]) -> String {
        var object: [String: JSON] = [
            "product": .string(outcome.product), "target": .string(outcome.target), "ok": .bool(outcome.ok),
            "settings": .object(Dictionary(outcome.settings.map { ($0.0.lowercased().replacingOccurrences(of: " ", with: "_"), JSON.string($0.1)) },
                                           uniquingKeysWith: { first, _ in first })),
            "findings": .array(outcome.findings.map(JSON.string)), "requests": .array(outcome.requests.map(JSON.string)),
        ]
        if let limit = outcome.notChecked {
            object["not_checked"] = ["host": .string(limit.host), "error": .string(limit.error.kind.rawValue),
                                     "local_cause": .string(limit.cause), "remedies": .array(limit.remedies.map(JSON.string))]
        }
        if let diagnosis = outcome.diagnosis {
            let report = RunReport.diagnosis(diagnosis)
            object["diagnosis"] = [
                "category": .string(report.category), "title": .string(report.title), "summary": .string(report.summary),
                "evidence": .array(report.evidence.map(JSON.string)), "remedies": .array(report.remedies.map(JSON.string)),
                "causes": .array(report.causes.map { cause in
                    var item: [String: JSON] = ["text": .string(cause.text), "likelihood": .string(cause.likelihood)]
                    if let because = cause.because { item["because"] = .string(because) }
                    return .object(item)
                }),
            ]
        } else {
            object["diagnosis"] = .null
        }
        return Redaction.scrub(String(decoding: JSON.object(object).encoded(pretty: true), as: UTF8.self), secrets: secrets)
    }
}

/// Passes requests on and keeps the first transport failure on a known Rapid7 host.
final class LocalLimits: HTTPTransport, @unchecked Sendable {
    private let inner: any HTTPTransport
    private let lock = NSLock()
    private var seen: Diagnose.LocalLimit?
    init(_ inner: any HTTPTransport) { self.inner = inner }

    var first: Diagnose.LocalLimit? { lock.withLock { seen } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            return try await inner.send(request)
        } catch let error as CoreError {
            if let failure = error.transport, Diagnose.LocalLimit.isRapid7(request.host) {
                lock.withLock { if seen == nil { seen = Diagnose.LocalLimit(host: request.host, error: failure) } }
            }
            throw error
        }
    }
}

/// Passes requests on and keeps one line per exchange, for the ticket.
final class RequestLog: HTTPTransport, @unchecked Sendable {
    private let inner: any HTTPTransport
    private let lock = NSLock()
    private var kept: [String] = []
    init(_ inner: any HTTPTransport) { self.inner = inner }

    var lines: [String] { lock.withLock { kept } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let line = "\(request.method) \(request.host)\(request.path)"
        do {
            let response = try await inner.send(request)
            lock.withLock { kept.append("\(line) → \(response.status)") }
            return response
        } catch {
            lock.withLock { kept.append("\(line) → \(error)") }
            throw error
        }
    }
}

/// For `diagnose --live`: only calls that read reach the real platform. GETs, and the POSTs
/// that search (Log Search queries, `_search`, `ops/search`); anything else is refused here,
/// before it leaves the machine.
public final class ReadOnlyTransport: HTTPTransport, @unchecked Sendable {
    private let inner: any HTTPTransport
    public init(_ inner: any HTTPTransport) { self.inner = inner }

    public static func reads(_ request: HTTPRequest) -> Bool {
        switch request.method {
        case "GET", "HEAD": return true
        case "POST":
            return request.path.hasSuffix("/_search") || request.path.hasSuffix("/ops/search") || request.path.hasPrefix("/query/")
        default: return false
        }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard Self.reads(request) else {
            throw CoreError.transport(.connectionRefused, host: request.host,
                                 detail: "\(request.method) \(request.path) would change something; --live sends read-only calls only")
        }
        return try await inner.send(request)
    }
}
