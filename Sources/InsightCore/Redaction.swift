import Foundation

/// Rules that keep secrets out of everything written: journals, reports, logs, recordings.
public enum Redaction {
    /// What a secret becomes.
    public static let placeholder = "<redacted>"

    /// The number of a redacted key: `<redacted-key-2>`, `Bearer <redacted-key-2>` or
    /// `REDACTED-KEY-2` → 2; nil for anything else (`<redacted>` carries no number).
    public static func keyNumber(_ value: String) -> Int? {
        let text = value.split(separator: " ").last.map(String.init) ?? value
        for (prefix, suffix) in [("<redacted-key-", ">"), ("REDACTED-KEY-", "")] where text.hasPrefix(prefix) && text.hasSuffix(suffix) {
            let digits = text.dropFirst(prefix.count).dropLast(suffix.count)
            if !digits.isEmpty, digits.allSatisfy(\.isNumber) { return Int(digits) }
        }
        return nil
    }

    /// Header names whose values are secrets, compared in lowercase.
    public static let secretHeaders: Set<String> = [
        "x-api-key", "authorization", "cookie", "set-cookie", "proxy-authorization",
    ]

    /// The headers with every secret header's value replaced by the placeholder.
    public static func headers(_ headers: HTTPHeaders) -> HTTPHeaders {
        HTTPHeaders(headers.map { field in
            (field.name, secretHeaders.contains(field.name) ? placeholder : field.value)
        })
    }

    /// Whether a query parameter or field of this name holds a secret (`api_key`, `token`,
    /// `client_secret`, `password`, `auth` …), whatever its value looks like.
    public static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["key", "token", "secret", "passw", "auth"].contains { lower.contains($0) }
    }

    /// Masks an email so it stays recognisable to its owner but not reusable:
    /// `svc-integration@example.com` → `s***@example.com`.
    public static func maskEmail(_ email: String) -> String {
        guard let at = email.firstIndex(of: "@"), at != email.startIndex else { return placeholder }
        return "\(email[email.startIndex])***\(email[at...])"
    }

    /// The text with every given secret (and its trimmed form) replaced, and every email masked.
    public static func scrub(_ text: String, secrets: [String] = []) -> String {
        var result = text
        // Longest first, so a padded form is replaced whole before its trimmed core.
        let forms = Set(secrets.flatMap { [$0, $0.trimmingCharacters(in: .whitespacesAndNewlines)] })
            .filter { $0.count >= 8 }
            .sorted { ($0.count, $0) > ($1.count, $1) }
        for form in forms {
            result = result.replacingOccurrences(of: form, with: placeholder)
        }
        return maskEmails(in: result)
    }

    /// Every email address in the text, in order: what the pattern
    /// `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}` matches, found in linear time. (The
    /// pattern itself, run by a backtracking engine, takes quadratic time on a long run of
    /// letters without an `@`: a 200 KB line stalled a run for minutes.)
    public static func emailRanges(in text: String) -> [Range<String.Index>] {
        let bytes = Array(text.utf8)
        func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || (0x30...0x39).contains(byte) }
        func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        func isLocal(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || byte == 0x2E || byte == 0x5F || byte == 0x25 || byte == 0x2B || byte == 0x2D }
        func isDomain(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || byte == 0x2E || byte == 0x2D }
        var found: [Range<String.Index>] = []
        var floor = 0  // where the previous address ended: addresses do not overlap
        var at = 0
        while at < bytes.count {
            guard bytes[at] == 0x40 else { at += 1; continue }
            var start = at
            while start > floor, isLocal(bytes[start - 1]) { start -= 1 }
            var domainEnd = at + 1
            while domainEnd < bytes.count, isDomain(bytes[domainEnd]) { domainEnd += 1 }
            // Greedy, as the pattern: the last dot (with a character before it) followed by two
            // letters or more; the address ends where those letters end.
            var end: Int?
            var dot = domainEnd - 1
            while dot > at + 1, end == nil {
                if bytes[dot] == 0x2E {
                    var letters = dot + 1
                    while letters < domainEnd, isLetter(bytes[letters]) { letters += 1 }
                    if letters - dot - 1 >= 2 { end = letters }
                }
                dot -= 1
            }
            guard start < at, let end else {
                at += 1
                continue
            }
            let utf8 = text.utf8
            found.append(utf8.index(utf8.startIndex, offsetBy: start)..<utf8.index(utf8.startIndex, offsetBy: end))
            floor = end
            at = end
        }
        return found
    }

    /// Masks every email address in the text.
    public static func maskEmails(in text: String) -> String {
        replacingEmails(in: text) { $0.contains("***@") ? $0 : maskEmail($0) }
    }

    /// The text with each email address replaced by what `replacement` makes of it, in order.
    public static func replacingEmails(in text: String, with replacement: (String) -> String) -> String {
        let ranges = emailRanges(in: text)
        guard !ranges.isEmpty else { return text }
        var result = ""
        var copied = text.startIndex
        for range in ranges {
            result += text[copied..<range.lowerBound]
            result += replacement(String(text[range]))
            copied = range.upperBound
        }
        return result + text[copied...]
    }

    /// Whether the text looks like a Rapid7 platform API key (a UUID).
    public static func isKeyShaped(_ text: String) -> Bool {
        text.range(of: "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
                   options: .regularExpression) != nil
    }
}
