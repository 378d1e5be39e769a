import ArgumentParser
import Foundation
import InsightClient
import InsightCore
import InsightEmulator

/// Measures generated tenants of production size (issue 13): a whole in-process sync, pages
/// probed at random depths, and peak memory, one child process per tenant so each row's peak
/// RSS is its own.
struct BenchScale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-scale",
        abstract: "Benchmark: sync and page tenants of 1k to 1M investigations and 10k to 100M log events, as a table.")

    @Option(name: .long, parsing: .unconditional, help: "Pages probed per kind (investigations, alerts, log events) and row.")
    var probes: Int = 300

    @Option(name: .long, parsing: .unconditional, help: "Rows whose whole sync holds more items than this are not synced (only probed).")
    var syncLimit: Int = 12_000_000

    @Option(name: .long, help: "Only these rows (comma-separated numbers from 1).")
    var rows: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Run one row in this process and print it as JSON (used by the table).", visibility: .hidden))
    var row: Int?

    /// Investigations, logs and events per log of each row.
    static let tenants: [(investigations: Int, logs: Int, perLog: Int)] = [
        (1_000, 2, 5_000), (10_000, 2, 500_000), (100_000, 2, 500_000), (100_000, 10, 1_000_000), (1_000_000, 10, 10_000_000),
    ]
    /// The row the targets are about: 100,000 investigations and 1,000,000 log events.
    static let targetRow = 3

    func validate() throws {
        try OptionRange.check("--probes", probes, 1...1_000_000, example: 300)
        try OptionRange.check("--sync-limit", syncLimit, 1...1_000_000_000, example: 12_000_000)
        if let row, !(1...Self.tenants.count).contains(row) { throw ValidationError("--row must be 1…\(Self.tenants.count)") }
    }

    func run() async throws {
        if let row {
            let figures = try await Self.measure(row: row, probes: probes, syncLimit: syncLimit)
            print(String(decoding: try JSONEncoder().encode(figures), as: UTF8.self))
            return
        }
        let chosen = try rows.map { text in
            try text.split(separator: ",").map { part -> Int in
                guard let number = Int(part.trimmingCharacters(in: .whitespaces)), (1...Self.tenants.count).contains(number) else {
                    throw ValidationError("--rows: '\(part)' is not a row number 1…\(Self.tenants.count)")
                }
                return number
            }
        } ?? Array(1...Self.tenants.count)
        print("scale benchmark: in-process sync and page probes (\(probes) per kind), one process per row")
        print(Figures.header)
        var all: [Figures] = []
        for number in chosen {
            let figures = try runChild(row: number)
            print(figures.line)
            all.append(figures)
        }
        print("* a page of investigations read for the first time (a fresh emulator each): the bytes kept of pages already sent are not counted")
        Figures.printTargets(all)
    }

    /// Runs one row in a child process of this same binary and reads its JSON line.
    private func runChild(row: Int) throws -> Figures {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.resolvingSymlinksInPath()
        if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path) {
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        }
        process.arguments = ["bench-scale", "--row", "\(row)", "--probes", "\(probes)", "--sync-limit", "\(syncLimit)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let figures = try? JSONDecoder().decode(Figures.self, from: Data(line.utf8))
        else { throw ValidationError("row \(row) failed (exit \(process.terminationStatus)): \(String(decoding: data, as: UTF8.self))") }
        return figures
    }

    static let key = "5ca1e5ca-1e5c-4a1e-8ca1-e5ca1e5ca1e5"

    static func tenant(row: Int, now: Date) -> Tenant {
        let shape = tenants[row - 1]
        var generator = DataGenerator(seed: 13, label: "scale-\(row)")
        let organization = generator.uuid()
        let investigations = generator.investigations(count: shape.investigations, region: .us, organizationID: organization,
                                                      now: now, spreadDays: 7)
        let logs = generator.logSources(count: shape.logs)
        return Tenant(
            region: .us, organizationID: organization, organizationName: "Scale \(row)",
            users: [User(email: "svc@example.com", roles: [Roles.idrAnalyst, Roles.logSearchViewOnly], products: [Products.insightIDR])],
            keys: [APIKey(id: "scale", secret: key, kind: .user, owner: "svc@example.com")],
            investigations: investigations,
            alerts: generator.alerts(for: investigations, perInvestigation: 1, region: .us, organizationID: organization),
            logSources: logs, logEvents: generator.logEvents(for: logs, perLog: shape.perLog, now: now, spreadDays: 7))
    }

    static func measure(row: Int, probes: Int, syncLimit: Int) async throws -> Figures {
        let shape = tenants[row - 1]
        let clock = VirtualClock()
        var figures = Figures(row: row, investigations: shape.investigations, events: shape.logs * shape.perLog)
        let expected = shape.investigations * 2 + shape.logs * shape.perLog
        if expected <= syncLimit {
            let emulator = Emulator(tenants: [tenant(row: row, now: clock.now())], clock: clock)
            let client = InsightClient(settings: IntegrationSettings(url: "https://us.api.insight.rapid7.com", token: key),
                                       transport: emulator, clock: clock)
            let start = DispatchTime.now()
            let report = try await client.sync()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            let synced = report.investigations + report.alerts + report.logEvents
            guard synced == expected else {
                throw ValidationError("row \(row): the sync read \(report.investigations) investigations, \(report.alerts) alerts and \(report.logEvents) events; the tenant holds \(expected) items")
            }
            figures.syncSeconds = seconds
            figures.itemsPerSecond = Double(synced) / seconds
            figures.requests = emulator.journal.total
        }
        // Pages at random depths, answered at once (no 202), timed in the emulator.
        var tenant = tenant(row: row, now: clock.now())
        tenant.queryPolls = 0
        let emulator = Emulator(tenants: [tenant], rateLimits: [.logSearchQuery: RateLimit(limit: Int.max)], clock: clock)
        var random = SeededRandom(seed: UInt64(row))
        let host = Region.us.platformHost
        let headers: HTTPHeaders = ["X-Api-Key": key, "Accept": "application/json"]
        let now = clock.now()
        func time(_ request: HTTPRequest, on emulator: Emulator = emulator, _ check: (HTTPResponse) -> Bool) throws -> Double {
            let start = DispatchTime.now()
            let reply = try emulator.process(request)
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
            guard case .respond(let response, _) = reply, response.status == 200, check(response) else {
                throw ValidationError("row \(row): probe \(request.method) \(request.path) did not answer a full page")
            }
            return milliseconds
        }
        var investigationPages: [Double] = [], alertPages: [Double] = [], eventPages: [Double] = []
        let pages = max(1, shape.investigations / 100)
        let span = 7 * 86_400_000 as Int64
        let keys = tenant.logSources.map(\.id).joined(separator: ":")
        // The first rounds warm caches and allocators up and are not counted.
        let warmup = 20
        for round in 0..<(warmup + probes) {
            if round == warmup { investigationPages = []; alertPages = []; eventPages = [] }
            let page = Int(random.next() % UInt64(pages))
            // A page read for the first time, as a sync reads each: a fresh emulator, so the bytes
            // the server keeps of investigations it has sent (which would serve a small tenant's
            // few pages from memory) do not flatter the small rows.
            let fresh = Emulator(tenants: [tenant], clock: clock)
            investigationPages.append(try time(HTTPRequest(
                method: "GET", host: host, path: "/idr/v2/investigations",
                query: [URLQueryItem(name: "start_time", value: now.addingTimeInterval(-28 * 86_400).iso8601),
                        URLQueryItem(name: "end_time", value: now.iso8601), URLQueryItem(name: "index", value: "\(page)"),
                        URLQueryItem(name: "size", value: "100")],
                headers: headers), on: fresh) { $0.json?["data"]?.arrayValue?.count == 100 })
            let offset = Int(random.next() % UInt64(max(1, shape.investigations - 100)))
            alertPages.append(try time(HTTPRequest(
                method: "POST", host: host, path: "/idr/at/alerts/ops/search",
                query: [URLQueryItem(name: "size", value: "100"), URLQueryItem(name: "index", value: "\(offset)")],
                headers: headers, body: Data(#"{"search":{}}"#.utf8))) { $0.json?["alerts"]?.arrayValue?.count == 100 })
            // A page of 500 from a random instant in the middle of the events, then the page its cursor leads to.
            let from = now.unixMillis - span + Int64(random.next() % UInt64(span / 2))
            var cursor: Int64?
            eventPages.append(try time(HTTPRequest(
                method: "GET", host: host, path: "/log_search/query/logs/\(keys)",
                query: [URLQueryItem(name: "from", value: "\(from)"), URLQueryItem(name: "to", value: "\(now.unixMillis)"),
                        URLQueryItem(name: "per_page", value: "500")],
                headers: headers)) { response in
                    cursor = response.json?["events"]?.arrayValue?.last?["sequence_number"]?.intValue.map(Int64.init)
                    return response.json?["events"]?.arrayValue?.count == 500
                })
            eventPages.append(try time(HTTPRequest(
                method: "GET", host: host, path: "/log_search/query/logs/\(keys)",
                query: [URLQueryItem(name: "from", value: "\(from)"), URLQueryItem(name: "to", value: "\(now.unixMillis)"),
                        URLQueryItem(name: "per_page", value: "500"), URLQueryItem(name: "sequence_number", value: "\(cursor ?? 0)")],
                headers: headers)) { $0.json?["events"]?.arrayValue?.count == 500 })
        }
        figures.investigationPage = Percentiles(investigationPages)
        figures.alertPage = Percentiles(alertPages)
        figures.eventPage = Percentiles(eventPages)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        figures.peakMegabytes = Double(usage.ru_maxrss) / 1024
        return figures
    }
}

struct Percentiles: Codable {
    var p50: Double
    var p99: Double
    init(_ values: [Double]) {
        let sorted = values.sorted()
        p50 = sorted[sorted.count / 2]
        p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
    }
}

/// One row of the scale table.
struct Figures: Codable {
    var row: Int
    var investigations: Int
    var events: Int
    var syncSeconds: Double?
    var itemsPerSecond: Double?
    var requests: Int?
    var investigationPage = Percentiles([0])
    var alertPage = Percentiles([0])
    var eventPage = Percentiles([0])
    var peakMegabytes = 0.0

    init(row: Int, investigations: Int, events: Int) {
        self.row = row
        self.investigations = investigations
        self.events = events
    }

    static let header = """
        row  investigations   log events   sync wall    items/s  requests  inv page* p50/p99 ms   alert page p50/p99 ms   event page p50/p99 ms   peak RSS
        """

    var line: String {
        let sync = syncSeconds.map { String(format: "%8.2f s", $0) } ?? "  not run"
        let rate = itemsPerSecond.map { String(format: "%10.0f", $0) } ?? "         -"
        let count = requests.map { String(format: "%9d", $0) } ?? "        -"
        func pair(_ value: Percentiles) -> String { String(format: "%9.3f / %-9.3f", value.p50, value.p99) }
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        return String(format: "%3d  ", row) + right(Self.grouped(investigations), 14) + right(Self.grouped(events), 13) + "  "
            + "\(sync) \(rate) \(count)   \(pair(investigationPage))   \(pair(alertPage))     \(pair(eventPage))   "
            + String(format: "%6.0f MB", peakMegabytes)
    }

    static func grouped(_ number: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        return formatter.string(from: NSNumber(value: number)) ?? "\(number)"
    }

    /// The issue's targets, each with the figure it is judged on.
    static func printTargets(_ rows: [Figures]) {
        print("targets:")
        if let target = rows.first(where: { $0.row == BenchScale.targetRow }) {
            if let seconds = target.syncSeconds {
                print(String(format: "  sync of 100,000 investigations + 1,000,000 events < 10 s      %7.2f s    %@", seconds, seconds < 10 ? "met" : "MISSED"))
            }
            print(String(format: "  ... and peak RSS < 250 MB                                   %7.0f MB   %@", target.peakMegabytes,
                         target.peakMegabytes < 250 ? "met" : "MISSED"))
        }
        guard let smallest = rows.first, let largest = rows.last, rows.count > 1 else {
            if !rows.contains(where: { $0.row == BenchScale.targetRow }) {
                print("  none judged: the targets concern row \(BenchScale.targetRow), and the p99 of the last row against the first")
            }
            return
        }
        for (name, path) in [("investigation", \Figures.investigationPage), ("alert", \Figures.alertPage), ("event", \Figures.eventPage)] {
            let ratio = largest[keyPath: path].p99 / max(smallest[keyPath: path].p99, 0.000_001)
            print(String(format: "  %@ page p99, row %d vs row %d, within 2x        %7.2fx     %@",
                         name.padding(toLength: 13, withPad: " ", startingAt: 0), largest.row, smallest.row, ratio, ratio <= 2 ? "met" : "MISSED"))
        }
    }
}
