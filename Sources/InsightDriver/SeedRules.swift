import Foundation
import InsightCore
import InsightEmulator

/// What seeds/000 requires of any URL + Token client, checked on a command from what the
/// emulator saw and what the process did: the report `run --client` gives per scenario.
///
/// | rule | the seed's words it stands for |
/// |---|---|
/// | exit non-zero on a troubleshooting case, 0 when the data arrives | "tell the user exactly what is wrong" / data is synced |
/// | no repeat of a request answered 401 or 403 | Authentication Failed, Insufficient Permissions, API Key Issues: a key or role problem is not transient |
/// | the next request no sooner than a 429's Retry-After | rate limits (reference §3: Retry-After on 429) |
/// | 5xx retried at most 10 times, with gaps that do not shrink | "retry correctly, give up correctly" |
/// | every page of investigations fetched | "what is synced": investigations beyond the first page |
/// | the right region named on a wrong regional URL | Wrong Regional URL: "Verify you're using the correct region" |
/// | no key in the output | API keys are secrets |
struct SeedRules {
    let scenario: Scenario
    /// Virtual seconds a measured wait may fall short by (the wall clock's jitter at the time scale).
    let tolerance: Double

    /// Statuses after which repeating the same request cannot help.
    static let final = [401, 403]
    static let maxServerErrorAttempts = 10

    func judge(_ observed: Observed) -> [String] {
        var failures: [String] = []
        let journal = observed.journal
        if let command = observed.command {
            if let error = command.launchError { return ["the client could not be started: \(error)"] }
            if command.timedOut { failures.append("did not finish: stopped after its timeout") }
            if let code = command.exitCode, !command.timedOut {
                if let diagnosis = scenario.expect.diagnosis, code == 0 {
                    failures.append("exited 0, but the seed's case here is \(diagnosis.rawValue) (\(diagnosis.entry.title)): a client must report the failure (non-zero exit) and say what is wrong")
                } else if scenario.expect.diagnosis == nil, code != 0 {
                    failures.append("exited \(code), but this scenario ends with the data synced: nothing is wrong for the client to report")
                }
            }
        }
        failures += repeatsAfterFinal(journal)
        failures += retryAfter(journal)
        failures += serverErrorRetries(journal)
        failures += paging(journal)
        // The region can be named only when the key works in another known region than the URL's.
        let urlRegion = scenario.client.url.flatMap { URL(string: $0.trimmingCharacters(in: .whitespaces))?.host }.flatMap { Region(host: $0) }
        if scenario.expect.diagnosis == .wrongRegionalURL, let command = observed.command, let urlRegion,
           urlRegion != scenario.tenant.region
        {
            let region = scenario.tenant.region
            let output = command.stdout + command.stderr
            if !output.localizedCaseInsensitiveContains(region.platformHost) && output.range(of: "\\b\(region.code)\\b", options: [.regularExpression, .caseInsensitive]) == nil {
                failures.append("never told the user that the key belongs to \(region.code): the seed says to verify the region; name it (\(region.platformBaseURL))")
            }
        }
        return failures
    }

    func repeatsAfterFinal(_ journal: [JournalEntry]) -> [String] {
        var failures: [String] = []
        var refused: [String: (status: Int, repeats: Int)] = [:]
        for entry in journal {
            let request = "\(entry.method) \(entry.host)\(entry.path)"
            if var seen = refused[request] {
                seen.repeats += 1
                refused[request] = seen
            } else if Self.final.contains(entry.status) {
                refused[request] = (entry.status, 0)
            }
        }
        for (request, seen) in refused.sorted(by: { $0.key < $1.key }) where seen.repeats > 1 {
            failures.append("sent \(request) \(seen.repeats) more time(s) after it was answered \(seen.status): a \(seen.status) is not transient; stop and tell the user what to fix")
        }
        return failures
    }

    func retryAfter(_ journal: [JournalEntry]) -> [String] {
        var failures: [String] = []
        for (index, entry) in journal.enumerated() where entry.status == 429 {
            guard let wait = entry.retryAfter, let next = journal[(index + 1)...].first(where: { $0.host == entry.host }) else { continue }
            let gap = next.elapsed - entry.elapsed
            if gap + tolerance < wait {
                failures.append("sent \(next.method) \(next.host)\(next.path) \(Scenario.formatSeconds((gap * 10).rounded() / 10)) after a 429 whose Retry-After asked for \(Scenario.formatSeconds(wait)) (request \(index + 1) → \(index + 2)): wait as long as Retry-After says")
            }
        }
        return failures
    }

    func serverErrorRetries(_ journal: [JournalEntry]) -> [String] {
        var failures: [String] = []
        var runs: [String: [JournalEntry]] = [:]
        for entry in journal {
            let request = "\(entry.method) \(entry.host)\(entry.path)"
            if entry.status >= 500 || entry.status == 0 {
                runs[request, default: []].append(entry)
            } else {
                if let run = runs.removeValue(forKey: request) { failures += judgeRun(request, run) }
            }
        }
        for (request, run) in runs.sorted(by: { $0.key < $1.key }) { failures += judgeRun(request, run) }
        return failures
    }

    private func judgeRun(_ request: String, _ run: [JournalEntry]) -> [String] {
        var failures: [String] = []
        if run.count > Self.maxServerErrorAttempts {
            failures.append("tried \(request) \(run.count) times in a row on server errors: give up after a bounded number of attempts")
        }
        let gaps = zip(run.dropFirst(), run).map { $0.elapsed - $1.elapsed }
        if let shrink = zip(gaps.dropFirst(), gaps).first(where: { $0.0 + tolerance < $0.1 }) {
            failures.append("retried \(request) after server errors with a gap of \(Scenario.formatSeconds(shrink.0)) following one of \(Scenario.formatSeconds(shrink.1)): back off, do not speed up")
        }
        return failures
    }

    func paging(_ journal: [JournalEntry]) -> [String] {
        guard let expected = scenario.expect.syncedInvestigations, expected > 0 else { return [] }
        let pages = journal.filter { entry in
            entry.status == 200
                && ((entry.method == "GET" && ["/idr/v2/investigations", "/idr/v1/investigations"].contains(entry.path))
                    || (entry.method == "POST" && entry.path == "/idr/v2/investigations/_search"))
        }
        let sizes = pages.map { entry -> Int in
            let size = entry.query.split(separator: "&").first { $0.hasPrefix("size=") }.flatMap { Int($0.dropFirst(5)) }
            return size ?? 20
        }
        let biggest = sizes.max() ?? 20
        let needed = (expected + biggest - 1) / biggest
        let distinct = Set(pages.map(\.query)).count
        if distinct < needed {
            return ["fetched \(distinct) page(s) of investigations (size \(biggest)) where the tenant holds \(expected): page on (index=1, 2 …) until every investigation is synced"]
        }
        return []
    }
}
