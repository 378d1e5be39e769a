import Foundation
import InsightCore

/// Statistical queries of Log Search (calculate, groupby, timeslice) over the merged events.
extension EmulatorState {
    // MARK: Statistics

    /// Events a statistical query reads at most; beyond, `all_exact_result` is false (ASSUMED
    /// bound: the platform samples large windows too, and says so the same way). It keeps a query
    /// under half a second of the emulator's time on a production-sized tenant. A plain count of
    /// every event is exact at any size: it is counted by binary search, not read.
    static let statisticsScanCap = 100_000
    static let buckets = 10

    /// `statistics` and `search_stats` of a statistical query over the window (shape of the IDR
    /// plugin's log_id8.json.resp for groupby; LSO docs for calculate without groupby:
    /// `stats.global_timeseries` and `timeseries.global_timeseries`).
    static func statistics(_ query: LEQLQuery, merge: EventMerge, window: (Int64, Int64), cap: Int = statisticsScanCap) -> (JSON, JSON) {
        let function = query.calculate?.function ?? "count"
        let field = query.calculate?.field
        let granularity = max(1, (window.1 - window.0) / Int64(buckets))
        var total = Accumulator(), series = Array(repeating: Accumulator(), count: buckets)
        var groups: [String: (total: Accumulator, series: [Accumulator])] = [:]
        var checked = 0, matched = 0, bytes = 0, exact = true
        var cursor: Int64?
        let countsAll = query.filter == .all && query.groupBy == nil && function == "count"
        scan: while !countsAll {
            let (page, more) = merge.page(after: cursor, size: 500)
            for event in page {
                if checked >= cap {
                    exact = false
                    break scan
                }
                checked += 1
                bytes += event.message.utf8.count
                guard query.filter.matches(event) else { continue }
                let value = field.flatMap { LEQL.field($0, in: event.message) }
                if field != nil, value == nil { continue }
                matched += 1
                let bucket = min(buckets - 1, Int((event.timestamp - window.0) / granularity))
                if let groupBy = query.groupBy {
                    guard let key = LEQL.field(groupBy, in: event.message) else { continue }
                    var entry = groups[key] ?? (Accumulator(), Array(repeating: Accumulator(), count: buckets))
                    entry.total.add(value)
                    entry.series[bucket].add(value)
                    groups[key] = entry
                } else {
                    total.add(value)
                    series[bucket].add(value)
                }
            }
            guard more, let last = page.last else { break }
            cursor = last.sequenceNumber
        }
        if query.filter == .all, query.groupBy == nil, function == "count" {
            // Every event counts: count them by position, at any size, exactly.
            total = Accumulator(count: merge.count(in: window))
            for bucket in 0..<buckets {
                let start = window.0 + Int64(bucket) * granularity
                let end = bucket == buckets - 1 ? window.1 : start + granularity - 1
                series[bucket] = Accumulator(count: merge.count(in: (start, end)))
            }
            checked = total.count
            matched = total.count
            bytes = 0
            exact = true
        }
        func cell(_ accumulator: Accumulator) -> JSON { [function: accumulator.value(function)] }
        var statistics: [String: JSON] = [
            "cardinality": 0, "granularity": .int(granularity), "from": .int(window.0), "to": .int(window.1),
            "type": .string(function), "status": 200, "all_exact_result": .bool(exact), "others": ["series": []],
        ]
        if query.groupBy != nil {
            let ranked = groups.sorted { lhs, rhs in
                let (a, b) = (lhs.value.total.number(function), rhs.value.total.number(function))
                return a != b ? a > b : lhs.key < rhs.key
            }.prefix(query.limit ?? 40)
            statistics["stats"] = [:]
            statistics["timeseries"] = [:]
            statistics["groups"] = .array(ranked.map { [$0.key: cell($0.value.total)] })
            statistics["groups_timeseries"] = .array(ranked.map { entry in
                [entry.key: ["groups_timeseries": [], "series": .array(entry.value.series.map(cell)), "totals": cell(entry.value.total)]]
            })
        } else {
            // The events the query matched: the description's `count`, beside the global series
            // (the recorded groupby answer, log_id8.json.resp, has none).
            statistics["count"] = .int(Int64(matched))
            statistics["stats"] = ["global_timeseries": cell(total)]
            statistics["timeseries"] = ["global_timeseries": .array(series.map(cell))]
            statistics["groups"] = []
            statistics["groups_timeseries"] = []
        }
        let searchStats: JSON = [
            "index_factor": 0, "bytes_checked": .int(Int64(bytes)), "events_matched": .int(Int64(matched)),
            "events_checked": .int(Int64(checked)), "duration_ms": .int(Int64(checked / 1000)),
            "events_all": .int(Int64(checked)), "bytes_all": .int(Int64(bytes)),
        ]
        return (.object(statistics), searchStats)
    }

    /// What a statistical query in progress answers in `partial` (log_id7.json.resp).
    static func partial(_ query: LEQLQuery, window: (Int64, Int64)) -> JSON {
        var partial: JSON = ["cardinality": 0, "granularity": .int(max(1, (window.1 - window.0) / Int64(buckets))), "from": .int(window.0),
         "to": .int(window.1), "type": .string(query.calculate?.function ?? "count"), "stats": [:], "groups": [], "others": [:],
         "status": 204, "timeseries": [:], "groups_timeseries": [], "all_exact_result": true]
        // Without groupby, the matched count so far (the description's StatsContinueInitial).
        if query.groupBy == nil, case .object(var object) = partial {
            object["count"] = 0
            partial = .object(object)
        }
        return partial
    }
}

/// One cell of a statistic: count, sum, min, max and the distinct values seen.
struct Accumulator {
    var count = 0
    var sum = 0.0
    var minimum = Double.infinity
    var maximum = -Double.infinity
    var distinct = Set<String>()

    mutating func add(_ value: String?) {
        count += 1
        guard let value else { return }
        distinct.insert(value)
        if let number = Double(value) {
            sum += number
            minimum = Swift.min(minimum, number)
            maximum = Swift.max(maximum, number)
        }
    }

    func number(_ function: String) -> Double {
        switch function {
        case "sum": return sum
        case "average": return count == 0 ? 0 : sum / Double(count)
        case "min": return count == 0 ? 0 : minimum
        case "max": return count == 0 ? 0 : maximum
        case "unique": return Double(distinct.count)
        default: return Double(count)
        }
    }

    /// Whole numbers as integers, as the platform writes counts.
    func value(_ function: String) -> JSON {
        let number = number(function)
        return number == number.rounded() && abs(number) < 9e15 ? .int(Int64(number)) : .double(number)
    }
}
