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
        #expect(DiagnosisCategory.allCases.count == 11)
    }
}
