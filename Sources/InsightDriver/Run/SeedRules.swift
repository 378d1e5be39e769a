import Foundation
import InsightCore
import InsightEmulator

/// What the seeds require of any client, checked on a command from what the emulator saw and
/// what the process did: the report `run --client` gives per scenario, and the diagnosis of
/// the client's own conduct.
///
/// | rule | the seed's words it stands for |
/// |---|---|
/// | exit non-zero on a troubleshooting case, 0 when the data arrives | "tell the user exactly what is wrong" / data is synced |
/// | no repeat of a request answered 401 or 403 | Authentication Failed, Insufficient Permissions, API Key Issues: a key or role problem is not transient |
/// | a 429 retried, no sooner than its Retry-After | rate limits (reference §3: Retry-After on 429) |
/// | 5xx retried at most 10 times, with gaps that do not shrink | "retry correctly, give up correctly" |
/// | every page of investigations fetched, none twice in one run | "what is synced": investigations beyond the first page, nothing duplicated |
/// | the right region named on a wrong regional URL | Wrong Regional URL: "Verify you're using the correct region" |
/// | no key in the output | API keys are secrets |
///
/// Endpoints are recognised by behaviour, not spelling: a path with a trailing slash, doubled
/// slashes or its query in another order is the same endpoint.
struct SeedRules {
    let scenario: Scenario
    /// Virtual seconds a measured wait may fall short by (the wall clock's jitter at the time scale).
    let tolerance: Double
    /// Virtual seconds a wait the seed fixes (the resend schedule) may run over by.
    var lateTolerance = 0.0005

    /// Statuses after which repeating the same request cannot help.
    static let final = [401, 403]
    static let maxServerErrorAttempts = 10

    /// One rule the client broke: the line a report shows, the seed's troubleshooting case it
    /// belongs to, the journal lines that show it, and what to change.
    struct Finding: Equatable {
        var line: String
        var category: DiagnosisCategory
        var evidence: [String]
        var remedy: String
    }

    func judge(_ observed: Observed) -> [String] { findings(observed).map(\.line) }

    /// Every rule broken, in the order above.
    func findings(_ observed: Observed) -> [Finding] {
        var findings: [Finding] = []
        let journal = observed.journal
        if let error = observed.command?.launchError {
            return [Finding(line: "the client could not be started: \(error)", category: scenario.expect.diagnosis ?? .serviceUnavailable,
                            evidence: [], remedy: "check the command and that its program is installed")]
        }
        // A notifier's POSTs to its trigger follow the seed's resend schedule, judged on its own.
        let kind = scenario.clientKind
        findings += repeatsAfterFinal(journal)
        findings += rateLimits(journal)
        findings += serverErrorRetries(journal)
        switch kind {
        case .audit?: findings += auditFindings(observed)
        case .notifier?: findings += notifierFindings(observed)
        default: findings += paging(journal, runStarts: observed.runStarts)
        }
        // The region can be named only when the key works in another known region than the one set.
        if [.wrongRegionalURL, .incorrectIntegrationParameters].contains(scenario.expect.diagnosis), let command = observed.command,
           let configured = configuredRegion, configured != scenario.tenant.region
        {
            let region = scenario.tenant.region
            let output = command.stdout + command.stderr
            if !output.localizedCaseInsensitiveContains(region.platformHost) && output.range(of: "\\b\(region.code)\\b", options: [.regularExpression, .caseInsensitive]) == nil {
                let setting = kind == .audit ? "storage region" : kind == .notifier ? "API URL" : "URL"
                findings.append(Finding(
                    line: "never told the user that the key belongs to \(region.code), not to the \(setting)'s \(configured.code): the troubleshooting guide says to verify the region; name it (\(region.platformBaseURL))",
                    category: scenario.expect.diagnosis!, evidence: journal.filter { $0.status == 401 || $0.status == 404 }.prefix(3).map(Self.describe),
                    remedy: "on a 401, try the key on the other regions' /validate and name the one that accepts it"))
            }
        }
        // The exit last: the diagnosis takes its case from the first, most specific finding.
        if let command = observed.command {
            if command.timedOut {
                findings.append(Finding(line: "did not finish: stopped after its timeout", category: scenario.expect.diagnosis ?? .serviceUnavailable,
                                        evidence: Self.last(journal), remedy: "bound every wait and retry loop; give up with a message"))
            }
            if let code = command.exitCode, !command.timedOut {
                if let diagnosis = scenario.expect.diagnosis, code == 0 {
                    findings.append(Finding(
                        line: "exited 0, but the documented case here is \(diagnosis.rawValue) (\(diagnosis.entry.title)): a client must report the failure (non-zero exit) and say what is wrong",
                        category: diagnosis, evidence: Self.last(journal),
                        remedy: "exit non-zero when the integration cannot get its data, and print what the user must fix"))
                } else if scenario.expect.diagnosis == nil, code != 0 {
                    findings.append(Finding(
                        line: "exited \(code), but this scenario ends \(scenario.clientKind?.success ?? "with the data synced"): nothing is wrong for the client to report",
                        category: .noDataSyncing, evidence: Self.last(journal), remedy: "exit 0 when the data arrived"))
                }
            }
        }
        return findings
    }

    /// A diagnosis of the client's conduct in the seed's terms from the rules it broke that
    /// are among `failures` (a scenario's own checks may judge fewer rules than `run --client`);
    /// nil when there are none.
    func diagnosis(_ observed: Observed, failures: [String]) -> Diagnosis? {
        let found = findings(observed).filter { failures.contains($0.line) }
        guard let first = found.first else { return nil }
        var remedies: [String] = []
        for finding in found where !remedies.contains(finding.remedy) { remedies.append(finding.remedy) }
        var evidence: [String] = []
        for line in found.flatMap(\.evidence) where !evidence.contains(line) { evidence.append(line) }
        let count = found.count == 1 ? "a rule" : "\(found.count) rules"
        return Diagnosis(
            first.category,
            summary: "The client broke \(count) rule(s) documented for any integration; first: it \(first.line)",
            evidence: evidence,
            ranked: found.map { RankedCause($0.line, .confirmed, because: "the emulator's journal and the client's exit show it") },
            remedies: remedies)
    }

    /// The region the client was set to: its URL's, its storage region, or its API URL's.
    var configuredRegion: Region? {
        if let audit = scenario.client.audit { return Region(name: audit.storageRegion) }
        let url = scenario.client.notifier?.url ?? scenario.client.url
        return url.flatMap { URL(string: $0.trimmingCharacters(in: .whitespaces))?.host }.flatMap { Region(host: $0) }
    }

    // MARK: The rules

    func repeatsAfterFinal(_ journal: [JournalEntry]) -> [Finding] {
        var findings: [Finding] = []
        var refused: [String: (entry: JournalEntry, index: Int, repeats: [Int])] = [:]
        for (index, entry) in journal.enumerated() where !isTrigger(entry) {
            let request = Self.endpoint(entry)
            if var seen = refused[request] {
                seen.repeats.append(index)
                refused[request] = seen
            } else if Self.final.contains(entry.status) {
                refused[request] = (entry, index, [])
            }
        }
        for (request, seen) in refused.sorted(by: { $0.key < $1.key }) where seen.repeats.count > 1 {
            let status = seen.entry.status
            findings.append(Finding(
                line: "sent \(request) \(seen.repeats.count) more time(s) after it was answered \(status): a \(status) is not transient; stop and tell the user what to fix",
                category: status == 403 ? .insufficientPermissions : (scenario.expect.diagnosis ?? .authenticationFailed),
                evidence: [Self.describe(seen.entry, number: seen.index + 1)] + seen.repeats.prefix(2).map { Self.describe(journal[$0], number: $0 + 1) },
                remedy: "stop on 401 and 403: name the key, role or product access the user must fix"))
        }
        return findings
    }

    /// A 429 must be retried, and no sooner than its Retry-After.
    func rateLimits(_ journal: [JournalEntry]) -> [Finding] {
        var findings: [Finding] = []
        var retried = Set<String>()
        for (index, entry) in journal.enumerated() where entry.status == 429 && !isTrigger(entry) {
            let request = Self.endpoint(entry)
            let asked = entry.retryAfter.map { "Retry-After: \(Scenario.formatSeconds($0))" } ?? "no Retry-After"
            guard let nextIndex = journal.indices.dropFirst(index + 1).first(where: { journal[$0].host == entry.host }) else {
                // Never retried: only the first 429 of an endpoint counts (giving up after retries is fine).
                if !retried.contains(request), !journal[(index + 1)...].contains(where: { Self.endpoint($0) == request }) {
                    findings.append(Finding(
                        line: "got 429 (\(asked)) on \(request) (request \(index + 1)) and never sent it again: a rate limit passes; wait as long as Retry-After says, then retry",
                        category: .rateLimited, evidence: [Self.describe(entry, number: index + 1), "no later request to \(entry.host)"],
                        remedy: "on 429, wait the seconds Retry-After gives (else back off), then send the request again"))
                }
                continue
            }
            retried.insert(request)
            guard let wait = entry.retryAfter else { continue }
            let next = journal[nextIndex]
            let gap = next.elapsed - entry.elapsed
            if gap + tolerance < wait {
                findings.append(Finding(
                    line: "sent \(next.method) \(next.host)\(next.path) \(Scenario.formatSeconds((gap * 10).rounded() / 10)) after a 429 whose Retry-After asked for \(Scenario.formatSeconds(wait)) (request \(index + 1) → \(nextIndex + 1)): wait as long as Retry-After says",
                    category: .rateLimited, evidence: [Self.describe(entry, number: index + 1), Self.describe(next, number: nextIndex + 1)],
                    remedy: "on 429, wait the seconds Retry-After gives before the next request to that host"))
            }
        }
        return findings
    }

    /// The early-retry lines alone (what every command scenario is checked for).
    func retryAfter(_ journal: [JournalEntry]) -> [String] { rateLimits(journal).map(\.line) }

    func serverErrorRetries(_ journal: [JournalEntry]) -> [Finding] {
        var findings: [Finding] = []
        var runs: [String: [(Int, JournalEntry)]] = [:]
        for (index, entry) in journal.enumerated() where !isTrigger(entry) {
            let request = Self.endpoint(entry)
            if entry.status >= 500 || entry.status == 0 {
                runs[request, default: []].append((index, entry))
            } else if let run = runs.removeValue(forKey: request) {
                findings += judgeRun(request, run)
            }
        }
        for (request, run) in runs.sorted(by: { $0.key < $1.key }) { findings += judgeRun(request, run) }
        return findings
    }

    private func judgeRun(_ request: String, _ run: [(Int, JournalEntry)]) -> [Finding] {
        var findings: [Finding] = []
        if run.count > Self.maxServerErrorAttempts {
            findings.append(Finding(
                line: "tried \(request) \(run.count) times in a row on server errors: give up after a bounded number of attempts",
                category: .serviceUnavailable, evidence: [run.first!, run.last!].map { Self.describe($0.1, number: $0.0 + 1) },
                remedy: "give up after at most \(Self.maxServerErrorAttempts) attempts and say the platform is unavailable"))
        }
        let gaps = zip(run.dropFirst(), run).map { ($0.0 .1.elapsed - $0.1 .1.elapsed, $0.0 .0) }
        if let shrink = zip(gaps.dropFirst(), gaps).first(where: { $0.0.0 + tolerance < $0.1.0 }) {
            let at = shrink.0.1
            findings.append(Finding(
                line: "retried \(request) after server errors with a gap of \(Scenario.formatSeconds(shrink.0.0)) following one of \(Scenario.formatSeconds(shrink.1.0)): back off, do not speed up",
                category: .serviceUnavailable,
                evidence: run.filter { $0.0 <= at }.suffix(3).map { Self.describe($0.1, number: $0.0 + 1) },
                remedy: "back off between retries on 5xx: each wait at least as long as the one before"))
        }
        return findings
    }

    /// Every page of investigations fetched, and none twice within one run of the client.
    func paging(_ journal: [JournalEntry], runStarts: [Int] = []) -> [Finding] {
        let pages = journal.enumerated().filter { _, entry in
            let path = Self.normalized(entry.path)
            return entry.status == 200
                && ((entry.method == "GET" && ["/idr/v2/investigations", "/idr/v1/investigations"].contains(path))
                    || (entry.method == "POST" && path == "/idr/v2/investigations/_search"))
        }
        var findings: [Finding] = []
        // Duplicates: the same page (path and query in any order) answered twice in one run.
        var seen: [String: Int] = [:]
        for (index, entry) in pages {
            let run = runStarts.lastIndex { $0 <= entry.sequence } ?? 0
            let page = "\(run) \(entry.method) \(entry.host)\(Self.normalized(entry.path))?\(Self.normalizedQuery(entry.query))"
            if let first = seen[page] {
                findings.append(Finding(
                    line: "fetched the same page of investigations twice in one run (\(entry.method) \(entry.host)\(Self.normalized(entry.path))?\(Self.normalizedQuery(entry.query)), requests \(first + 1) and \(index + 1)): page forward; a page read twice duplicates what is synced",
                    category: .noDataSyncing, evidence: [Self.describe(journal[first], number: first + 1), Self.describe(entry, number: index + 1)],
                    remedy: "advance the page index (or the cursor) after each page; stop after the last"))
                break
            }
            seen[page] = index
        }
        guard let expected = scenario.expect.syncedInvestigations, expected > 0 else { return findings }
        let sizes = pages.map { _, entry -> Int in
            Self.queryItems(entry.query).first { $0.name == "size" }.flatMap { Int($0.value) } ?? 20
        }
        let biggest = sizes.max() ?? 20
        let needed = (expected + biggest - 1) / biggest
        let distinct = Set(pages.map { Self.normalizedQuery($0.element.query) }).count
        if distinct < needed {
            findings.insert(Finding(
                line: "fetched \(distinct) page(s) of investigations (size \(biggest)) where the tenant holds \(expected): page on (index=1, 2 …) until every investigation is synced",
                category: .noDataSyncing, evidence: pages.suffix(2).map { Self.describe($0.element, number: $0.offset + 1) },
                remedy: "request pages until one comes back short (index=0, 1, 2 … with a size)"), at: 0)
        }
        return findings
    }

    // MARK: Endpoints by behaviour

    /// `METHOD host/path`, the path normalised.
    static func endpoint(_ entry: JournalEntry) -> String { "\(entry.method) \(entry.host)\(normalized(entry.path))" }

    /// Doubled slashes folded and a trailing slash dropped: `/idr/v2//investigations/` is
    /// `/idr/v2/investigations`.
    static func normalized(_ path: String) -> String {
        var result = ""
        for character in path where !(character == "/" && result.hasSuffix("/")) { result.append(character) }
        while result.count > 1, result.hasSuffix("/") { result.removeLast() }
        return result.isEmpty ? "/" : result
    }

    static func queryItems(_ query: String) -> [(name: String, value: String)] {
        query.split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    /// The query's items sorted, so `size=100&index=1` and `index=1&size=100` are one page.
    static func normalizedQuery(_ query: String) -> String {
        queryItems(query).sorted { ($0.name, $0.value) < ($1.name, $1.value) }.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// A journal line as evidence: `request 2 at 1s: GET eu.api.insight.rapid7.com/validate → 429 (Retry-After: 30s)`.
    static func describe(_ entry: JournalEntry, number: Int) -> String {
        let query = entry.query.isEmpty ? "" : "?\(entry.query)"
        let retry = entry.retryAfter.map { " (Retry-After: \(Scenario.formatSeconds($0)))" } ?? ""
        return "request \(number) at \(Scenario.formatSeconds(entry.elapsed)): \(entry.method) \(entry.host)\(entry.path)\(query) → \(entry.status)\(retry)"
    }

    static func describe(_ entry: JournalEntry) -> String { "\(entry.method) \(entry.host)\(entry.path) → \(entry.status)" }

    /// The last request, as evidence of where the client stopped.
    static func last(_ journal: [JournalEntry]) -> [String] {
        journal.last.map { ["the last request: " + describe($0, number: journal.count)] } ?? ["the client sent no request"]
    }
}
