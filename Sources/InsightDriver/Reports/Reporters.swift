import Foundation
import InsightCore

/// The console report: one line per scenario, the reasons under a failure, then a summary.
public enum ConsoleReport {
    /// The outcome column: the client's exit code, else the diagnosis category, else none.
    public static func outcome(_ result: ScenarioResult) -> String {
        result.exitCode.map { "client exit \($0)" } ?? result.diagnosis?.category.rawValue ?? "none"
    }

    /// Wide enough for every category name (the longest is 33 characters), never cut.
    public static let outcomeWidth = DiagnosisCategory.allCases.map(\.rawValue.count).max()!

    /// - Parameter colour: ANSI colours for PASS and FAIL (a terminal without NO_COLOR).
    public static func line(_ result: ScenarioResult, nameWidth: Int = 44, colour: Bool = false) -> String {
        let mark = result.passed ? (colour ? "\u{1B}[32mPASS\u{1B}[0m" : "PASS") : (colour ? "\u{1B}[31mFAIL\u{1B}[0m" : "FAIL")
        let name = result.name.padding(toLength: max(nameWidth, result.name.count), withPad: " ", startingAt: 0)
        let outcome = outcome(result)
        let diagnosis = outcome.padding(toLength: max(outcomeWidth, outcome.count), withPad: " ", startingAt: 0)
        var text = "\(mark)  \(name)  \(diagnosis) \(String(format: "%3d", result.journal.count)) req  virtual \(Scenario.formatSeconds(result.virtualSeconds))"
        for failure in result.failures { text += "\n      - \(failure.replacingOccurrences(of: "\n", with: "\n        "))" }
        // Where a run failed and went on: each step's outcome, so the recovery (or not) shows.
        if StepOutcome.tellsARecovery(result.steps) {
            text += "\n      steps: " + StepOutcome.describe(result.steps).joined(separator: " · ")
        }
        if !result.unusedRecorded.isEmpty {
            text += "\n      note: \(result.unusedRecorded.count) recorded exchange(s) never used: \(result.unusedRecorded.prefix(3).joined(separator: "; "))\(result.unusedRecorded.count > 3 ? "; …" : "")"
        }
        return text
    }

    public static func summary(_ results: [ScenarioResult], wallSeconds: Double) -> String {
        let failed = results.filter { !$0.passed }.count
        return "\(results.count - failed) passed, \(failed) failed (\(results.count) scenario\(results.count == 1 ? "" : "s") in \(String(format: "%.2f", wallSeconds)) s wall time)"
    }
}

/// JUnit XML, one `testcase` per scenario, for CI systems; a scenario file that cannot be
/// loaded is a `testcase` with an `<error>`, so CI shows why nothing ran.
public enum JUnitReport {
    public static func xml(_ results: [ScenarioResult], errors: [ScenarioError] = [], wallSeconds: Double,
                           timestamp: Date = Date(), hostname: String = ProcessInfo.processInfo.hostName) -> String
    {
        let failures = results.filter { !$0.passed }.count
        let tests = results.count + errors.count
        let time = String(format: "%.3f", wallSeconds)
        // JUnit's timestamp is ISO 8601 without a zone (ant's schema); ours is UTC.
        let stamp = String(timestamp.iso8601.prefix(19))
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors.count)\" time=\"\(time)\">\n"
        xml += "  <testsuite name=\"insight-replay\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors.count)\" time=\"\(time)\" timestamp=\"\(stamp)\" hostname=\"\(escape(hostname))\">\n"
        for error in errors {
            xml += "    <testcase classname=\"\(escape(classname(error.file)))\" name=\"\(escape((error.file as NSString).lastPathComponent))\" time=\"0.000\">\n"
            xml += "      <error type=\"ScenarioError\" message=\"\(escape(error.description))\">\(escape(error.description))\nno scenario ran: fix the file (see docs/SCENARIOS.md)</error>\n"
            xml += "    </testcase>\n"
        }
        for result in results {
            xml += "    <testcase classname=\"\(escape(classname(result.file)))\" name=\"\(escape(result.name))\" time=\"\(String(format: "%.3f", result.wallSeconds))\">\n"
            if !result.passed {
                xml += "      <failure message=\"\(escape(result.failures.first ?? ""))\">\(escape(result.failures.joined(separator: "\n")))</failure>\n"
            }
            var out = "provenance: \(result.provenance)\nrequests: \(result.journal.count), virtual time \(Scenario.formatSeconds(result.virtualSeconds))\n"
            if !result.steps.isEmpty { out += "steps:\n" + StepOutcome.describe(result.steps).map { "  \($0)\n" }.joined() }
            if let text = result.diagnosisText { out += text + "\n" }
            if let text = result.clientOutput { out += text }
            xml += "      <system-out>\(escape(out))</system-out>\n"
            xml += "    </testcase>\n"
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    static func classname(_ file: String) -> String {
        let base = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        return "scenarios.\(base)"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            default:
                // XML 1.0 forbids most control characters, even escaped.
                if scalar.value < 0x20 { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
