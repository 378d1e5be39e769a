import Foundation

/// The largest generated tenant a scenario or the demo world may ask for. Data is made on demand,
/// so these bound what a sync can be asked to read, not memory.
public enum TenantLimits {
    public static let maxInvestigations = 1_000_000
    public static let maxEvents = 100_000_000
    public static let maxLogSources = 10_000
}

/// Makes the records of a generated block on demand: the `index`-th record is a pure function of
/// the recipe and the index, so a tenant of a million investigations or a hundred million events
/// holds a few words, not its data.
public protocol RecordRecipe: Sendable {
    associatedtype Record: Sendable
    /// How many records the block holds.
    var count: Int { get }
    func record(at index: Int) -> Record
    /// The index of the record with this id (or rrn, or sequence number), if the block made it.
    func index(of identifier: String) -> Int?
}

/// A tenant's records of one kind: a generated block (made on demand, oldest first), the edits
/// made to generated records through the API, then explicit records (a scenario's own, or created
/// through the API) after it.
///
/// It is a collection in that order, so small tenants and tests use it as an array; the
/// endpoints reach the generated block through `recipe` and binary searches, so what a page costs
/// grows with what it returns, not with what the tenant holds. Replacing a stretch of the
/// generated block (`removeFirst`, `insert` inside it) turns the block into explicit records:
/// meant for tests of small tenants, it costs the whole block once.
public struct Records<Recipe: RecordRecipe>: RandomAccessCollection, MutableCollection, RangeReplaceableCollection,
    ExpressibleByArrayLiteral, Sendable
{
    public typealias Element = Recipe.Record
    /// The generated block, nil when every record is explicit.
    public private(set) var recipe: Recipe? {
        // Kept beside it: reading the recipe's count through the optional copies the recipe
        // (strings, arrays: references counted) on every record a page reads.
        didSet { generatedCount = recipe?.count ?? 0 }
    }
    /// How many records the generated block holds; positions below it are generated.
    public private(set) var generatedCount = 0
    /// Generated records changed through the API, by index: they sit on top of the recipe.
    public private(set) var edits: [Int: Element] = [:]
    /// Records after the generated block.
    public private(set) var explicit: [Element]

    public init(recipe: Recipe) {
        self.recipe = recipe
        generatedCount = recipe.count
        explicit = []
    }

    public init() { explicit = [] }
    public init<S: Sequence>(_ elements: S) where S.Element == Element { explicit = Array(elements) }
    public init(arrayLiteral elements: Element...) { explicit = elements }

    public var startIndex: Int { 0 }
    public var endIndex: Int { generatedCount + explicit.count }

    public subscript(position: Int) -> Element {
        get {
            let generated = generatedCount
            if position < generated {
                precondition(position >= 0, "Records: position \(position) out of range")
                // `recipe!` reads it in place; `unsafelyUnwrapped` would copy it.
                return edits[position] ?? recipe!.record(at: position)
            }
            return explicit[position - generated]
        }
        set {
            let generated = generatedCount
            if position < generated {
                precondition(position >= 0, "Records: position \(position) out of range")
                edits[position] = newValue
            } else {
                explicit[position - generated] = newValue
            }
        }
    }

    /// The position of the generated record with this id, if any, in constant time.
    public func generatedPosition(of identifier: String) -> Int? { recipe?.index(of: identifier) }

    /// The first generated position where `isPast` holds, for a predicate that is false and then
    /// true along the block (a time bound): a binary search, `generatedCount` when it never holds.
    public func generatedPartition(_ isPast: (Int) -> Bool) -> Int {
        var low = 0, high = generatedCount
        while low < high {
            let middle = low + (high - low) / 2
            if isPast(middle) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    public mutating func replaceSubrange<C: Collection>(_ range: Range<Int>, with elements: C) where C.Element == Element {
        let generated = generatedCount
        if range.lowerBound >= generated {
            explicit.replaceSubrange((range.lowerBound - generated)..<(range.upperBound - generated), with: elements)
            return
        }
        // A change inside the generated block: make it explicit (small tenants and tests only).
        var all = Array(self)
        all.replaceSubrange(range, with: elements)
        recipe = nil
        edits = [:]
        explicit = all
    }
}
