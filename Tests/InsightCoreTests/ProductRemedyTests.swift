import InsightCore
import Testing

@Suite struct ProductRemedyTests {
    @Test func everyCategoryAndProductPairSpeaksOnlyOfThatProduct() {
        var pairs = 0
        for category in DiagnosisCategory.allCases {
            let entry = category.entry
            #expect(!entry.products.isEmpty, "\(category)")
            for product in Product.allCases {
                let diagnosis = Diagnosis(product: product, category, summary: "s")
                #expect(!diagnosis.remedies.isEmpty && !diagnosis.causes.isEmpty, "\(category) × \(product)")
                guard entry.products.contains(product) else {
                    // A row of one product only: it is never made for another (the catalogue run checks).
                    continue
                }
                pairs += 1
                #expect(product.foreignWords(in: diagnosis) == [], "\(category) × \(product): \(diagnosis.remedies)")
            }
        }
        #expect(pairs == 30)
    }

    @Test func theSeedsOwnRowsStayTheSIEMConnectors() {
        #expect(Diagnosis(.wrongRegionalURL, summary: "s").remedies.contains("Remove any path components like /api/3"))
        #expect(!Diagnosis(product: .auditPull, .wrongRegionalURL, summary: "s").remedies.contains("Remove any path components like /api/3"))
        #expect(Diagnosis(product: .notifier, .authenticationFailed, summary: "s").causes.map(\.text)
            == ["The API key is missing, invalid or revoked", "The API URL is wrong (another region, or the workflow was deleted)"])
    }
}
