import Foundation
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import InsightEmulator
import Testing

/// `POST /_admin/faults` takes exactly what a scenario's `faults:` takes: the same fault is
/// accepted by both as the same rule, or refused by both.
@Suite struct AdminFaultParityTests {
    static let faults = [
        #"{"path": "/validate", "status": 429, "count": 2, "retry_after": 30}"#,
        #"{"status": 302, "headers": {"Location": "https://insight.rapid7.com/login"}, "count": 5}"#,
        #"{"status": 404, "body": "{\"message\": \"gone\"}", "count": 1, "method": "GET"}"#,
        #"{"status": 503, "count": 3, "after": 2, "region": "eu", "probability": 0.5}"#,
        #"{"latency": 2.5, "count": 1}"#,
        #"{"reset": true, "count": 1, "path": "/idr/"}"#,
        #"{"truncate": true, "count": 4}"#,
        #"{"malformed_json": true, "count": 1}"#,
        // Refused by both:
        #"{"status": 302, "count": 1}"#,
        #"{"status": 200, "count": 1}"#,
        #"{"status": 503, "count": 0}"#,
        #"{"status": 503}"#,
        #"{"latency": 1, "retry_after": 3, "count": 1}"#,
        #"{"status": 503, "latency": 1, "count": 1}"#,
        #"{"reset": false, "count": 1}"#,
        #"{"status": 503, "count": 1, "path": "validate"}"#,
        #"{"status": 503, "count": 1, "method": "FETCH"}"#,
        #"{"status": 503, "count": 1, "region": "mars"}"#,
        #"{"status": 503, "count": 1, "probability": 2}"#,
        #"{"status": 503, "count": 1, "colour": "red"}"#,
        #"{"status": 503, "count": 1, "retry_after": -1}"#,
    ]

    @Test(arguments: faults)
    func aFaultIsTheSameRuleThroughTheAdminAPIAndAScenario(_ text: String) throws {
        let base = try String(contentsOf: Bundle.module.url(forResource: "valid", withExtension: "yaml", subdirectory: "Fixtures")!, encoding: .utf8)
        let scenario = try? ScenarioLoader.parse(base.replacingOccurrences(of: "client:", with: "faults:\n  - \(text)\nclient:"), file: "f.yaml")
        let admin = try? FaultRule(json: #require(JSON(data: Data(text.utf8))))
        #expect((scenario?.faults.first == nil) == (admin == nil), "scenario \(scenario?.faults.first.map(\.description) ?? "refused"), admin \(admin?.description ?? "refused")")
        #expect(scenario?.faults.first == admin)
    }
}
