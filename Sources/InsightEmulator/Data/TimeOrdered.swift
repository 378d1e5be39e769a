import Foundation

/// The records of one kind whose time falls between two bounds, in time order (oldest or newest
/// first), optionally filtered, read a page at a time.
///
/// The generated block is reached by binary search and read only where the page is; explicit
/// records (few: a scenario's own and those created through the API) are merged in by time.
/// Without a filter a page costs its size plus a few logarithms; with one it costs the records
/// inside the bounds, the least a total count can cost.
struct TimeOrdered<Recipe: RecordRecipe> {
    struct Bound {
        let time: Date
        let inclusive: Bool
    }

    let records: Records<Recipe>
    /// The time of a generated record, by position, without making the record.
    let generatedTime: (Int) -> Date
    let time: (Recipe.Record) -> Date
    var lower: Bound?
    var upper: Bound?
    var descending = false
    var filter: ((Recipe.Record) -> Bool)?

    private func aboveLower(_ time: Date) -> Bool {
        guard let lower else { return true }
        return time > lower.time || (lower.inclusive && time == lower.time)
    }
    private func belowUpper(_ time: Date) -> Bool {
        guard let upper else { return true }
        return time < upper.time || (upper.inclusive && time == upper.time)
    }

    /// Generated positions inside the bounds, and explicit ones (time, position) in time order.
    private func candidates() -> (generated: Range<Int>, explicit: [(time: Date, position: Int)]) {
        let low = records.generatedPartition { aboveLower(generatedTime($0)) }
        let high = max(low, records.generatedPartition { !belowUpper(generatedTime($0)) })
        var explicit: [(time: Date, position: Int)] = []
        for position in records.generatedCount..<records.endIndex {
            let time = time(records[position])
            if aboveLower(time), belowUpper(time) { explicit.append((time, position)) }
        }
        explicit.sort { descending ? ($0.time, -$0.position) > ($1.time, -$1.position) : ($0.time, $0.position) < ($1.time, $1.position) }
        return (low..<high, explicit)
    }

    /// The records at `offset ..< offset + limit` of the matching sequence, and how many match.
    func page(offset: Int, limit: Int) -> (items: [Recipe.Record], total: Int) {
        let (positions, total) = pagePositions(offset: offset, limit: limit)
        return (positions.map { records[$0] }, total)
    }

    /// The positions in `records` of that page, and how many match.
    func pagePositions(offset: Int, limit: Int) -> (positions: [Int], total: Int) {
        var cursor = Cursor(owner: self, candidates: candidates())
        guard let filter else {
            let total = cursor.generated.count + cursor.explicit.count
            cursor.skip(offset)
            var positions: [Int] = []
            while positions.count < limit, let position = cursor.next() { positions.append(position) }
            return (positions, total)
        }
        var positions: [Int] = []
        var total = 0
        while let position = cursor.next() {
            guard filter(records[position]) else { continue }
            if total >= offset, positions.count < limit { positions.append(position) }
            total += 1
        }
        return (positions, total)
    }

    /// Every matching record in order, for sorts on another field (bounded by the caller).
    func forEach(_ body: (Recipe.Record) -> Void) {
        var cursor = Cursor(owner: self, candidates: candidates())
        while let position = cursor.next() {
            let record = records[position]
            if filter?(record) ?? true { body(record) }
        }
    }

    /// Walks generated positions (in `generated`, ascending or descending) merged with explicit ones.
    private struct Cursor {
        let owner: TimeOrdered
        let generated: Range<Int>
        let explicit: [(time: Date, position: Int)]
        var taken = 0
        var explicitTaken = 0

        init(owner: TimeOrdered, candidates: (generated: Range<Int>, explicit: [(time: Date, position: Int)])) {
            self.owner = owner
            generated = candidates.generated
            explicit = candidates.explicit
        }

        /// The `index`-th generated position in walking order.
        private func generatedPosition(_ index: Int) -> Int {
            owner.descending ? generated.upperBound - 1 - index : generated.lowerBound + index
        }

        /// How many generated positions, from the start of the walk, come before an explicit record
        /// at `time` (on a tie the generated one comes first: its position is lower).
        private func generatedBefore(_ time: Date) -> Int {
            let split: Int
            if owner.descending {
                split = generated.upperBound - owner.records.generatedPartition { owner.generatedTime($0) >= time }
            } else {
                split = owner.records.generatedPartition { owner.generatedTime($0) > time } - generated.lowerBound
            }
            return min(max(split, 0), generated.count)
        }

        mutating func next() -> Int? {
            let generatedLeft = taken < generated.count
            if explicitTaken < explicit.count {
                let other = explicit[explicitTaken]
                if !generatedLeft || taken >= generatedBefore(other.time) {
                    explicitTaken += 1
                    return other.position
                }
            }
            guard generatedLeft else { return nil }
            taken += 1
            return generatedPosition(taken - 1)
        }

        /// Skips `count` positions in a few binary searches.
        mutating func skip(_ count: Int) {
            var left = count
            while left > 0 {
                guard explicitTaken < explicit.count else {
                    taken += min(left, generated.count - taken)
                    return
                }
                let run = min(left, max(0, generatedBefore(explicit[explicitTaken].time) - taken))
                taken += run
                left -= run
                if left > 0 {
                    explicitTaken += 1
                    left -= 1
                }
            }
        }
    }
}
