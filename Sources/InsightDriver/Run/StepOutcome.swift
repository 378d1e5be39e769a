import Foundation

/// What one step that talks to the platform (validate, sync, audit_pull, test_notification,
/// notify) ended with: its diagnosis, or none. A run goes on after a failed step unless the
/// scenario says `stop_on_failure: true`.
public struct StepOutcome: Sendable, Hashable, Codable {
    /// The step's place in the scenario's steps, from 1.
    public let number: Int
    public let step: String
    /// Virtual seconds after the start at which the step ended.
    public let at: Double
    /// The diagnosis category, nil for none.
    public let diagnosis: String?
    public let summary: String?
    /// The step failed (an error, or notifications left undelivered), rather than ending with a
    /// warning or with its data.
    public let failed: Bool

    /// `diagnosis` and `summary` written as null when none, so a reader sees every step's outcome.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(number, forKey: .number)
        try container.encode(step, forKey: .step)
        try container.encode(at, forKey: .at)
        try container.encode(diagnosis, forKey: .diagnosis)
        try container.encode(summary, forKey: .summary)
        try container.encode(failed, forKey: .failed)
    }

    /// `2 sync: api_key_issues`, `4 sync: none (recovered)`.
    public static func describe(_ steps: [StepOutcome]) -> [String] {
        var failedBefore = false
        return steps.map { outcome in
            defer { failedBefore = failedBefore || outcome.failed }
            let recovered = failedBefore && !outcome.failed ? " (recovered)" : ""
            return "\(outcome.number) \(outcome.step) at \(Scenario.formatSeconds(outcome.at)): \(outcome.diagnosis ?? "none")\(outcome.failed ? " (failed)" : "")\(recovered)"
        }
    }

    /// Worth showing: some step failed and another step came after it.
    public static func tellsARecovery(_ steps: [StepOutcome]) -> Bool {
        guard let first = steps.firstIndex(where: \.failed) else { return false }
        return first < steps.count - 1
    }
}
