import ArgumentParser
import Foundation
import InsightCore
import InsightRecordings

/// Measures the recording store and matcher at scale (issue 5's targets), printing figures.
struct BenchStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-store",
        abstract: "Benchmark: import N exchanges into SQLite, load them back, and time lookups.")

    @Option(name: .long, parsing: .unconditional, help: "Exchanges in the recording.")
    var exchanges: Int = 100_000

    @Option(name: .long, parsing: .unconditional, help: "Lookups to time.")
    var lookups: Int = 20_000

    @Option(name: .long, help: "Store to write (kept, for the server benchmark); default a temporary file.")
    var store: String?

    func validate() throws {
        try OptionRange.check("--exchanges", exchanges, 1...10_000_000, example: 100_000)
        try OptionRange.check("--lookups", lookups, 1...10_000_000, example: 20_000)
    }

    func run() async throws {
        let path = store ?? FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).sqlite").path
        let at = Date()
        let recording = Recording(
            name: "bench", provenance: Provenance(recordedAt: at, region: "us", source: "bench-store", productVersion: nil),
            exchanges: (0..<exchanges).map { index in
                RecordedExchange(
                    method: "GET", host: Region.seedRegions[index % 7].platformHost, path: "/idr/v2/investigations/rrn:investigation:bench:\(index)",
                    query: [.init("size", "20")], requestHeaders: [.init("accept", "application/json")], requestBody: "",
                    status: 200, responseHeaders: [.init("content-type", "application/json")],
                    responseBody: #"{"rrn":"rrn:investigation:bench:\#(index)","title":"Benchmark investigation \#(index)","status":"OPEN","priority":"HIGH","source":"ALERT","disposition":"UNDECIDED","assignee":null,"created_time":"2026-01-01T00:00:00Z"}"#,
                    durationMillis: 10, recordedAt: at)
            })
        let sqlite = try SQLiteRecordingStore(path: path)
        let importStart = DispatchTime.now()
        try sqlite.saveRecording(recording)
        let importSeconds = seconds(since: importStart)
        let loadStart = DispatchTime.now()
        guard let index = try sqlite.replayIndex(named: "bench") else { throw ValidationError("the recording did not load back") }
        let loadSeconds = seconds(since: loadStart)
        let buildStart = DispatchTime.now()
        var matcher = ExchangeMatcher(exchanges: index.requests)
        let buildSeconds = seconds(since: buildStart)
        var random = SeededRandom(seed: 42)
        var durations: [Double] = []
        durations.reserveCapacity(lookups)
        for _ in 0..<lookups {
            let position = Int(random.next() % UInt64(exchanges))
            let request = HTTPRequest(method: "GET", host: Region.seedRegions[position % 7].platformHost,
                                      path: "/idr/v2/investigations/rrn:investigation:bench:\(position)", query: [URLQueryItem(name: "size", value: "20")])
            let start = DispatchTime.now()
            // A whole lookup: match the request side, then read the recorded response.
            let found = matcher.answerIndex(request).flatMap(index.response)
            durations.append(seconds(since: start) * 1000)
            guard found?.bodyText.contains("bench:\(position)\"") == true else { throw ValidationError("lookup \(position) found the wrong answer") }
        }
        durations.sort()
        let percentile = { (p: Double) in durations[min(durations.count - 1, Int(Double(durations.count) * p))] }
        print("recordings benchmark: \(exchanges) exchanges, \(lookups) lookups, store \(path)")
        print(String(format: "  import (one transaction)   %8.2f s     target < 5 s     %@", importSeconds, importSeconds < 5 ? "ok" : "MISSED"))
        print(String(format: "  load request index         %8.2f s", loadSeconds))
        print(String(format: "  index build                %8.3f s", buildSeconds))
        print(String(format: "  lookup p50 (match + read)  %8.4f ms", percentile(0.5)))
        print(String(format: "  lookup p99                 %8.4f ms    target < 1 ms    %@", percentile(0.99), percentile(0.99) < 1 ? "ok" : "MISSED"))
        print(String(format: "  lookup max                 %8.4f ms", durations.last ?? 0))
        if store == nil { try? FileManager.default.removeItem(atPath: path) }
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000_000
    }
}
