import Foundation
import InsightClient
import InsightCore
import InsightEmulator
import Yams

/// The expectations: diagnoses, causes, requests, reports.
extension ScenarioParser {
    /// `{ cause: TEXT, rank: N, likelihood: L }`, or just the text.
    func causeExpectation(_ value: YAMLValue) throws -> CauseExpectation {
        if case .scalar = value.node { return CauseExpectation(cause: try value.nonEmptyString()) }
        var map = try value.mapping()
        var expectation = CauseExpectation(cause: try map.required("cause").nonEmptyString())
        expectation.rank = try map.optional("rank")?.int(in: 1...20)
        if let likelihood = map.optional("likelihood") {
            let names = Likelihood.allCases.map { $0.description.replacingOccurrences(of: " ", with: "_") }
            let name = try likelihood.choice(names)
            expectation.likelihood = Likelihood.allCases.first { $0.description.replacingOccurrences(of: " ", with: "_") == name }
        }
        try map.finish()
        return expectation
    }

    func expectations(_ value: YAMLValue) throws -> Expectations {
        var map = try value.mapping()
        // Each field on its own, so every error of the expectations is reported together.
        let gathered = ScenarioError.Gathered(file: file)
        func collect(_ body: () throws -> Void) { _ = gathered.attempt(body) }
        var expect = Expectations()
        collect {
            let diagnosis = try map.required("diagnosis").choice(["none"] + DiagnosisCategory.allCases.map(\.rawValue))
            expect.diagnosis = DiagnosisCategory(rawValue: diagnosis)
        }
        collect {
            expect.stepDiagnoses = try map.optional("step_diagnoses")?.list().map { item in
                DiagnosisCategory(rawValue: try item.choice(["none"] + DiagnosisCategory.allCases.map(\.rawValue)))
            }
        }
        collect { expect.summaryMentions = try map.optional("summary_mentions")?.strings() ?? [] }
        collect { expect.evidence = try map.optional("evidence")?.strings() ?? [] }
        collect { expect.topCause = try map.optional("top_cause")?.nonEmptyString() }
        collect { expect.remedyMentions = try map.optional("remedy_mentions")?.strings() ?? [] }
        collect { expect.causes = try map.optional("causes")?.list().map(causeExpectation) ?? [] }
        collect { expect.notCauses = try map.optional("not_causes")?.strings() ?? [] }
        collect {
            if let ranked = map.optional("ranked") {
                expect.ranked = try ranked.strings()
                if expect.ranked?.isEmpty == true { throw ranked.error("needs the causes in order, most likely first") }
            }
        }
        collect { expect.notMentions = try map.optional("not_mentions")?.strings() ?? [] }
        collect { expect.evidenceLines = try map.optional("evidence_lines")?.list().map { try $0.string() } }
        collect { expect.logMentions = try map.optional("log_mentions")?.strings() ?? [] }
        collect { expect.logNotMentions = try map.optional("log_not_mentions")?.strings() ?? [] }
        collect {
            if let requests = map.optional("requests") {
                switch requests.node {
                case .scalar: expect.requests = try requests.int(in: 0...1_000_000)
                case .mapping: expect.requestFilters = [try requestFilter(requests)]
                default: expect.requestFilters = try requests.list().map(requestFilter)
                }
            }
        }
        collect { expect.timeTolerance = try map.optional("time_tolerance")?.number() }
        collect {
            if let exit = map.optional("exit_code") {
                if case .scalar(let scalar) = exit.node, scalar.string == "nonzero" {
                    expect.exitCode = .nonzero
                } else {
                    expect.exitCode = .code(Int32(try exit.int(in: 0...255)))
                }
            }
        }
        collect { expect.outputMentions = try map.optional("output_mentions")?.strings() ?? [] }
        collect { expect.stdoutMentions = try map.optional("stdout_mentions")?.strings() ?? [] }
        collect { expect.stderrMentions = try map.optional("stderr_mentions")?.strings() ?? [] }
        collect { expect.outputNotMentions = try map.optional("output_not_mentions")?.strings() ?? [] }
        collect {
            if let reported = map.optional("reported") {
                var inner = try reported.mapping()
                for name in inner.keys {
                    let value = inner.optional(name)!
                    guard case .scalar(let scalar) = value.node else { throw value.error("expected a number, text or true/false") }
                    if let number = value.node.int { expect.reported.append((name, .int(Int64(number)))) }
                    else if let flag = value.node.bool, scalar.style == .plain { expect.reported.append((name, .bool(flag))) }
                    else if let number = value.node.float, scalar.style == .plain { expect.reported.append((name, .double(number))) }
                    else { expect.reported.append((name, .string(scalar.string))) }
                }
                try inner.finish()
            }
        }
        collect { expect.requestTimes = try map.optional("request_times")?.list().map { try $0.number() } }
        collect { expect.statuses = try map.optional("statuses")?.list().map { try $0.int(in: 100...599) } }
        collect {
            if let audit = map.optional("audit") {
                var inner = try audit.mapping()
                expect.auditProcessed = try inner.optional("processed")?.int(in: 0...100_000_000)
                expect.auditRejected = try inner.optional("rejected")?.int(in: 0...100_000_000)
                expect.auditDuplicates = try inner.optional("duplicates")?.int(in: 0...100_000_000)
                expect.auditRejectedMentions = try inner.optional("rejected_mentions")?.strings() ?? []
                if let alert = inner.optional("alert_at") {
                    if case .scalar(let scalar) = alert.node, scalar.string == "never" {
                        expect.auditAlertAt = .never
                    } else {
                        expect.auditAlertAt = .at(try alert.number())
                    }
                }
                if let fields = inner.optional("with_fields") {
                    for item in try Self.items(fields) {
                        let name = try item.nonEmptyString()
                        guard AuditRecord.schemaFields.contains(name) else {
                            throw item.error("'\(name)' is not a Rapid7.AuditLog field; the fields: \(AuditRecord.schemaFields.joined(separator: ", "))")
                        }
                        expect.auditWithFields.append(name)
                    }
                }
                try inner.finish()
            }
        }
        collect {
            if let notifications = map.optional("notifications") {
                var inner = try notifications.mapping()
                expect.notificationsDelivered = try inner.optional("delivered")?.int(in: 0...100_000_000)
                expect.notificationsUndelivered = try inner.optional("undelivered")?.int(in: 0...100_000_000)
                expect.notificationsNotSent = try inner.optional("not_sent")?.int(in: 0...100_000_000)
                expect.notifierDisabled = try inner.optional("disabled")?.bool()
                expect.notifierState = try inner.optional("state")?.choice(["enabled", "disabled", "deleted"])
                try inner.finish()
            }
        }
        collect { expect.deliveries = try map.optional("deliveries")?.int(in: 0...100_000_000) }
        collect { expect.deliveryMentions = try map.optional("delivery_mentions")?.strings() ?? [] }
        collect { expect.systemMessages = try map.optional("system_messages")?.strings() ?? [] }
        collect { expect.deliveryNotMentions = try map.optional("delivery_not_mentions")?.strings() ?? [] }
        collect {
            if let synced = map.optional("synced") {
                var inner = try synced.mapping()
                expect.syncedInvestigations = try inner.optional("investigations")?.int(in: 0...1_000_000)
                expect.syncedAlerts = try inner.optional("alerts")?.int(in: 0...1_000_000)
                expect.syncedLogEvents = try inner.optional("log_events")?.int(in: 0...100_000_000)
                expect.syncedLogSources = try inner.optional("log_sources")?.int(in: 0...1_000_000)
                expect.syncedDuplicates = try inner.optional("duplicates")?.int(in: 0...1_000_000)
                expect.syncedMissed = try inner.optional("missed")?.int(in: 0...1_000_000)
                expect.syncedFromLogSets = try inner.optional("from_log_sets")?.strings() ?? []
                try inner.finish()
            }
        }
        collect { try map.finish() }
        try gathered.throwIfAny(sorted: false)
        if expect.diagnosis == nil, !(expect.summaryMentions.isEmpty && expect.evidence.isEmpty
                                      && expect.topCause == nil && expect.remedyMentions.isEmpty) {
            throw value.error("diagnosis is none, so summary_mentions, evidence, top_cause and remedy_mentions cannot apply")
        }
        return expect
    }
}
