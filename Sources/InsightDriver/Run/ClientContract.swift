import Foundation
import InsightCore

/// The three integrations a client can be: what `run --client --kind` selects.
public enum ClientKind: String, Sendable, CaseIterable, Comparable {
    /// A SIEM connector's URL + token (validate, sync).
    case siem
    /// An audit-log pull: storage region + API key, records handed on with a checkpoint.
    case audit
    /// An InsightConnect trigger notifier: trigger URL + API key, events resent on the schedule.
    case notifier

    /// What a user would call it.
    public var title: String {
        switch self {
        case .siem: return "SIEM connector (URL + token)"
        case .audit: return "audit-log pull (storage region + API key)"
        case .notifier: return "InsightConnect trigger notifier (API URL + API key)"
        }
    }

    /// How a scenario ends when nothing is wrong.
    var success: String {
        switch self {
        case .siem: return "with the data synced"
        case .audit: return "with every record handed on"
        case .notifier: return "with every event delivered"
        }
    }

    public static func < (a: ClientKind, b: ClientKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

extension Scenario {
    /// The integration its client is, from the settings it gives: an audit or notifier block,
    /// else a URL.
    public var clientKind: ClientKind? {
        if client.audit != nil { return .audit }
        if client.notifier != nil { return .notifier }
        return client.url != nil ? .siem : nil
    }
}

/// `run --client CMD`: the user's command stands in for the built-in client of its kind in the
/// catalogue's scenarios, and is judged by what the vendor documents require of any client of that kind.
public struct ClientOverride: Sendable {
    public var command: CommandSpec
    /// Virtual (exact) or scaled wall time.
    public var time: CommandTime
    /// Virtual seconds per wall second, on scaled time.
    public var timeScale: Double
    /// The integrations the command is a client of.
    public var kinds: Set<ClientKind>

    public init(command: CommandSpec, time: CommandTime = .virtual, timeScale: Double, kinds: Set<ClientKind> = [.siem]) {
        self.command = command
        self.time = time
        self.timeScale = timeScale
        self.kinds = kinds
    }

    /// Whether a scenario can run with the command in place of its client: a built-in client of
    /// one of `kinds`, answered by the emulator, not by recordings.
    public func applies(to scenario: Scenario) -> Bool {
        guard let kind = scenario.clientKind else { return false }
        return kinds.contains(kind) && scenario.client.command == nil && scenario.recordings.isEmpty
    }
}

/// What a command client of each kind is given beyond its settings, and what it hands back:
/// the contract `run --client` holds it to (docs/CLIENTS.md, "The contract of each kind").
///
/// | kind | one run stands for | inputs | what it hands back |
/// |---|---|---|---|
/// | SIEM connector | the steps between two waits (`R7_STEPS=validate,sync`) | `R7_BASE_URL`, `R7_API_KEY` | exit 0 when the data arrived |
/// | audit-log pull | one pull (`R7_STEPS=audit_pull`), a restart of the puller | `R7_STORAGE_REGION`, `R7_AUDIT_API_KEY`, `R7_PER_PAGE`, `R7_ALERT_AFTER`, `R7_SINK_CAPACITY` (a crash: the sink takes no more) | each record appended to `R7_RECORDS_FILE` as a JSON line; last stdout line `{"processed": N, "rejected": N, "alert": null or text}` |
/// | notifier | one step (`R7_STEPS=notify`, `test_notification`, `disable`, `enable` or `delete`) | `R7_TRIGGER_URL`, `R7_TRIGGER_API_KEY`, `R7_EVENTS_FILE` (the events of a `notify`, a JSON object a line), `R7_DISABLE_PERCENT`, `R7_DISABLE_WINDOW`, `R7_DISABLE_MINIMUM`, `R7_DISABLE_COUNTS` (`notifications` or `attempts`), `R7_WHILE_DISABLED` (`drop` or `queue`) | last stdout line `{"delivered": N, "undelivered": N, "not_sent": N, "queued": N, "state": "enabled", "disabled" or "deleted"}` |
///
/// Every kind has `R7_STATE_DIR`, a folder kept between the runs of a scenario (the checkpoint,
/// the queue and the notifier's state live there) and removed after it.
struct ClientWorkspace {
    let folder: URL
    var stateDirectory: String { folder.appendingPathComponent("state").path }
    var recordsFile: String { folder.appendingPathComponent("records.jsonl").path }
    var eventsFile: String { folder.appendingPathComponent("events.jsonl").path }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("insight-replay-client-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder.appendingPathComponent("state").path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// The variables a run of `step` gets, and the ids of the events it is given (written to
    /// `R7_EVENTS_FILE`, numbered on from `firstEvent`).
    func prepare(_ step: Step, scenario: Scenario, firstEvent: Int) throws -> (variables: [String: String], events: [String]) {
        var variables: [String: String] = ["R7_STEPS": step.contractName]
        var events: [String] = []
        try? FileManager.default.removeItem(atPath: recordsFile)
        try? FileManager.default.removeItem(atPath: eventsFile)
        switch step {
        case .auditPull(let capacity):
            _ = FileManager.default.createFile(atPath: recordsFile, contents: nil)
            variables["R7_RECORDS_FILE"] = recordsFile
            if let capacity { variables["R7_SINK_CAPACITY"] = String(capacity) }
        case .notify(let count):
            let numbers = firstEvent..<firstEvent + count
            events = numbers.map { Self.eventID(scenario: scenario.name, number: $0) }
            let lines = numbers.map { Self.event(scenario: scenario.name, number: $0) + "\n" }
            try Data(lines.joined().utf8).write(to: URL(fileURLWithPath: eventsFile))
            variables["R7_EVENTS_FILE"] = eventsFile
        default:
            break
        }
        return (variables, events)
    }

    /// The records a run appended, one a line (blank lines skipped, each line's number kept).
    func records() -> [(line: Int, text: String)] {
        guard let data = FileManager.default.contents(atPath: recordsFile) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .compactMap { index, line in
                let text = line.trimmingCharacters(in: .whitespaces)
                return text.isEmpty ? nil : (index + 1, text)
            }
    }

    /// Event `number` of a scenario, as its line in `R7_EVENTS_FILE`.
    static func event(scenario: String, number: Int) -> String {
        let object: JSON = ["id": .string(eventID(scenario: scenario, number: number)),
                            "title": .string("\(scenario) event \(number)"), "severity": "medium"]
        return String(decoding: object.encoded(), as: UTF8.self)
    }

    static func eventID(scenario: String, number: Int) -> String { "\(scenario)#\(number)" }

    /// Whether a body carries event `id`, however it was nested or quoted (the id ends where a
    /// digit does not follow).
    static func body(_ body: String, carries id: String) -> Bool {
        var search = body[...]
        while let range = search.range(of: id) {
            if range.upperBound == body.endIndex || !body[range.upperBound].isNumber { return true }
            search = body[range.upperBound...]
        }
        return false
    }
}

/// One run of a command client, for judging it by its kind's rules.
struct CommandRun {
    /// The scenario step it stood for (nil for a SIEM connector's runs of several steps).
    var step: Step?
    var number: Int
    /// Virtual seconds since the start when it began.
    var startedAt: Double
    /// The journal's total and the deliveries' count when it began.
    var journalStart: Int
    var deliveriesStart: Int
    /// The events it was given (`R7_EVENTS_FILE`), by id.
    var events: [String] = []
    var records: [(line: Int, text: String)] = []
    var exitCode: Int32?
    /// The last JSON object it printed on a line of stdout.
    var report: [String: JSON]?
}

extension Step {
    /// What `R7_STEPS` says for a run standing for this step alone.
    var contractName: String {
        switch self {
        case .auditPull: return "audit_pull"
        case .notify: return "notify"
        case .notifier(let action): return action.rawValue
        default: return description
        }
    }
}
