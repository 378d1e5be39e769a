import InsightClient
import InsightCore
import Testing

@Suite struct URLCheckTests {
    @Test(arguments: [
        ("https://us2.api.insight.rapid7.com", Region.us2),
        ("https://us2.api.insight.rapid7.com/", .us2),
        ("  https://EU.api.insight.rapid7.com  ", .eu),
        ("https://me1.api.insight.rapid7.com:443", .me1),
    ])
    func baseURLsPass(url: String, region: Region) throws {
        #expect(try SettingsCheck.url(url).get() == PlatformEndpoint(region: region))
    }

    /// Each bad form: the category, the top cause, and the remedy naming the URL to use.
    @Test(arguments: [
        ("https://us2.api.insight.rapid7.com/api/3", Cause.pathComponents, "Set URL to https://us2.api.insight.rapid7.com (remove /api/3)"),
        ("http://eu.api.insight.rapid7.com", Cause.oldEndpointFormat, "Set URL to https://eu.api.insight.rapid7.com"),
        ("https://us4.api.insight.rapid7.com", Cause.incorrectRegionalEndpoint, "Set URL to your region's base URL; your region is the first part of your InsightIDR console URL (us2.idr.insight.rapid7.com → https://us2.api.insight.rapid7.com)"),
        ("https://us3.idr.insight.rapid7.com", Cause.oldEndpointFormat, "Set URL to https://us3.api.insight.rapid7.com"),
        ("https://ca.rest.logs.insight.rapid7.com", Cause.oldEndpointFormat, "Set URL to https://ca.api.insight.rapid7.com"),
        ("https://au.api.insight.rapid7.com?x=1", Cause.pathComponents, "Set URL to https://au.api.insight.rapid7.com"),
        ("https://au.api.insight.rapid7.com:8443", Cause.pathComponents, "Set URL to https://au.api.insight.rapid7.com"),
        ("us.api.insight.rapid7.com", Cause.incorrectRegionalEndpoint, "Set URL to https://us.api.insight.rapid7.com"),
        ("https://example.com", Cause.incorrectRegionalEndpoint, "Set URL to your region's base URL, e.g. https://us2.api.insight.rapid7.com"),
        ("", Cause.incorrectRegionalEndpoint, "Set URL to your region's base URL, e.g. https://us2.api.insight.rapid7.com"),
    ])
    func badURLsAreDiagnosedBeforeAnyRequest(url: String, cause: String, remedy: String) {
        guard case .failure(let diagnosis) = SettingsCheck.url(url) else {
            Issue.record("\(url) passed")
            return
        }
        #expect(diagnosis.category == .wrongRegionalURL)
        #expect(diagnosis.topCause?.text == cause)
        #expect(diagnosis.topCause?.likelihood == .confirmed)
        #expect(diagnosis.remedies.first == remedy)
    }
}

@Suite struct TokenCheckTests {
    let key = "0f1e2d3c-4b5a-4978-8877-665544332211"

    @Test func aKeyShapedTokenPasses() {
        #expect(SettingsCheck.token(key) == nil)
        #expect(SettingsCheck.token(key.uppercased()) == nil)
    }

    @Test func emptyTokens() {
        for token in ["", "   ", "\n"] {
            #expect(SettingsCheck.token(token)?.summary == "The token is empty.")
        }
    }

    @Test func whitespaceAroundTheKeyIsNamedAndCounted() throws {
        let diagnosis = try #require(SettingsCheck.token(" \(key)\n"))
        #expect(diagnosis.category == .authenticationFailed)
        #expect(diagnosis.evidence == ["Token field: 1 leading and 1 trailing whitespace characters"])
        #expect(diagnosis.topCause?.text == "API key copied with extra spaces")
        #expect(diagnosis.remedies.contains("Verify the API key is copied correctly (no extra spaces)"))
        #expect(!diagnosis.description.contains(key))
    }

    @Test func aTokenOfTheWrongShapeSaysSoWithoutShowingIt() throws {
        let truncated = String(key.dropLast(4))
        let diagnosis = try #require(SettingsCheck.token(truncated))
        #expect(diagnosis.summary == "The token does not look like a Rapid7 platform API key.")
        #expect(diagnosis.evidence == ["Token field: 32 characters; a platform key is 36 (8-4-4-4-12 hexadecimal)"])
        #expect(!diagnosis.description.contains(truncated))
    }
}
