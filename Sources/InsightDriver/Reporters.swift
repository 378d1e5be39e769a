import Foundation
import InsightCore

/// The console report: one line per scenario, the reasons under a failure, then a summary.
public enum ConsoleReport {
    public static func line(_ result: ScenarioResult, nameWidth: Int = 44) -> String {
        let mark = result.passed ? "PASS" : "FAIL"
        let name = result.name.padding(toLength: max(nameWidth, result.name.count), withPad: " ", startingAt: 0)
        let outcome = result.exitCode.map { "client exit \($0)" } ?? result.diagnosis?.category.rawValue ?? "none"
        let diagnosis = outcome.padding(toLength: 30, withPad: " ", startingAt: 0)
        var text = "\(mark)  \(name)  \(diagnosis) \(String(format: "%3d", result.journal.count)) req  virtual \(Scenario.formatSeconds(result.virtualSeconds))"
        for failure in result.failures { text += "\n      - \(failure.replacingOccurrences(of: "\n", with: "\n        "))" }
        if !result.unusedRecorded.isEmpty {
            text += "\n      note: \(result.unusedRecorded.count) recorded exchange(s) never used: \(result.unusedRecorded.prefix(3).joined(separator: "; "))\(result.unusedRecorded.count > 3 ? "; …" : "")"
        }
        return text
    }

    public static func summary(_ results: [ScenarioResult], wallSeconds: Double) -> String {
        let failed = results.filter { !$0.passed }.count
        return "\(results.count - failed) passed, \(failed) failed (\(results.count) scenarios in \(String(format: "%.2f", wallSeconds)) s wall time)"
    }
}

/// JUnit XML, one `testcase` per scenario, for CI systems.
public enum JUnitReport {
    public static func xml(_ results: [ScenarioResult], wallSeconds: Double) -> String {
        let failures = results.filter { !$0.passed }.count
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites tests=\"\(results.count)\" failures=\"\(failures)\" time=\"\(String(format: "%.3f", wallSeconds))\">\n"
        xml += "  <testsuite name=\"insight-replay\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(String(format: "%.3f", wallSeconds))\">\n"
        for result in results {
            xml += "    <testcase classname=\"\(escape(classname(result.file)))\" name=\"\(escape(result.name))\" time=\"\(String(format: "%.3f", result.wallSeconds))\">\n"
            if !result.passed {
                xml += "      <failure message=\"\(escape(result.failures.first ?? ""))\">\(escape(result.failures.joined(separator: "\n")))</failure>\n"
            }
            var out = "provenance: \(result.provenance)\nrequests: \(result.journal.count), virtual time \(Scenario.formatSeconds(result.virtualSeconds))\n"
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
