import Foundation
import InsightServer
import InsightCore

/// Hostile versions of a good file, made deterministically from a seed: what a hand slip, a
/// truncated download, a bad merge or a malicious upload makes of a scenario, a recording or a
/// HAR. Each mutant is a pure function of `(original, seed, index)`, so a failure names its index
/// and can be made again.
public struct Mutants {
    public enum Kind: String, CaseIterable, Sendable {
        case deleteLine, duplicateLine, swapLines, randomBytes, truncate, deepNesting, hugeNumber, negativeNumber
        case wrongType, aliasBomb, empty, binary, nulBytes, longLine
    }

    public let original: String
    public let seed: UInt64

    public init(_ original: String, seed: UInt64) {
        self.original = original
        self.seed = seed
    }

    /// The mutant at `index`, and which kind it is.
    public func mutant(_ index: Int) -> (kind: Kind, bytes: Data) {
        var random = SeededRandom(seed: seed, label: "mutant-\(index)")
        let kind = Kind.allCases[index % Kind.allCases.count]
        var lines = original.components(separatedBy: "\n")
        func line() -> Int { Int(random.next() % UInt64(max(1, lines.count))) }
        switch kind {
        case .deleteLine:
            if !lines.isEmpty { lines.remove(at: line()) }
        case .duplicateLine:
            if !lines.isEmpty { let at = line(); lines.insert(lines[at], at: at) }
        case .swapLines:
            if lines.count > 1 { lines.swapAt(line(), line()) }
        case .randomBytes:
            var bytes = Array(original.utf8)
            for _ in 0..<(1 + random.next() % 8) where !bytes.isEmpty {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            return (kind, Data(bytes))
        case .truncate:
            let bytes = Array(original.utf8)
            return (kind, Data(bytes.prefix(Int(random.next() % UInt64(max(1, bytes.count))))))
        case .deepNesting:
            let depth = 600 + Int(random.next() % 20_000)
            let open = original.hasPrefix("{") ? String(repeating: "[", count: depth) : String(repeating: "- ", count: min(depth, 2_000))
            let close = original.hasPrefix("{") ? String(repeating: "]", count: depth) : ""
            if !lines.isEmpty { let at = line(); lines[at] = lines[at] + " " + open + "1" + close }
        case .hugeNumber:
            if !lines.isEmpty {
                let at = line()
                let digits = String(repeating: "9", count: 30 + Int(random.next() % 400))
                lines[at] = lines[at].replacingOccurrences(of: #"\d+"#, with: digits, options: .regularExpression)
            }
        case .negativeNumber:
            if !lines.isEmpty { let at = line(); lines[at] = lines[at].replacingOccurrences(of: #"(\d+)"#, with: "-$1", options: .regularExpression) }
        case .wrongType:
            if !lines.isEmpty {
                let at = line()
                let replacement = ["[]", "{}", "null", "true", "\"text\"", "[1, [2]]", "{a: b}"][Int(random.next() % 7)]
                lines[at] = lines[at].replacingOccurrences(of: #":\s*.*$"#, with: ": " + replacement, options: .regularExpression)
            }
        case .aliasBomb:
            // A billion laughs: each level refers to the one before nine times.
            var bomb = ["a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
            for level in 1...9 {
                let refs = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ",")
                bomb.append("a\(level): &a\(level) [\(refs)]")
            }
            bomb.append("name: *a9")
            return (kind, Data((bomb + lines).joined(separator: "\n").utf8))
        case .empty:
            return (kind, Data())
        case .binary:
            return (kind, Data((0..<(64 + Int(random.next() % 512))).map { _ in UInt8(truncatingIfNeeded: random.next()) }))
        case .nulBytes:
            var bytes = Array(original.utf8)
            for _ in 0..<(1 + random.next() % 4) { bytes.insert(0, at: Int(random.next() % UInt64(bytes.count + 1))) }
            return (kind, Data(bytes))
        case .longLine:
            if !lines.isEmpty { let at = line(); lines[at] += String(repeating: "x", count: 100_000 + Int(random.next() % 900_000)) }
        }
        return (kind, Data(lines.joined(separator: "\n").utf8))
    }
}
