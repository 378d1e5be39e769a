import Foundation
import InsightCore
import Testing

@Suite struct RedactionTests {
    let canary = "c4a7c4a7-0000-4000-8000-c4a7c4a7c4a7"

    @Test func secretsAndTheirTrimmedFormsAreReplaced() {
        let text = "key=\(canary) and again ' \(canary) '"
        let scrubbed = Redaction.scrub(text, secrets: [" \(canary) "])
        #expect(!scrubbed.contains(canary))
        #expect(scrubbed == "key=<redacted> and again '<redacted>'")
    }

    @Test func emailsAreMaskedEverywhere() {
        #expect(Redaction.maskEmail("svc-integration@example.com") == "s***@example.com")
        #expect(Redaction.maskEmails(in: "user a.b@corp.example.org is locked") == "user a***@corp.example.org is locked")
        #expect(Redaction.scrub("s***@example.com") == "s***@example.com")
    }

    /// The linear scanner finds exactly what the email pattern finds, on texts made to trip it:
    /// dots and dashes next to the @, several @s, one-letter TLDs, digits after the TLD.
    @Test func theEmailScannerFindsWhatThePatternFinds() throws {
        let pattern = try NSRegularExpression(pattern: "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}")
        let alphabet = Array("ab.@-_%+9 Z.c@@x.yz\n".unicodeScalars)
        var random = SeededRandom(seed: 7, label: "emails")
        for length in 0..<3_000 {
            let text = String(String.UnicodeScalarView((0..<(length % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }))
            let expected = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text) }.map { String(text[$0]) }
            #expect(Redaction.emailRanges(in: text).map { String(text[$0]) } == expected, "\(text.debugDescription)")
        }
        #expect(Redaction.maskEmails(in: "to ana@example.com, b.c@d.co.uk; x@y") == "to a***@example.com, b***@d.co.uk; x@y")
        #expect(Redaction.maskEmails(in: "é ana@example.com é") == "é a***@example.com é")
    }

    /// A line of a megabyte with no @ (a pasted blob in a scenario) is scanned once, not once
    /// per character: the backtracking pattern took minutes on a fifth of that.
    @Test(.timeLimit(.minutes(1))) func aLongLineWithoutAnAddressIsScannedInOnePass() {
        let line = String(repeating: "x", count: 1_000_000) + " ana@example.com"
        #expect(Redaction.maskEmails(in: line).hasSuffix(" a***@example.com"))
    }

    @Test func secretHeadersAreRedactedWhateverTheirCase() {
        let headers: HTTPHeaders = ["X-API-Key": canary, "Cookie": "session=1", "Accept": "application/json"]
        let redacted = Redaction.headers(headers)
        #expect(redacted["x-api-key"] == "<redacted>")
        #expect(redacted["cookie"] == "<redacted>")
        #expect(redacted["accept"] == "application/json")
    }

    @Test func keyShapeIsAUUID() {
        #expect(Redaction.isKeyShaped(canary))
        #expect(Redaction.isKeyShaped(canary.uppercased()))
        #expect(!Redaction.isKeyShaped("not-a-key"))
        #expect(!Redaction.isKeyShaped(canary + "0"))
    }
}

@Suite struct HeaderTests {
    @Test func namesAreCaseInsensitiveAndSorted() {
        var headers: HTTPHeaders = ["X-Api-Key": "a", "Accept": "b"]
        #expect(headers["x-api-key"] == "a")
        #expect(headers["X-API-KEY"] == "a")
        #expect(headers.fields.map(\.name) == ["accept", "x-api-key"])
        headers.set("x-API-key", "c")
        #expect(headers["X-Api-Key"] == "c")
        #expect(headers.fields.count == 2)
    }
}

@Suite struct DiagnosisTests {
    @Test func causesAreRankedThenFilledFromTheCatalogue() {
        let diagnosis = Diagnosis(
            .insufficientPermissions, summary: "s",
            ranked: [RankedCause(Cause.noProductAccess, .ruledOut), RankedCause(Cause.rolesChanged, .likely)],
            remedies: ["Add the role"])
        #expect(diagnosis.causes.map(\.text) == [Cause.rolesChanged, Cause.missingRoles, Cause.noProductAccess])
        #expect(diagnosis.causes.map(\.likelihood) == [.likely, .possible, .ruledOut])
        #expect(diagnosis.remedies.first == "Add the role")
        #expect(diagnosis.remedies.count == 1 + DiagnosisCategory.insufficientPermissions.entry.solutions.count)
    }

    @Test func everyCategoryHasCausesAndSolutions() {
        for category in DiagnosisCategory.allCases {
            #expect(!category.entry.causes.isEmpty, "\(category)")
            #expect(!category.entry.solutions.isEmpty, "\(category)")
        }
        #expect(DiagnosisCategory.allCases.count == 13)
    }
}
