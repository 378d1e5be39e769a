import Foundation
import InsightCore

/// `run --html`: one self-contained page (inline CSS and SVG, no script, no fetch) with the
/// run's summary, each scenario's result and diagnosis, and per scenario a timeline on virtual
/// time of its requests (coloured by status), retries, waits, faults and timeline events.
public enum HTMLReport {
    public static func page(_ report: RunReport) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>InsightReplay run: \(report.summary.passed) passed, \(report.summary.failed) failed</title>
            <style>\(style)</style></head><body>
            <header><h1>InsightReplay run</h1>
            <p class="counts"><span class="pass">\(report.summary.passed) passed</span> · <span class="fail">\(report.summary.failed) failed</span>\
            \(report.summary.errors > 0 ? " · <span class=\"fail\">\(report.summary.errors) bad file(s)</span>" : "") · \(report.summary.scenarios) scenarios in \(String(format: "%.2f", report.wallSeconds)) s</p>
            <p class="meta">generated \(escape(report.generatedAt)) on \(escape(report.hostname))\(report.commit.map { " · commit " + escape($0) } ?? "")</p>
            </header>

            """
        if !report.errors.isEmpty {
            html += "<section class=\"errors\"><h2>Scenario files with errors (nothing ran)</h2><ul>\n"
            for error in report.errors {
                let location = [error.file, error.line.map(String.init), error.column.map(String.init)].compactMap { $0 }.joined(separator: ":")
                html += "<li><code>\(escape(location))</code>\(error.field.isEmpty ? "" : " <code>\(escape(error.field))</code>"): \(escape(error.message))</li>\n"
            }
            html += "</ul></section>\n"
        }
        // Failures first, then the rest by name; a filter without script (radio buttons and CSS)
        // shows only the failures, in the table and below it.
        let order = report.scenarios.indices.sorted { (report.scenarios[$0].passed ? 1 : 0, $0) < (report.scenarios[$1].passed ? 1 : 0, $1) }
        if !report.scenarios.isEmpty {
            html += "<input type=\"radio\" name=\"show\" id=\"show-all\" checked><label for=\"show-all\">all \(report.scenarios.count)</label> "
            html += "<input type=\"radio\" name=\"show\" id=\"show-failed\"><label for=\"show-failed\">failures only (\(report.summary.failed))</label>\n"
            html += "<table class=\"summary\"><thead><tr><th>result</th><th>scenario</th><th>diagnosis</th><th>requests</th><th>virtual time</th></tr></thead><tbody>\n"
            for index in order {
                let scenario = report.scenarios[index]
                html += "<tr class=\"\(scenario.passed ? "passed" : "failed")\"><td>\(badge(scenario.passed))</td><td><a href=\"#s\(index)\">\(escape(scenario.name))</a></td>"
                html += "<td>\(escape(scenario.clientExit.map { "client exit \($0)" } ?? scenario.diagnosis?.category ?? "none"))</td>"
                html += "<td class=\"num\">\(scenario.requests.count)</td><td class=\"num\">\(duration(scenario.virtualSeconds))</td></tr>\n"
            }
            html += "</tbody></table>\n"
            html += legend
        }
        for index in order { html += section(report.scenarios[index], index: index) }
        html += "</body></html>\n"
        return html
    }

    static func section(_ scenario: RunReport.ScenarioReport, index: Int) -> String {
        var html = "<section class=\"scenario \(scenario.passed ? "passed" : "failed")\" id=\"s\(index)\">\n"
        html += "<h2>\(badge(scenario.passed)) \(escape(scenario.name))</h2>\n"
        html += "<p class=\"meta\">\(escape(scenario.provenance)) · <code>\(escape(scenario.file))</code> · \(scenario.requests.count) request(s), virtual \(duration(scenario.virtualSeconds)), wall \(String(format: "%.3f", scenario.wallSeconds)) s</p>\n"
        if !scenario.failures.isEmpty {
            html += "<div class=\"failures\"><h3>Unmet expectations</h3><ul>"
            for failure in scenario.failures { html += "<li><pre>\(escape(failure))</pre></li>" }
            html += "</ul></div>\n"
        }
        html += steps(scenario.steps)
        if let diagnosis = scenario.diagnosis { html += Self.diagnosis(diagnosis) }
        html += timeline(scenario)
        if !scenario.faults.isEmpty {
            html += "<p class=\"faults\">faults: \(scenario.faults.map(escape).joined(separator: "; "))</p>\n"
        }
        if !scenario.unusedRecorded.isEmpty {
            html += "<p class=\"meta\">\(scenario.unusedRecorded.count) recorded exchange(s) never used: \(scenario.unusedRecorded.prefix(5).map(escape).joined(separator: "; "))</p>\n"
        }
        if !scenario.requests.isEmpty {
            html += "<details><summary>\(scenario.requests.count) request(s)</summary><table class=\"requests\"><thead><tr><th>virtual</th><th>request</th><th>status</th><th>why</th></tr></thead><tbody>\n"
            for request in scenario.requests {
                html += "<tr><td class=\"num\">\(duration(request.at))</td><td><code>\(escape(request.method)) \(escape(request.host))\(escape(request.path))</code>\(request.retry ? " <span class=\"retry\">retry</span>" : "")</td>"
                html += "<td><span class=\"status\" style=\"background:\(colour(request.status))\">\(request.status)</span></td><td>\(escape(request.reason))\(request.retryAfter.map { " · Retry-After \(Int($0)) s" } ?? "")</td></tr>\n"
            }
            html += "</tbody></table></details>\n"
        }
        return html + "</section>\n"
    }

    static func diagnosis(_ diagnosis: RunReport.DiagnosisReport) -> String {
        var html = "<div class=\"diagnosis\"><h3>\(escape(diagnosis.title)) <code>\(escape(diagnosis.category))</code></h3><p>\(escape(diagnosis.summary))</p>"
        if !diagnosis.evidence.isEmpty {
            html += "<p class=\"label\">evidence</p><ul>" + diagnosis.evidence.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        }
        html += "<p class=\"label\">causes, most likely first</p><ol>"
        for cause in diagnosis.causes {
            let css = cause.likelihood.replacingOccurrences(of: " ", with: "-")
            html += "<li><span class=\"likelihood \(css)\">\(escape(cause.likelihood))</span> \(escape(cause.text))\(cause.because.map { " — <em>\(escape($0))</em>" } ?? "")</li>"
        }
        html += "</ol><p class=\"label\">how to fix</p><ul>" + diagnosis.remedies.map { "<li>\(escape($0))</li>" }.joined() + "</ul></div>\n"
        return html
    }

    // MARK: The timeline

    static let width = 960.0, left = 16.0, right = 16.0

    /// Requests as status-coloured ticks on virtual time (retries ringed, Retry-After drawn as
    /// the wait it asked for), waits longer than a twentieth of the span labelled, timeline
    /// events as triangles below, and a time axis.
    static func timeline(_ scenario: RunReport.ScenarioReport) -> String {
        let requests = scenario.requests
        guard !requests.isEmpty || !scenario.timeline.isEmpty else { return "" }
        let last = max(scenario.virtualSeconds, requests.last?.at ?? 0, scenario.timeline.map(\.at).max() ?? 0)
        let span = max(last, 1)
        let plot = width - left - right
        func x(_ seconds: Double) -> Double { left + plot * min(max(seconds, 0), span) / span }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        // The steps worth marking: each failure, and the first success after one (the recovery).
        let marked = stepMarks(scenario.steps)
        var svg = "<svg class=\"timeline\" viewBox=\"0 0 \(Int(width)) \(marked.isEmpty ? 112 : 126)\" width=\"100%\" role=\"img\" aria-label=\"requests on virtual time\">\n"
        svg += "<line x1=\"\(f(left))\" y1=\"62\" x2=\"\(f(width - right))\" y2=\"62\" class=\"axis\"/>\n"
        let ticks = Self.ticks(span: span)
        for (number, seconds) in ticks.enumerated() {
            let anchor = number == 0 ? "start" : seconds >= span * 0.95 ? "end" : "middle"
            svg += "<line x1=\"\(f(x(seconds)))\" y1=\"62\" x2=\"\(f(x(seconds)))\" y2=\"66\" class=\"axis\"/><text x=\"\(f(x(seconds)))\" y=\"78\" text-anchor=\"\(anchor)\">\(duration(seconds))</text>\n"
        }
        // Waits: the gaps between requests worth a glance.
        for (previous, next) in zip(requests, requests.dropFirst()) where next.at - previous.at >= span / 20 && next.at > previous.at {
            let middle = (x(previous.at) + x(next.at)) / 2
            svg += "<path d=\"M\(f(x(previous.at))) 14 L\(f(x(previous.at))) 10 L\(f(x(next.at))) 10 L\(f(x(next.at))) 14\" class=\"wait\"/><text x=\"\(f(middle))\" y=\"8\" text-anchor=\"middle\" class=\"small\">wait \(duration((next.at - previous.at).rounded()))</text>\n"
        }
        for request in requests {
            let position = f(x(request.at))
            let title = escape("\(duration(request.at)) \(request.method) \(request.host)\(request.path) → \(request.status) (\(request.reason))\(request.retry ? ", retry" : "")")
            let fault = request.reason.hasPrefix("fault") ? " stroke-dasharray=\"3 2\"" : ""
            svg += "<g><title>\(title)</title><line x1=\"\(position)\" y1=\"20\" x2=\"\(position)\" y2=\"56\" stroke=\"\(colour(request.status))\" stroke-width=\"3\"\(fault)/>"
            if request.retry { svg += "<circle cx=\"\(position)\" cy=\"17\" r=\"3\" class=\"retry\"/>" }
            if let wait = request.retryAfter, wait > 0 {
                svg += "<line x1=\"\(position)\" y1=\"52\" x2=\"\(f(x(request.at + wait)))\" y2=\"52\" class=\"retry-after\"/>"
            }
            svg += "</g>\n"
        }
        for mark in scenario.timeline {
            let position = x(mark.at)
            svg += "<g><title>\(escape("\(duration(mark.at)): \(mark.text)"))</title><path d=\"M\(f(position)) 86 L\(f(position - 5)) 95 L\(f(position + 5)) 95 Z\" class=\"event\"/><text x=\"\(f(min(max(position, left + 60), width - right - 60)))\" y=\"108\" text-anchor=\"middle\" class=\"small\">\(escape(mark.text))</text></g>\n"
        }
        for (step, recovered) in marked {
            let position = x(step.at)
            let text = recovered ? "✓ \(step.number) \(step.step): recovered" : "✕ \(step.number) \(step.step): \(step.diagnosis ?? "failed")"
            svg += "<g><title>\(escape("\(duration(step.at)): step \(step.number) \(step.step) → \(step.diagnosis ?? "none")\(step.summary.map { ": \($0)" } ?? "")"))</title><text x=\"\(f(min(max(position, left + 60), width - right - 60)))\" y=\"122\" text-anchor=\"middle\" class=\"small \(recovered ? "recovered" : "failed-step")\">\(escape(text))</text></g>\n"
        }
        return svg + "</svg>\n"
    }

    /// Failed steps, and the first success after a failure, for the timeline.
    static func stepMarks(_ steps: [StepOutcome]) -> [(StepOutcome, recovered: Bool)] {
        var marks: [(StepOutcome, recovered: Bool)] = []
        var failing = false
        for step in steps {
            if step.failed {
                marks.append((step, false))
                failing = true
            } else if failing {
                marks.append((step, true))
                failing = false
            }
        }
        return marks
    }

    /// Each step's outcome, when some step failed: where the failure and the recovery were.
    static func steps(_ steps: [StepOutcome]) -> String {
        guard steps.contains(where: \.failed) else { return "" }
        var html = "<table class=\"steps\"><thead><tr><th>step</th><th>virtual</th><th>outcome</th></tr></thead><tbody>\n"
        var failedBefore = false
        for step in steps {
            let state = step.failed ? "failed" : failedBefore ? "recovered" : "ok"
            failedBefore = failedBefore || step.failed
            html += "<tr class=\"\(state == "failed" ? "failed-step" : state)\"><td>\(step.number) \(escape(step.step))</td><td class=\"num\">\(duration(step.at))</td><td><code>\(escape(step.diagnosis ?? "none"))</code> \(state == "ok" ? "" : state)\(step.summary.map { " · " + escape($0) } ?? "")</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    /// Status colours: 2xx green, 3xx blue, 401/403 red, other 4xx orange, 429 purple, 5xx
    /// brown, 501 (a replay miss) grey.
    static func colour(_ status: Int) -> String {
        switch status {
        case 200..<300: return "#2e7d32"
        case 300..<400: return "#1565c0"
        case 401, 403: return "#c62828"
        case 429: return "#6a1b9a"
        case 501: return "#757575"
        case 400..<500: return "#ef6c00"
        default: return "#6d4c41"
        }
    }

    static let legend: String = {
        let items = [("2xx", 200), ("3xx", 300), ("401/403", 401), ("other 4xx", 404), ("429", 429), ("5xx", 503), ("501 replay miss", 501)]
        return "<p class=\"legend\">" + items.map { "<span class=\"status\" style=\"background:\(colour($0.1))\">\($0.0)</span>" }.joined(separator: " ")
            + " <span class=\"retry\">◯ retry</span> <span>▲ timeline event</span> <span class=\"failed-step\">✕ step failed</span> <span class=\"recovered\">✓ recovered</span> <span>— Retry-After</span> <span>┌┐ wait</span></p>\n"
    }()

    /// Virtual time for a glance: 2h, 1h 30m, 5m 0s → 5m, 2.5s, 0s.
    /// Axis ticks for a span: a step of 0.1, 0.5, 1, 5, 10, 30 s, 1, 5, 15, 30 min, 1, 2, 6, 12 h
    /// or a day, the first that gives at most five intervals; each label distinct.
    static func ticks(span: Double) -> [Double] {
        let steps: [Double] = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400]
        let step = steps.first { span / $0 <= 5 } ?? (span / 5 / 86_400).rounded(.up) * 86_400
        return stride(from: 0, through: span + step * 1e-9, by: step).map { $0 }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 60 else {
            return seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
        }
        let total = Int(seconds.rounded())
        let (hours, minutes, rest) = (total / 3600, total % 3600 / 60, total % 60)
        return [hours > 0 ? "\(hours)h" : nil, minutes > 0 ? "\(minutes)m" : nil, rest > 0 && hours == 0 ? "\(rest)s" : nil]
            .compactMap { $0 }.joined(separator: " ")
    }

    static func badge(_ passed: Bool) -> String {
        passed ? "<span class=\"badge pass\">PASS</span>" : "<span class=\"badge fail\">FAIL</span>"
    }

    /// The same escaping as the JUnit report's (control characters replaced): valid in HTML too.
    static func escape(_ text: String) -> String { JUnitReport.escape(text) }

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}
        h1{margin:0 0 4px}h2{font-size:17px;margin:0 0 4px}h3{font-size:15px;margin:8px 0 4px}
        .counts{font-size:16px;margin:0}.meta{color:#666;margin:2px 0}.pass{color:#2e7d32}.fail{color:#c62828}
        .badge{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;font-size:12px;font-weight:600}
        .badge.pass{background:#2e7d32}.badge.fail{background:#c62828}
        table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eee;vertical-align:top}
        td.num{text-align:right;font-variant-numeric:tabular-nums}
        .scenario{border:1px solid #ddd;border-left:5px solid #2e7d32;border-radius:4px;padding:10px 14px;margin:14px 0}
        .scenario.failed{border-left-color:#c62828}
        .failures pre{white-space:pre-wrap;margin:0;color:#c62828}
        .diagnosis{background:#f7f7f9;border-radius:4px;padding:6px 12px}.diagnosis ul,.diagnosis ol{margin:2px 0 6px}
        .label{font-weight:600;margin:6px 0 0;color:#444}
        .likelihood{display:inline-block;min-width:78px;font-size:12px;color:#fff;border-radius:3px;padding:0 4px;text-align:center}
        .likelihood.confirmed{background:#c62828}.likelihood.likely{background:#ef6c00}.likelihood.possible{background:#9e9e9e}
        .likelihood.not-checked{background:#fff;color:#555;border:1px dashed #999}.likelihood.ruled-out{background:#ddd;color:#555;text-decoration:line-through}
        .status{display:inline-block;color:#fff;border-radius:3px;padding:0 5px;font-size:12px}
        .retry{color:#1565c0}circle.retry{fill:none;stroke:#1565c0;stroke-width:1.5}
        svg.timeline{background:#fcfcfc;border:1px solid #eee;border-radius:4px;margin:8px 0}
        #show-failed:checked ~ table.summary tr.passed, #show-failed:checked ~ section.scenario.passed{display:none}
        input[name=show]{margin-left:0}label{margin-right:12px}
        .failed-step{color:#c62828;fill:#c62828}.recovered{color:#2e7d32;fill:#2e7d32}table.steps td{padding:1px 8px}
        svg text{font-size:11px;fill:#555}svg text.small{font-size:10px}
        .axis{stroke:#999;stroke-width:1}.wait{fill:none;stroke:#999;stroke-width:1}
        .retry-after{stroke:#6a1b9a;stroke-width:2;stroke-dasharray:4 2}.event{fill:#f9a825;stroke:#8d6e00}
        .legend span{margin-right:6px}.faults{color:#6d4c41}
        .errors{border:1px solid #c62828;border-radius:4px;padding:8px 14px;background:#fff5f5}
        code{font-size:12px}
        """
}
