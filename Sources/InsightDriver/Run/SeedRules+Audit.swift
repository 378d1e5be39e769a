import Foundation
import InsightClient
import InsightCore
import InsightEmulator

/// What seeds/002 requires of an audit-log pull, judged from the records each run appended to
/// `R7_RECORDS_FILE`, what it reported, and the tenant's audit log:
///
/// | rule | the seed's words it stands for |
/// |---|---|
/// | every record a JSON object with the schema's required `action`, `audit_id`, `time` | the `Rapid7.AuditLog` schema |
/// | no more records in a run than the sink takes (`R7_SINK_CAPACITY`) | a pull stopped mid-way (a crash) |
/// | no record handed on twice, over every run | incremental pull: "no duplicate" from the checkpoint |
/// | every record of the log handed on (first pull: the last 30 days) | incremental pull: "no gap" |
/// | no record that breaks the schema handed on; each one reported as rejected | records are decoded against the schema |
/// | every schema field the event carries kept | the schema's fields |
/// | the no-events alert raised exactly when nothing was processed for `R7_ALERT_AFTER` | "alert when no events are processed" |
extension SeedRules {
    /// How far back the first pull reaches (the contract; the built-in puller's look-back).
    static let auditLookback = 30.0 * 86_400

    struct SourceRecord {
        var event: LogSearchEvent
        var decoded: AuditRecord.Decoded
        /// The event's message as JSON (nil when it is not JSON).
        var message: JSON?
    }

    func auditFindings(_ observed: Observed) -> [Finding] {
        let runs = observed.runs.filter { if case .auditPull = $0.step { return true } else { return false } }
        guard let first = runs.first, let last = runs.last else { return [] }
        var findings: [Finding] = []
        let source = observed.auditLog.map { event in
            SourceRecord(event: event, decoded: AuditRecord.decode(timestamp: event.timestamp, sequenceNumber: event.sequenceNumber, message: event.message),
                         message: JSON(data: Data(event.message.utf8)))
        }
        var byID: [String: SourceRecord] = [:]
        for record in source {
            if let id = record.message?["audit_id"]?.stringValue { byID[id] = record }
        }

        // Each line, each run's capacity, and duplicates over every run.
        var handed: [String: (run: Int, line: Int)] = [:]
        var duplicates: [(id: String, first: (run: Int, line: Int), again: (run: Int, line: Int))] = []
        var shapeReported = false
        var fieldsReported = false
        var schemaReported = false
        for run in runs {
            if case .auditPull(let capacity?) = run.step, run.records.count > capacity {
                findings.append(Finding(
                    line: "handed on \(run.records.count) records in run \(run.number), where the sink took only \(capacity) (R7_SINK_CAPACITY): stop when the sink stops, with the checkpoint at the last record it took",
                    category: .noDataSyncing, evidence: ["run \(run.number) (\(run.step!.description)): \(run.records.count) lines in R7_RECORDS_FILE"],
                    remedy: "hand records on one by one and stop at the first the sink refuses"))
            }
            for (line, text) in run.records {
                guard case .object(let record)? = JSON(data: Data(text.utf8)),
                      let id = record["audit_id"]?.stringValue, record["action"]?.stringValue != nil, record["time"]?.stringValue != nil
                else {
                    if !shapeReported {
                        shapeReported = true
                        findings.append(Finding(
                            line: "wrote line \(line) of R7_RECORDS_FILE in run \(run.number) that is not an audit record in the Rapid7.AuditLog schema (a JSON object with string action, audit_id and time): \(text.prefix(120))",
                            category: .noDataSyncing, evidence: ["run \(run.number), line \(line): \(text.prefix(200))"],
                            remedy: "append each record as one JSON object a line: the audit event's message, decoded"))
                    }
                    continue
                }
                if let seen = handed[id] { duplicates.append((id, seen, (run.number, line))) } else { handed[id] = (run.number, line) }
                guard let origin = byID[id] else { continue }
                switch origin.decoded {
                case .rejected(let rejected):
                    if !schemaReported {
                        schemaReported = true
                        findings.append(Finding(
                            line: "handed on audit record \(id) (sequence \(rejected.sequenceNumber)), which breaks the Rapid7.AuditLog schema: \(rejected.reason); reject it and say so",
                            category: .noDataSyncing, evidence: ["run \(run.number), line \(line) of R7_RECORDS_FILE"],
                            remedy: "decode each record against the schema; refuse and report those that break it"))
                    }
                case .record:
                    let kept = JSON.object(record)
                    if !fieldsReported, let message = origin.message,
                       let lost = AuditRecord.schemaFields.first(where: { Self.has(message, path: $0) && !Self.has(kept, path: $0) }) {
                        fieldsReported = true
                        findings.append(Finding(
                            line: "handed on audit record \(id) without \(lost), which its event carries: keep every Rapid7.AuditLog field",
                            category: .noDataSyncing, evidence: ["run \(run.number), line \(line) of R7_RECORDS_FILE"],
                            remedy: "hand on the whole decoded message, every schema field with it"))
                    }
                }
            }
        }
        if let duplicate = duplicates.first {
            findings.append(Finding(
                line: "handed on audit records already handed on \(duplicates.count) time(s), first \(duplicate.id) (run \(duplicate.first.run) line \(duplicate.first.line), again run \(duplicate.again.run) line \(duplicate.again.line)): advance the checkpoint with each record handed on, so a restarted pull resumes after the last one",
                category: .noDataSyncing,
                evidence: duplicates.prefix(3).map { "\($0.id): run \($0.first.run) line \($0.first.line) and run \($0.again.run) line \($0.again.line)" },
                remedy: "keep the timestamp and sequence number of the last record handed on in R7_STATE_DIR; start the next pull after it"))
        }

        // Gaps: what the log held from 30 days before the first pull to the last pull's start.
        let dataExpected = scenario.expect.diagnosis == nil || scenario.expect.diagnosis == .noDataSyncing
        let from = Int64((observed.clockStart.timeIntervalSince1970 + first.startedAt - Self.auditLookback) * 1000)
        let to = Int64((observed.clockStart.timeIntervalSince1970 + last.startedAt) * 1000)
        let due = source.filter { $0.event.timestamp >= from && $0.event.timestamp <= to }
        if dataExpected {
            let missed = due.compactMap { record -> AuditRecord? in
                guard case .record(let decoded) = record.decoded, handed[decoded.auditID] == nil else { return nil }
                return decoded
            }
            if let firstMissed = missed.first {
                let valid = due.filter { if case .record = $0.decoded { return true } else { return false } }.count
                findings.append(Finding(
                    line: "missed \(missed.count) of the \(valid) audit record(s) the log held, first \(firstMissed.auditID) (sequence \(firstMissed.sequenceNumber), \(firstMissed.time.iso8601)): resume from the last record handed on, with no gap",
                    category: .noDataSyncing,
                    evidence: missed.prefix(3).map { "not handed on: \($0.auditID), sequence \($0.sequenceNumber)" }
                        + runs.map { "run \($0.number) (\($0.step!.description)): \($0.records.count) record(s)" },
                    remedy: "checkpoint the record handed on, not the page fetched; query from the checkpoint on the next pull"))
            }
        }

        // Rejections said, once each.
        let malformed = due.filter { if case .rejected = $0.decoded { return true } else { return false } }.count
        let reportedRejected = runs.compactMap { $0.report?["rejected"]?.intValue }
        if dataExpected, malformed > 0 || reportedRejected.contains(where: { $0 > 0 }) {
            let said = reportedRejected.reduce(0, +)
            if said != malformed {
                findings.append(Finding(
                    line: "reported \(said) rejected record(s) over its pulls, where the log held \(malformed) that break the Rapid7.AuditLog schema: report each record refused, once",
                    category: .noDataSyncing, evidence: runs.map { "run \($0.number) reported rejected: \($0.report?["rejected"].map(Self.text) ?? "nothing")" },
                    remedy: "count and name each record the schema refuses; checkpoint past it so the next pull does not refuse it again"))
            }
        }

        if dataExpected { findings += noEventsAlert(runs) }
        return findings
    }

    /// seeds/002's alert, judged run by run: due when a pull processed nothing and nothing was
    /// processed for `alertAfter` (counting from the last pull that handed a record on, else the
    /// first pull).
    private func noEventsAlert(_ runs: [CommandRun]) -> [Finding] {
        guard let alertAfter = scenario.client.audit?.alertAfter, let first = runs.first else { return [] }
        var quietSince = first.startedAt
        for run in runs {
            if !run.records.isEmpty { quietSince = run.startedAt }
            let quiet = run.startedAt - quietSince
            let due = run.records.isEmpty && quiet >= alertAfter
            guard let report = run.report else {
                if due {
                    return [Finding(
                        line: "printed no report in run \(run.number) at \(Scenario.formatSeconds(run.startedAt)), so it never raised the no-events alert due then (nothing processed for \(Scenario.formatSeconds(quiet)))",
                        category: .noDataSyncing, evidence: ["run \(run.number): no JSON object on a line of stdout"],
                        remedy: "end each run with {\"processed\": N, \"rejected\": N, \"alert\": null or the alert's text}")]
                }
                continue
            }
            let raised = report["alert"].map { $0 != .null && $0 != .bool(false) } ?? false
            if due && !raised {
                return [Finding(
                    line: "did not raise the no-events alert in run \(run.number) at \(Scenario.formatSeconds(run.startedAt)): nothing was processed for \(Scenario.formatSeconds(quiet)), and the alert is due after \(Scenario.formatSeconds(alertAfter))",
                    category: .noDataSyncing, evidence: ["run \(run.number) reported alert: \(report["alert"].map(Self.text) ?? "nothing")"],
                    remedy: "keep when a record was last handed on (or the first pull ran) in R7_STATE_DIR; alert when a pull finds nothing and that was R7_ALERT_AFTER ago")]
            }
            if raised && !due {
                let why = run.records.isEmpty ? "after only \(Scenario.formatSeconds(quiet)) without events" : "in a pull that handed on \(run.records.count) record(s)"
                return [Finding(
                    line: "raised the no-events alert in run \(run.number) at \(Scenario.formatSeconds(run.startedAt)) \(why): the alert is for nothing processed in \(Scenario.formatSeconds(alertAfter))",
                    category: .noDataSyncing, evidence: ["run \(run.number) reported alert: \(Self.text(report["alert"]!))"],
                    remedy: "alert only when a pull finds nothing and nothing was processed for R7_ALERT_AFTER seconds")]
            }
        }
        return []
    }

    /// Whether a dotted path (`service_info.event.type`) leads to a value other than null.
    static func has(_ object: JSON, path: String) -> Bool {
        var value: JSON? = object
        for part in path.split(separator: ".") { value = value?[String(part)] }
        return value != nil && value != .null
    }

    static func text(_ value: JSON) -> String { String(decoding: value.encoded(), as: UTF8.self) }
}
