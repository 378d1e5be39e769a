import Foundation
import InsightCore
import Testing
@testable import InsightEmulator

/// The request path's shortcuts must answer exactly what the long way answers.
@Suite struct RouterShortcutTests {
    /// Every route's path (parameters filled), its near misses of the same length, and a trailing
    /// slash: the fixed-path table finds the routes the full match finds, in the same order, and
    /// nothing for a path that is not fixed.
    @Test func theFixedPathTableAgreesWithTheFullMatch() {
        var paths: [String] = ["/", "", "/x", "/validatE", "/validat", "/validate/", "/idr/v2/investigationz"]
        for route in Router.platform + Router.logSearch {
            let path = "/" + route.pattern.map { $0.hasPrefix("{") ? "p1" : $0 }.joined(separator: "/")
            paths += [path, path + "/", String(path.dropLast()) + "#", "/log_search" + path]
        }
        var shortcuts = 0
        for path in paths {
            for kind in [Region.HostKind.platform, .logSearch] {
                let request = HTTPRequest(method: "GET", host: "us.api.insight.rapid7.com", path: path)
                let quick = Router.match(request, kind: kind).map { ObjectIdentifier($0.route) }
                let full = Router.fullMatch(request, kind: kind)
                #expect(quick == full.map { ObjectIdentifier($0.route) }, "\(kind) \(path)")
                if kind == .platform, let fixed = Router.fixedMatches(path) {
                    shortcuts += 1
                    #expect(fixed.allSatisfy { $0.params.isEmpty }, "\(path)")
                }
            }
        }
        // The table is in use: /validate and the investigation list at least take it.
        #expect(Router.fixedMatches("/validate")?.first?.route.endpoint == .validate)
        #expect(Router.fixedMatches("/idr/v2/investigations")?.count == 2)
        #expect(shortcuts >= 10)
    }

    /// The rate limiter finds a family's quota by position: it must be the family's place in
    /// `allCases`, or a new family would read another's quota.
    @Test func eachFamilysPositionIsItsPlaceInAllCases() {
        for (index, family) in EndpointFamily.allCases.enumerated() {
            #expect(family.position == index, "\(family)")
        }
    }
}

/// The journal keeps a stamp per request and shares what alike requests have in common.
@Suite struct JournalRingTests {
    /// Alike requests share a template and unlike ones each get theirs; against a plain list of
    /// every entry, the journal gives back exactly the newest `capacity`, in order, through runs,
    /// alternations, wrap-arounds of both rings and a reset (after which sequence numbers go on).
    @Test func theJournalAgreesWithAPlainListOfEveryEntry() {
        for capacity in [1, 2, 3, 7] {
            var journal = Journal(capacity: capacity)
            var model: [(time: Double, template: JournalEntry.Template)] = []
            var random = SeededRandom(seed: UInt64(capacity))
            let variants = (0..<4).map { index in
                JournalEntry.Template(method: index == 3 ? "POST" : "GET", region: index == 2 ? .eu : .us, hostKind: .platform,
                                      path: "/p\(index % 2)", query: index == 1 ? "size=1" : "", keyID: index == 0 ? nil : "k",
                                      status: 200 + index, reason: "r\(index)", headerList: "x-api-key", retryAfter: index == 3 ? 5 : nil)
            }
            var current = 0, appended = 0
            for step in 0..<300 {
                if step == 150 {
                    journal.reset()
                    model.removeAll()
                }
                // Runs of alike requests, and changes of every kind between them.
                if Int.random(in: 0..<3, using: &random) == 0 { current = Int.random(in: 0..<variants.count, using: &random) }
                let time = Double(step)
                journal.append(time: Date(timeIntervalSince1970: time), elapsed: time, variants[current])
                model.append((time, variants[current]))
                appended += 1
                let kept = model.suffix(capacity)
                let ordered = journal.ordered
                #expect(ordered.map(\.elapsed) == kept.map(\.time), "capacity \(capacity), step \(step)")
                #expect(ordered.map(\.template) == kept.map(\.template), "capacity \(capacity), step \(step)")
                // Sequence numbers go on across a reset.
                #expect(ordered.map(\.sequence) == Array((appended - kept.count)..<appended))
                #expect(journal.total == model.count && journal.dropped == model.count - kept.count)
            }
        }
        // A client asking the same thing again adds no template.
        var journal = Journal(capacity: 100)
        let alike = JournalEntry.Template(method: "GET", region: .us, hostKind: .platform, path: "/validate", query: "", keyID: "k",
                                          status: 200, reason: "ok", headerList: "x-api-key", retryAfter: nil)
        for second in 0..<50 { journal.append(time: Date(timeIntervalSince1970: Double(second)), elapsed: Double(second), alike) }
        #expect(journal.templatesMade == 1)
        #expect(journal.ordered.count == 50)
    }
}
