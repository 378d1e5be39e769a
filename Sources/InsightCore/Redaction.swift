import Foundation

/// Rules that keep secrets out of everything written: journals, reports, logs, recordings.
public enum Redaction {
    /// What a secret becomes.
    public static let placeholder = "<redacted>"

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

    private static let emailPattern = try! NSRegularExpression(
        pattern: "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}")

    /// Masks every email address in the text.
    public static func maskEmails(in text: String) -> String {
        let range = NSRange(text.startIndex..., in: text)
        var result = text
        for match in emailPattern.matches(in: text, range: range).reversed() {
            guard let swiftRange = Range(match.range, in: result) else { continue }
            let email = String(result[swiftRange])
            if email.contains("***@") { continue }
            result.replaceSubrange(swiftRange, with: maskEmail(email))
        }
        return result
    }

    /// Whether the text looks like a Rapid7 platform API key (a UUID).
    public static func isKeyShaped(_ text: String) -> Bool {
        text.range(of: "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
                   options: .regularExpression) != nil
    }
}
