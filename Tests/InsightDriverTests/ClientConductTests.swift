import Foundation
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import Testing

/// A command client is judged by what it did, recognised by behaviour, and told in the seed's
/// terms with the journal lines that show it, as a built-in client's failure reads.
@Suite struct ClientConductTests {
    /// A client that gives up on a 429 (a library calling `.json()` on it) is told of the 429,
    /// its Retry-After, and the missing retry; the diagnosis is Rate Limited.
    @Test(.enabled(if: tool("curl"), "needs curl"))
    func aRateLimitNeverRetriedIsNamed() async throws {
        let scenario = try commandScenario(
            #"'curl -sS -o /dev/null -w "%{http_code}\n" -H "X-Api-Key: $R7_API_KEY" "$R7_BASE_URL/validate"; exit 1'"#,
            extra: "faults:\n  - { path: /validate, status: 429, count: 1, retry_after: 30 }",
            expect: "  diagnosis: none")
        let result = await commandRunner().run(scenario)
        #expect(result.failures.contains(
            "got 429 (Retry-After: 30s) on GET us2.api.insight.rapid7.com/validate (request 1) and never sent it again: a rate limit passes; wait as long as Retry-After says, then retry"),
            "\(result.failures)")
        let diagnosis = try #require(result.diagnosis)
        #expect(diagnosis.category == .rateLimited)
        #expect(diagnosis.evidence.contains("request 1 at 0s: GET us2.api.insight.rapid7.com/validate → 429 (Retry-After: 30s)"))
        #expect(diagnosis.remedies.first == "on 429, wait the seconds Retry-After gives (else back off), then send the request again")
        // The same in every report: JSON, JUnit and the terminal's -v text.
        #expect(RunReport.diagnosis(diagnosis).category == "rate_limited")
        #expect(JUnitReport.xml([result], wallSeconds: 0).contains("Rate Limited (rate_limited)"))
        #expect(result.diagnosisText?.contains("evidence: request 1 at 0s") == true)
    }

    /// Paging recognised by behaviour: a trailing slash and the query in another order are the
    /// same endpoint, so every page counts; reading a page twice in one run is named.
    @Test(.enabled(if: tool("curl"), "needs curl"))
    func pagesAreCountedWhateverTheSpellingAndDuplicatesNamed() async throws {
        let scenario = try ScenarioLoader.loadFile(catalogueFile("happy-path-us2-sync"))
        func client(_ indexes: String) -> ClientOverride {
            let script = #"for i in "# + indexes + #"; do curl -sS -o /dev/null -H "X-Api-Key: $R7_API_KEY" "${R7_BASE_URL%/}/idr/v2/investigations/?size=100&index=$i" || exit 1; done; echo '{"investigations": 150}'"#
            return ClientOverride(command: CommandSpec(arguments: ["/bin/sh", "-c", script]), timeScale: 1)
        }
        let good = await commandRunner(override: client("0 1")).run(scenario)
        #expect(!good.failures.contains { $0.contains("page") }, "\(good.failures)")
        let twice = await commandRunner(override: client("0 0 1")).run(scenario)
        #expect(twice.failures.contains { $0.hasPrefix("fetched the same page of investigations twice in one run (GET us2.api.insight.rapid7.com/idr/v2/investigations?index=0&size=100, requests 1 and 2)") },
                "\(twice.failures)")
        let short = await commandRunner(override: client("0")).run(scenario)
        #expect(short.failures.contains("fetched 1 page(s) of investigations (size 100) where the tenant holds 150: page on (index=1, 2 …) until every investigation is synced"),
                "\(short.failures)")
        #expect(short.diagnosis?.category == .noDataSyncing)
    }

    @Test func endpointsAreNormalised() {
        #expect(SeedRules.normalized("/idr/v2/investigations/") == "/idr/v2/investigations")
        #expect(SeedRules.normalized("/idr//v2///investigations") == "/idr/v2/investigations")
        #expect(SeedRules.normalized("/") == "/")
        #expect(SeedRules.normalizedQuery("size=100&index=1") == SeedRules.normalizedQuery("index=1&size=100"))
    }
}
