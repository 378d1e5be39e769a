import Foundation
import InsightCore

/// One request the emulator received, in virtual time. Holds the key's id, never its secret.
public struct JournalEntry: Sendable, Hashable {
    public let sequence: Int
    public let time: Date
    /// Seconds since the emulator's epoch (the start of the scenario).
    public let elapsed: Double
    public let method: String
    /// The host it was sent to, as region and kind: a request's host string is made per request,
    /// and holding it here would free it thousands of requests later, on another thread.
    public let region: Region
    public let hostKind: Region.HostKind
    /// The host it was sent to (`us.api.insight.rapid7.com`).
    public var host: String { hostKind == .platform ? region.platformHost : region.logSearchHost }
    public let path: String
    public let query: String
    /// The scenario id of the key that was sent, `unknown` for a key the region does not know,
    /// nil when none was sent.
    public let keyID: String?
    public let status: Int
    /// Why the emulator answered as it did (`revoked key 'main'`, `fault 429`), for support staff.
    public let reason: String
    /// Names of the request's header fields, lowercased (never their values).
    public var headerNames: [String] {
        headerList.isEmpty ? [] : headerList.split(separator: "\n").map(String.init)
    }
    /// The names in one string, one a line: one allocation per request at most, where an array
    /// of names is one per name (the journal is written on every request).
    var headerList = ""
    /// Seconds the answer's `Retry-After` asked the client to wait, when it had one.
    public var retryAfter: Double?
}

/// A bounded journal: keeps the newest `capacity` entries and counts what it dropped.
public struct Journal: Sendable {
    public let capacity: Int
    public private(set) var entries: [JournalEntry] = []
    public private(set) var dropped = 0
    private var nextSequence = 0
    private var head = 0

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

    /// The names of a request's header fields as `JournalEntry.headerList` keeps them: written
    /// straight into one string (no array of names on the way), the first `maxHeaderNames` and
    /// how many more there were.
    static func headerList(_ headers: HTTPHeaders) -> String {
        let fields = headers.fields
        var list = ""
        for (index, field) in fields.prefix(maxHeaderNames).enumerated() {
            if index > 0 { list += "\n" }
            list += field.name
        }
        if fields.count > maxHeaderNames { list += "\n…(+\(fields.count - maxHeaderNames) headers)" }
        return list
    }

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        entries.reserveCapacity(min(self.capacity, 1024))
    }

    mutating func append(_ make: (Int) -> JournalEntry) {
        let entry = make(nextSequence)
        nextSequence += 1
        if entries.count < capacity {
            entries.append(entry)
        } else {
            entries[head] = entry
            head = (head + 1) % capacity
            dropped += 1
        }
    }

    /// Every request journalled since the last reset, kept or dropped.
    public var total: Int { entries.count + dropped }

    /// Entries oldest first.
    public var ordered: [JournalEntry] {
        Array(entries[head...] + entries[..<head])
    }

    public mutating func reset() {
        entries.removeAll()
        head = 0
        dropped = 0
    }
}
