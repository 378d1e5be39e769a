/// How strongly the evidence points at a cause.
public enum Likelihood: Int, Sendable, Codable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// `notChecked`: the check that would rule it in or out got no real answer (a replay
    /// miss, a refused probe); it is never `ruledOut` on that evidence.
    case confirmed = 0, likely = 1, possible = 2, notChecked = 3, ruledOut = 4

    public static func < (lhs: Likelihood, rhs: Likelihood) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String {
        switch self {
        case .confirmed: return "confirmed"
        case .likely: return "likely"
        case .possible: return "possible"
        case .notChecked: return "not checked"
        case .ruledOut: return "ruled out"
        }
    }
}

/// A cause with how likely the evidence makes it, and why.
public struct RankedCause: Sendable, Codable, Hashable {
    public let text: String
    public let likelihood: Likelihood
    public let because: String?

    public init(_ text: String, _ likelihood: Likelihood, because: String? = nil) {
        self.text = text
        self.likelihood = likelihood
        self.because = because
    }
}

/// What went wrong, the evidence for it, the causes ranked by that evidence, and the fix.
///
/// A diagnosis never holds a secret: builders take redacted values only, and reporters
/// scrub the rendered text once more against the run's secrets.
public struct Diagnosis: Sendable, Codable, Hashable, CustomStringConvertible {
    public let category: DiagnosisCategory
    /// One sentence naming what is wrong in this case.
    public let summary: String
    public let evidence: [String]
    /// Most likely first. Causes of the catalogue row that the evidence did not touch stay as
    /// `possible`, after the ranked ones.
    public private(set) var causes: [RankedCause]
    /// Specific remedies first (the exact URL to use, the role to add), then the row's solutions.
    public let remedies: [String]

    /// - Parameter product: the integration it is for; the catalogue row's causes and remedies
    ///   are that product's (`CatalogueEntry.causes(for:)`).
    public init(
        product: Product = .siemConnector, _ category: DiagnosisCategory, summary: String, evidence: [String] = [],
        ranked: [RankedCause] = [], remedies specific: [String] = []
    ) {
        self.category = category
        self.summary = summary
        self.evidence = evidence
        var causes = ranked
        for text in category.entry.causes(for: product) where !ranked.contains(where: { $0.text == text }) {
            causes.append(RankedCause(text, .possible))
        }
        // Stable sort: equal likelihoods keep the order the evidence gave them.
        self.causes = causes.enumerated()
            .sorted { ($0.element.likelihood, $0.offset) < ($1.element.likelihood, $1.offset) }
            .map(\.element)
        var remedies = specific
        for solution in category.entry.solutions(for: product) where !remedies.contains(solution) {
            remedies.append(solution)
        }
        self.remedies = remedies
    }

    /// The most likely cause.
    public var topCause: RankedCause? { causes.first }

    /// The same diagnosis with the causes a capture never probed marked `notChecked` (whatever
    /// the emulator's world made of them), each saying why; they move after the checked ones.
    /// `unprobed`: a substring of the cause's text → why the capture does not show it.
    public func notChecked(_ unprobed: [(cause: String, because: String)]) -> Diagnosis {
        guard !unprobed.isEmpty else { return self }
        var copy = self
        let marked = causes.map { cause -> RankedCause in
            guard let match = unprobed.first(where: { cause.text.localizedCaseInsensitiveContains($0.cause) }) else { return cause }
            return RankedCause(cause.text, .notChecked, because: "not checked by the capture: \(match.because)")
        }
        copy.causes = marked.enumerated().sorted { ($0.element.likelihood, $0.offset) < ($1.element.likelihood, $1.offset) }.map(\.element)
        return copy
    }

    /// A multi-line explanation for a person.
    public var description: String {
        var lines = ["\(category.entry.title) (\(category.rawValue)): \(summary)"]
        for item in evidence { lines.append("  evidence: \(item)") }
        lines.append("  causes, most likely first:")
        for (number, cause) in causes.enumerated() {
            let why = cause.because.map { " — \($0)" } ?? ""
            lines.append("    \(number + 1). [\(cause.likelihood)] \(cause.text)\(why)")
        }
        lines.append("  how to fix:")
        for remedy in remedies { lines.append("    - \(remedy)") }
        return lines.joined(separator: "\n")
    }
}

/// A diagnosis can be thrown or carried in a `Result` where a check fails.
extension Diagnosis: Error {}
