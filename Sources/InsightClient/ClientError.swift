import InsightCore

/// The errors of InsightClient. What leaves a client is always a diagnosis a person can act on
/// (the troubleshooting row, the causes ranked by the evidence, the remedies), or a checkpoint
/// file that cannot be kept. A log query that stops (an answer the runner does not take, or no
/// end in sight) is carried inside the client and explained in the caller's terms before it leaves.
public struct ClientError: InsightError {
    private enum Code: Sendable {
        case diagnosed(Diagnosis)
        case checkpoint(path: String, String, remedy: String)
        case queryStopped(LogQueryRunner.Stop)
    }
    private let code: Code

    /// A failure the client has diagnosed.
    public init(_ diagnosis: Diagnosis) { code = .diagnosed(diagnosis) }
    private init(code: Code) { self.code = code }

    /// A checkpoint file that cannot be read or replaced.
    static func checkpoint(_ path: String, _ message: String, remedy: String) -> ClientError {
        ClientError(code: .checkpoint(path: path, message, remedy: remedy))
    }

    /// A log query that stopped; the caller explains it (`queryStop`).
    static func query(_ stop: LogQueryRunner.Stop) -> ClientError { ClientError(code: .queryStopped(stop)) }

    /// Why a log query stopped, when that is the error.
    var queryStop: LogQueryRunner.Stop? {
        if case .queryStopped(let stop) = code { return stop }
        return nil
    }

    /// What the client concluded, as the troubleshooting catalogue says it.
    public var diagnosis: Diagnosis {
        switch code {
        case .diagnosed(let diagnosis): return diagnosis
        case .checkpoint(_, _, let remedy):
            return Diagnosis(product: .auditPull, .serviceUnavailable, summary: "The checkpoint cannot be kept: \(problem)", remedies: [remedy])
        case .queryStopped: return Diagnosis(.serviceUnavailable, summary: problem)
        }
    }

    public var problem: String {
        switch code {
        case .diagnosed(let diagnosis): return diagnosis.summary
        case .checkpoint(let path, let message, _): return "\(path): \(message)"
        case .queryStopped(.gaveUp(let why)): return "The log query did not finish: \(why)."
        case .queryStopped(.answer(let outcome)): return "The log query was answered \(outcome.response.status) by \(outcome.url)."
        }
    }

    public var remedy: String {
        switch code {
        case .diagnosed(let diagnosis): return diagnosis.remedies.first ?? ""
        case .checkpoint(_, _, let remedy): return remedy
        case .queryStopped: return ""
        }
    }

    /// A diagnosis reads in full: summary, evidence, causes and remedies.
    public var description: String {
        if case .diagnosed(let diagnosis) = code { return diagnosis.description }
        return remedy.isEmpty ? problem : "\(problem); \(remedy)"
    }
}
