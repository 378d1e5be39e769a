import Foundation
import InsightClient
import InsightCore
import Logging

extension ScenarioRunner {
    /// Each distinct replay miss once, in order, with how many times it came.
    static func missLines(_ misses: [String]) -> [String] {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for miss in misses {
            if counts[miss] == nil { order.append(miss) }
            counts[miss, default: 0] += 1
        }
        return order.map { miss in
            let times = counts[miss]! > 1 ? " (\(counts[miss]!) times)" : ""
            return "request unmatched by the recordings\(times): \(miss)"
        }
    }
}

/// The lines the clients of one scenario logged, every level, each also handed on to the
/// run's own logger at its level.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []
    var lines: [String] { lock.withLock { kept } }
    func append(_ line: String) { lock.withLock { kept.append(line) } }

    func logger(forwardingTo base: Logger) -> Logger {
        Logger(label: base.label) { _ in Handler(capture: self, forward: base) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        let forward: Logger
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.append("\(event.level): \(event.message)")
            forward.log(level: event.level, event.message, metadata: event.metadata, source: event.source, file: event.file,
                        function: event.function, line: event.line)
        }
    }
}

/// Takes audit records for a scenario; with `stopAfter`, refuses every record after that many.
final class AuditSink: @unchecked Sendable {
    private let lock = NSLock()
    private var taken: [String] = []
    /// How many taken records carried each schema field.
    private var fields: [String: Int] = [:]
    let stopAfter: Int?
    init(stopAfter: Int?) { self.stopAfter = stopAfter }
    var ids: [String] { lock.withLock { taken } }
    var fieldCounts: [String: Int] { lock.withLock { fields } }
    func take(_ record: AuditRecord) throws {
        try lock.withLock {
            if let stopAfter, taken.count >= stopAfter { throw DriverError.stopped }
            taken.append(record.auditID)
            for field in record.presentFields { fields[field, default: 0] += 1 }
        }
    }
}
