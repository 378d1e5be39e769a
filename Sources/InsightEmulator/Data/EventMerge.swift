import Foundation

/// The events of several logs in one time window, merged in `(timestamp, sequence_number)`
/// order (or its reverse), filtered by a LEQL statement, read a page at a time.
///
/// Each log's generated block is entered by binary search on its timestamps and read only as far
/// as the page needs (plus the one match that says whether a `Next` link is due); a
/// `sequence_number` cursor is decoded to its event in constant time. What a page costs grows
/// with the page and with the events inside the window that the statement skips, not with the log.
struct EventMerge {
    typealias Key = (timestamp: Int64, sequence: Int64)

    let logs: [LogEvents]
    let keys: Set<String>
    let window: (Int64, Int64)
    let newestFirst: Bool
    let leql: LEQL

    /// One sorted run of events: a stretch of a generated block, or a log's explicit events.
    private struct Run {
        let log: LogEvents
        /// Generated positions still to read, or explicit events in order.
        var generated: Range<Int>
        var explicit: ArraySlice<LogSearchEvent>
        let isGenerated: Bool

        func key(newestFirst: Bool) -> Key? {
            if isGenerated {
                guard !generated.isEmpty, let recipe = log.recipe else { return nil }
                let index = newestFirst ? generated.upperBound - 1 : generated.lowerBound
                return (recipe.timestamp(at: index), recipe.sequenceNumber(at: index))
            }
            guard let event = newestFirst ? explicit.last : explicit.first else { return nil }
            return (event.timestamp, event.sequenceNumber)
        }

        mutating func take(newestFirst: Bool) -> LogSearchEvent {
            if isGenerated {
                let index = newestFirst ? generated.upperBound - 1 : generated.lowerBound
                generated = newestFirst ? generated.dropLast() : generated.dropFirst()
                return log[index]
            }
            return newestFirst ? explicit.removeLast() : explicit.removeFirst()
        }
    }

    private func inWindow(_ timestamp: Int64) -> Bool { timestamp >= window.0 && timestamp <= window.1 }

    /// The runs of every log, each cut to the window and to what comes after `start` in reading order.
    private func runs(after start: Key?) -> [Run] {
        func comesAfter(_ key: Key) -> Bool {
            guard let start else { return true }
            return newestFirst ? key < start : key > start
        }
        var runs: [Run] = []
        for log in logs {
            if let recipe = log.recipe {
                var low = log.generatedPartition { recipe.timestamp(at: $0) >= window.0 }
                var high = max(low, log.generatedPartition { recipe.timestamp(at: $0) > window.1 })
                if let start {
                    // Reading on from `start`: newest first keeps the keys below it, else those above.
                    let split = log.generatedPartition { position in
                        let key = (recipe.timestamp(at: position), recipe.sequenceNumber(at: position))
                        return newestFirst ? key >= start : key > start
                    }
                    if newestFirst { high = min(high, split) } else { low = max(low, split) }
                }
                runs.append(Run(log: log, generated: low..<max(low, high), explicit: [], isGenerated: true))
            }
            let extra = log[log.generatedCount...]
                .filter { keys.contains($0.logID) && inWindow($0.timestamp) && comesAfter(($0.timestamp, $0.sequenceNumber)) }
                .sorted { ($0.timestamp, $0.sequenceNumber) < ($1.timestamp, $1.sequenceNumber) }
            if !extra.isEmpty { runs.append(Run(log: log, generated: 0..<0, explicit: extra[...], isGenerated: false)) }
        }
        return runs
    }

    /// How many events lie in `range` (ms, both ends inclusive), whatever the statement: binary
    /// searches in each generated block and a look at the explicit events, never a scan of a block.
    func count(in range: (Int64, Int64)) -> Int {
        var total = 0
        for log in logs {
            if let recipe = log.recipe {
                let low = log.generatedPartition { recipe.timestamp(at: $0) >= range.0 }
                let high = log.generatedPartition { recipe.timestamp(at: $0) > range.1 }
                total += max(0, high - low)
            }
            total += log[log.generatedCount...].count { keys.contains($0.logID) && $0.timestamp >= range.0 && $0.timestamp <= range.1 }
        }
        return total
    }

    /// The event with this sequence number, if it is one this query returns.
    private func cursorKey(_ sequence: Int64) -> Key? {
        for log in logs {
            if let index = log.recipe?.index(ofSequence: sequence) {
                let event = log[index]
                return inWindow(event.timestamp) && leql.matches(event) ? (event.timestamp, event.sequenceNumber) : nil
            }
            if let event = log[log.generatedCount...].first(where: { $0.sequenceNumber == sequence }) {
                return keys.contains(event.logID) && inWindow(event.timestamp) && leql.matches(event)
                    ? (event.timestamp, event.sequenceNumber) : nil
            }
        }
        return nil
    }

    /// Up to `size` matching events after the cursor (an unknown cursor starts from the
    /// beginning), and whether more follow.
    func page(after sequence: Int64?, size: Int) -> (events: [LogSearchEvent], more: Bool) {
        var runs = runs(after: sequence.flatMap(cursorKey))
        // Each run's next key, made once per event taken from it (a key costs a timestamp and a
        // sequence number to compute; with ten logs the merge would otherwise make ten per event).
        var heads = runs.map { $0.key(newestFirst: newestFirst) }
        var events: [LogSearchEvent] = []
        while true {
            var best: (run: Int, key: Key)?
            for (number, head) in heads.enumerated() {
                guard let key = head else { continue }
                if let current = best?.key, newestFirst ? key <= current : key >= current { continue }
                best = (number, key)
            }
            guard let best else { return (events, false) }
            let event = runs[best.run].take(newestFirst: newestFirst)
            heads[best.run] = runs[best.run].key(newestFirst: newestFirst)
            guard leql.matches(event) else { continue }
            if events.count == size { return (events, true) }
            events.append(event)
        }
    }
}
