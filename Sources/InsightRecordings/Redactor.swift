import Foundation
import InsightCore

/// Makes recordings safe to keep (DESIGN principle 5).
///
/// - Headers are kept by allow-list; `X-Api-Key` and `Authorization` become numbered placeholders
///   (`<redacted-key-1>`, `Bearer <redacted-key-2>`), so a reader can tell which requests carried
///   the same key; cookies become `<redacted>`.
/// - A key is any value seen in an auth header, or a UUID in a secret-named field (query
///   parameter or JSON key containing key, token, secret, password or auth). Every occurrence
///   anywhere (path, query, bodies) becomes a stable placeholder (`REDACTED-KEY-1` …). Other
///   UUIDs are ids (investigations, logs, jobs) and stay, so replay stays faithful.
/// - Emails are pseudonymized consistently (`person-1@example.invalid`).
/// - Last, anything key-shaped left in a secret position, or any seen key anywhere, makes the
///   whole recording refused, naming the field.
public struct Redactor: Sendable {
    public static let keptRequestHeaders: Set<String> = ["accept", "accept-version", "content-type", "user-agent"]
    public static let keptResponseHeaders: Set<String> = [
        "content-type", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "location",
    ]
    static let authHeaders: Set<String> = ["x-api-key", "authorization", "cookie", "set-cookie", "proxy-authorization"]
    static let secretName = try! NSRegularExpression(pattern: "(key|token|secret|passw|auth)", options: [.caseInsensitive])
    static let uuid = try! NSRegularExpression(pattern: "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")

    private var keys: [String: String] = [:]
    private var emails: [String: String] = [:]

    public init() {}

    /// Redacts every exchange of a recording, or throws without returning anything.
    public mutating func redact(_ recording: Recording) throws -> Recording {
        var copy = recording
        copy.exchanges = try recording.exchanges.map { try redact($0) }
        return copy
    }

    public mutating func redact(_ exchange: RecordedExchange) throws -> RecordedExchange {
        // 1. Learn the secrets of auth headers first, so they are caught wherever they appear:
        //    the API key, a bearer token, cookie values.
        for header in exchange.requestHeaders + exchange.responseHeaders where Self.authHeaders.contains(header.name) {
            switch header.name {
            case "cookie", "set-cookie":
                for pair in header.value.split(separator: ";") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2 { learnKey(parts[1].trimmingCharacters(in: .whitespaces)) }
                }
            case "authorization", "proxy-authorization":
                learnKey(String(header.value.split(separator: " ").last ?? ""))
            default:
                learnKey(header.value.trimmingCharacters(in: .whitespaces))
            }
        }
        var out = exchange
        var requestHeaders: [RecordedExchange.HeaderPair] = []
        for header in exchange.requestHeaders {
            if Self.authHeaders.contains(header.name) {
                requestHeaders.append(.init(header.name, numbered(header)))
            } else if Self.keptRequestHeaders.contains(header.name) {
                requestHeaders.append(.init(header.name, scrub(header.value)))
            }
        }
        out.requestHeaders = requestHeaders
        var responseHeaders: [RecordedExchange.HeaderPair] = []
        for header in exchange.responseHeaders where Self.keptResponseHeaders.contains(header.name) {
            responseHeaders.append(.init(header.name, scrub(header.value)))
        }
        out.responseHeaders = responseHeaders
        out.path = scrub(exchange.path)
        var query: [RecordedExchange.QueryPair] = []
        for pair in exchange.query {
            var value = pair.value.map { scrub($0) }
            if Self.isSecretName(pair.name), let text = value, Self.isUUID(text) { value = placeholder(text) }
            query.append(.init(pair.name, value))
        }
        out.query = query
        out.requestBody = redactBody(exchange.requestBody)
        out.responseBody = redactBody(exchange.responseBody)
        try check(out)
        return out
    }

    private mutating func learnKey(_ value: String) {
        // Short values (a cookie flag) would replace innocent text; placeholders are not secrets.
        guard value.count >= 8, !value.hasPrefix("REDACTED-KEY-"), !value.hasPrefix("<redacted"), keys[value] == nil else { return }
        keys[value] = "REDACTED-KEY-\(keys.count + 1)"
    }

    /// An auth header's value as its key's number: `<redacted-key-N>`, `Bearer <redacted-key-N>`;
    /// `<redacted>` for cookies and values too short to be a key. A value already numbered stays.
    private func numbered(_ header: RecordedExchange.HeaderPair) -> String {
        if header.value.contains("<redacted") { return header.value }
        switch header.name {
        case "x-api-key":
            return keys[header.value.trimmingCharacters(in: .whitespaces)].map(Self.angled) ?? "<redacted>"
        case "authorization", "proxy-authorization":
            let parts = header.value.split(separator: " ")
            guard let last = parts.last, let key = keys[String(last)] else { return "<redacted>" }
            return (parts.count > 1 ? parts[0] + " " : "") + Self.angled(key)
        default:
            return "<redacted>"
        }
    }

    /// `REDACTED-KEY-3` → `<redacted-key-3>`.
    static func angled(_ placeholder: String) -> String { "<" + placeholder.lowercased() + ">" }

    private mutating func placeholder(_ value: String) -> String {
        learnKey(value)
        return keys[value]!
    }

    /// Known keys replaced, emails pseudonymized.
    private mutating func scrub(_ text: String) -> String {
        var result = text
        for (key, replacement) in keys.sorted(by: { $0.key.count > $1.key.count }) where result.contains(key) {
            result = result.replacingOccurrences(of: key, with: replacement)
        }
        // Pseudonyms are numbered from the last address back, as they always were, so
        // recordings redacted before keep their names.
        for span in Redaction.emailRanges(in: result).reversed() {
            let found = String(result[span]).lowercased()
            if !found.hasSuffix("@example.invalid"), emails[found] == nil { emails[found] = "person-\(emails.count + 1)@example.invalid" }
        }
        let names = emails
        return Redaction.replacingEmails(in: result) { names[$0.lowercased()] ?? $0 }
    }

    /// JSON bodies field by field (secret-named fields' UUIDs become placeholders); others as text.
    private mutating func redactBody(_ body: String) -> String {
        guard !body.isEmpty else { return body }
        guard let json = JSON(data: Data(body.utf8)) else { return scrub(body) }
        return String(decoding: redactJSON(json, name: nil).encoded(), as: UTF8.self)
    }

    private mutating func redactJSON(_ value: JSON, name: String?) -> JSON {
        switch value {
        case .object(let object):
            // Sorted, so placeholders and pseudonyms are numbered the same on every run.
            var result: [String: JSON] = [:]
            for (key, inner) in object.sorted(by: { $0.key < $1.key }) { result[key] = redactJSON(inner, name: key) }
            return .object(result)
        case .array(let items):
            var result: [JSON] = []
            for item in items { result.append(redactJSON(item, name: name)) }
            return .array(result)
        case .string(let text):
            if let name, Self.isSecretName(name), Self.isUUID(text) { return .string(placeholder(text)) }
            // A string holding JSON (Log Search `message`) is redacted inside too.
            if text.hasPrefix("{"), let inner = JSON(data: Data(text.utf8)) {
                return .string(String(decoding: redactJSON(inner, name: nil).encoded(), as: UTF8.self))
            }
            return .string(scrub(text))
        default:
            return value
        }
    }

    /// The refusal: any learnt key anywhere, or a UUID in a secret-named query or JSON field.
    private func check(_ exchange: RecordedExchange) throws {
        func fail(_ field: String) throws -> Never { throw RecordingError.redaction(field: field, exchange: "\(exchange.method) \(exchange.host)\(exchange.path)") }
        let texts: [(String, String)] = [("path", exchange.path), ("request body", exchange.requestBody), ("response body", exchange.responseBody)]
            + exchange.query.map { ("query \($0.name)", $0.value ?? "") }
            + exchange.requestHeaders.map { ("request header \($0.name)", $0.value) }
            + exchange.responseHeaders.map { ("response header \($0.name)", $0.value) }
        for (field, text) in texts {
            // Encoded forms are caught too: a key that slipped through percent-encoded refuses the write.
            let decoded = text.removingPercentEncoding ?? text
            for key in keys.keys where text.contains(key) || decoded.contains(key) { try fail(field) }
        }
        for pair in exchange.query where Self.isSecretName(pair.name) && Self.isUUID(pair.value ?? "") { try fail("query \(pair.name)") }
        for (field, body) in [("request body", exchange.requestBody), ("response body", exchange.responseBody)] {
            if let json = JSON(data: Data(body.utf8)), let path = Self.secretUUID(in: json, path: field, name: nil) { try fail(path) }
        }
    }

    static func secretUUID(in value: JSON, path: String, name: String?) -> String? {
        switch value {
        case .object(let object):
            for (key, inner) in object.sorted(by: { $0.key < $1.key }) {
                if let found = secretUUID(in: inner, path: "\(path).\(key)", name: key) { return found }
            }
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = secretUUID(in: item, path: "\(path)[\(index)]", name: name) { return found }
            }
        case .string(let text):
            if let name, isSecretName(name), isUUID(text) { return path }
        default: break
        }
        return nil
    }

    static func isSecretName(_ name: String) -> Bool {
        secretName.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }

    static func isUUID(_ text: String) -> Bool {
        guard text.count == 36 else { return false }
        return uuid.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
