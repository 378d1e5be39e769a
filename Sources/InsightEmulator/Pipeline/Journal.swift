import Foundation
import InsightCore

/// One request the emulator received, in virtual time. Holds the key's id, never its secret.
public struct JournalEntry: Sendable, Hashable {
    public let sequence: Int
    public let time: Date
    /// Seconds since the emulator's epoch (the start of the scenario).
    public let elapsed: Double
    /// What the request and its answer were, beyond when: shared by the alike requests of a
    /// client that asks the same thing again (see `Journal`).
    let template: Template

    public var method: String { template.method }
    /// The host it was sent to, as region and kind: a request's host string is made per request,
    /// and holding it here would free it thousands of requests later, on another thread.
    public var region: Region { template.region }
    public var hostKind: Region.HostKind { template.hostKind }
    /// The host it was sent to (`us.api.insight.rapid7.com`).
    public var host: String { region.host(hostKind) }
    public var path: String { template.path }
    public var query: String { template.query }
    /// The scenario id of the key that was sent, `unknown` for a key the region does not know,
    /// nil when none was sent.
    public var keyID: String? { template.keyID }
    public var status: Int { template.status }
    /// Why the emulator answered as it did (`revoked key 'main'`, `fault 429`), for support staff.
    public var reason: String { template.reason }
    /// Names of the request's header fields, lowercased (never their values).
    public var headerNames: [String] {
        template.headerList.isEmpty ? [] : template.headerList.split(separator: "\n").map(String.init)
    }
    /// Seconds the answer's `Retry-After` asked the client to wait, when it had one.
    public var retryAfter: Double? { template.retryAfter }

    /// Everything of an entry but its sequence and time.
    struct Template: Sendable, Hashable {
        var method: String
        var region: Region
        var hostKind: Region.HostKind
        var path: String
        var query: String
        var keyID: String?
        var status: Int
        var reason: String
        /// The names in one string, one a line: one allocation per request at most, where an
        /// array of names is one per name.
        var headerList: String
        var retryAfter: Double?
    }
}

/// A bounded journal: keeps the newest `capacity` entries and counts what it dropped.
public struct Journal: Sendable {
    public let capacity: Int

    /// What an entry keeps of a path or query, in UTF-8 bytes, and of header names: a request
    /// with a 100 KB path or 5,000 headers must not make the journal hold megabytes per entry
    /// (found by `insight-replay hostile`: RSS grew 33 → 114 MB over 10,000 hostile inputs).
    public static let maxText = 2_048
    public static let maxHeaderNames = 64

    /// `text`, or its first `maxText` bytes (on a character boundary) and how many were left out.
    static func clip(_ text: String) -> String {
        guard text.utf8.count > maxText else { return text }
        var kept = Substring(text).prefix(maxText)
        while kept.utf8.count > maxText { kept = kept.dropLast() }
        return kept + "…(+\(text.utf8.count - kept.utf8.count) bytes)"
    }

    /// A request's query as the journal keeps it: clipped, and the value of every secret-named
    /// parameter (`?api_key=`) replaced, so the journal and the admin API never show a key.
    static func queryText(_ query: [URLQueryItem]) -> String {
        clip(query.map { item in
            "\(item.name)=\(Redaction.isSecretName(item.name) ? Redaction.placeholder : item.value ?? "")"
        }.joined(separator: "&"))
    }

    /// The names of a request's header fields as a journal template keeps them: written
    /// straight into one string (no array of names on the way), the first `maxHeaderNames` and
    /// how many more there were. Read by index, so no field's value is copied on the way.
    static func headerList(_ headers: HTTPHeaders) -> String {
        let fields = headers.fields
        let kept = fields.indices.prefix(maxHeaderNames)
        // One field (a key and nothing else): its name is the list, shared rather than copied.
        if fields.count == 1 { return fields[0].name }
        var list = ""
        list.reserveCapacity(kept.reduce(0) { $0 + fields[$1].name.utf8.count + 1 })
        for index in kept {
            if index > 0 { list += "\n" }
            list += fields[index].name
        }
        if fields.count > maxHeaderNames { list += "\n…(+\(fields.count - maxHeaderNames) headers)" }
        return list
    }

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// When each request came and which template holds the rest (24 bytes): the newest
    /// `capacity`, a ring from `head`. A whole entry is 152 bytes; written on every request
    /// into a ring of 10,000, each landed on memory untouched since 10,000 requests before,
    /// which cost about 110 ns a request over loopback (`Benchmarks/server.sh`).
    private var stamps: [Stamp] = []
    private var head = 0
    private struct Stamp {
        var time: Date
        var elapsed: Double
        /// The template's number (not its slot): templates are numbered as they are made.
        var template: Int
    }
    /// Templates, a ring of `capacity` by number. A request alike its predecessor (a client
    /// polling, a sync paging the same query) takes the newest template again; at most one is
    /// made per request, so the templates of the entries kept are always among the newest
    /// `capacity` made and none is overwritten while an entry refers to it.
    private var templates: [JournalEntry.Template] = []
    private(set) var templatesMade = 0

    public private(set) var dropped = 0
    private var nextSequence = 0

    /// Journals a request.
    mutating func append(time: Date, elapsed: Double, _ template: JournalEntry.Template) {
        if templatesMade == 0 || templates[(templatesMade - 1) % capacity] != template {
            if templates.count < capacity {
                templates.append(template)
            } else {
                templates[templatesMade % capacity] = template
            }
            templatesMade += 1
        }
        let stamp = Stamp(time: time, elapsed: elapsed, template: templatesMade - 1)
        nextSequence += 1
        if stamps.count < capacity {
            stamps.append(stamp)
        } else {
            stamps[head] = stamp
            head = (head + 1) % capacity
            dropped += 1
        }
    }

    /// Every request journalled since the last reset, kept or dropped.
    public var total: Int { stamps.count + dropped }

    /// Entries oldest first.
    public var ordered: [JournalEntry] {
        let first = nextSequence - stamps.count
        return (0..<stamps.count).map { offset in
            let stamp = stamps[(head + offset) % stamps.count]
            return JournalEntry(sequence: first + offset, time: stamp.time, elapsed: stamp.elapsed,
                                template: templates[stamp.template % capacity])
        }
    }

    public mutating func reset() {
        stamps.removeAll()
        templates.removeAll()
        templatesMade = 0
        head = 0
        dropped = 0
    }
}
