import Foundation
import InsightCore

/// The text form kept in the repository: `Recordings/NAME.json`, canonical (sorted keys,
/// pretty, dates as RFC 3339), so diffs read well.
public enum RecordingFile {
    static let compare = "compare it with a recording `insight-replay export` writes (docs/RECORDINGS.md)"

    public static func encode(_ recording: Recording) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date, millis: true))
        }
        var data = try encoder.encode(recording)
        data.append(0x0A)
        return data
    }

    public static func decode(_ data: Data, file: String) throws -> Recording {
        if let (line, column) = JSON.errorLocation(data) {
            throw RecordingError.file(file, "not JSON at line \(line), column \(column)", remedy: "give a recording written by `insight-replay export`, or a .har capture")
        }
        // JSON of another kind is named as such, before any field is asked of it.
        if let json = JSON(data: data) {
            if json["log"]?["entries"] != nil {
                throw RecordingError.file(file, "this is a HAR capture (log.entries), not a recording", remedy: "give it a .har name, or import it as one (insight-replay import FILE.har)")
            }
            guard case .object(let object) = json, object["exchanges"] != nil else {
                throw RecordingError.file(file, "neither a recording (an object with name, provenance and exchanges, as `insight-replay export` writes) nor a HAR capture (log.entries)", remedy: "give a recording `insight-replay export` wrote, or a HAR capture a browser saved")
            }
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not an RFC 3339 time"))
            }
            return date
        }
        do {
            return try decoder.decode(Recording.self, from: data)
        } catch let error as DecodingError {
            throw RecordingError.file(file, describe(error), remedy: Self.compare)
        } catch {
            throw RecordingError.file(file, "not a recording: \(error)", remedy: Self.compare)
        }
    }

    /// Writes `folder/NAME.json` atomically.
    public static func export(_ recording: Recording, to folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = (folder as NSString).appendingPathComponent("\(recording.name).json")
        try encode(recording).write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }

    public static func load(_ path: String) throws -> Recording {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecordingError.file(path, "cannot read the file", remedy: RecordingError.checkPath)
        }
        return try decode(data, file: path)
    }

    /// Every `*.json` recording in a folder, sorted by file name; all problems reported together.
    public static func loadFolder(_ folder: String) throws -> [Recording] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var recordings: [Recording] = []
        var errors: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            do { recordings.append(try load((folder as NSString).appendingPathComponent(name))) } catch { errors.append("\(error)") }
        }
        if !errors.isEmpty { throw RecordingError.file(folder, errors.joined(separator: "\n")) }
        return recordings
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue): missing field"
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(type), found null"
        case .dataCorrupted(let context): return "\(path(context).isEmpty ? "file" : path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// HAR 1.2 (browser-style captures) to and from recordings. Imports are redacted.
public enum HAR {
    static let saveHAR = "save the capture from the browser's network panel (Save all as HAR) while the integration talks to Rapid7"

    /// A recording from a HAR file's entries, redacted; a key-shaped value that would survive
    /// refuses the import.
    public static func importHAR(_ data: Data, name: String, file: String, now: Date) throws -> Recording {
        try read(data, name: name, file: file, now: now).recording
    }

    /// A HAR capture read: its recording, and the entries skipped as not Rapid7's (a browser
    /// exports every host the page touched: fonts, analytics …), each saying which and why.
    public struct Capture: Sendable {
        public var recording: Recording
        public var skipped: [String]
    }

    /// Whether a host is one a Rapid7 integration talks to (any *.rapid7.com: a wrong regional
    /// or console host is evidence too, and stays).
    public static func isRapid7(_ host: String) -> Bool {
        let host = host.lowercased()
        return host == "rapid7.com" || host.hasSuffix(".rapid7.com")
    }

    public static func read(_ data: Data, name: String, file: String, now: Date) throws -> Capture {
        guard let root = JSON(data: data) else {
            let (line, column) = JSON.errorLocation(data) ?? (1, 1)
            throw RecordingError.file(file, "not JSON at line \(line), column \(column)", remedy: "a HAR capture is JSON: {\"log\": {\"entries\": [...]}}")
        }
        guard let entries = root["log"]?["entries"]?.arrayValue else {
            throw RecordingError.file(file, "not a HAR file: expected {\"log\": {\"entries\": [...]}}", remedy: Self.saveHAR)
        }
        var exchanges: [RecordedExchange] = []
        var skipped: [String] = []
        for (index, entry) in entries.enumerated() {
            let field = "log.entries[\(index)]"
            guard let request = entry["request"], let response = entry["response"],
                  let method = request["method"]?.stringValue, let url = request["url"]?.stringValue,
                  let components = URLComponents(string: url), let host = components.host
            else { throw RecordingError.file(file, "\(field): needs request.method, request.url and response") }
            guard isRapid7(host) else {
                skipped.append("\(field): \(method) \(components.scheme ?? "https")://\(host)\(components.percentEncodedPath) is not a Rapid7 host; skipped")
                continue
            }
            guard let status = response["status"]?.intValue else { throw RecordingError.file(file, "\(field).response.status: expected a number") }
            let started = entry["startedDateTime"]?.stringValue.flatMap(RFC3339.parse) ?? now
            let headers: (JSON?) -> [RecordedExchange.HeaderPair] = { list in
                (list?.arrayValue ?? []).compactMap { header in
                    guard let name = header["name"]?.stringValue, let value = header["value"]?.stringValue else { return nil }
                    return .init(name, value)
                }.filter { !$0.name.hasPrefix(":") }
            }
            var responseText = response["content"]?["text"]?.stringValue ?? ""
            if response["content"]?["encoding"]?.stringValue == "base64", let decoded = Data(base64Encoded: responseText) {
                responseText = String(decoding: decoded, as: UTF8.self)
            }
            exchanges.append(RecordedExchange(
                method: method, host: host, path: components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath,
                query: (components.queryItems ?? []).map { .init($0.name, $0.value) },
                requestHeaders: headers(request["headers"]), requestBody: request["postData"]?["text"]?.stringValue ?? "",
                status: status, responseHeaders: headers(response["headers"]), responseBody: responseText,
                durationMillis: millis(entry["time"]), recordedAt: started))
        }
        if exchanges.isEmpty {
            throw RecordingError.file(file, entries.isEmpty ? "log.entries is empty: the capture holds no request"
                                        : "none of its \(entries.count) entries is a request to a Rapid7 host (*.rapid7.com)", remedy: saveHAR)
        }
        let region = exchanges.lazy.compactMap { Region(host: $0.host)?.code }.first
        var redactor = Redactor()
        let recording = try redactor.redact(Recording(
            name: name, provenance: Provenance(recordedAt: now, region: region, source: "har \((file as NSString).lastPathComponent)", productVersion: nil),
            exchanges: exchanges))
        return Capture(recording: recording, skipped: skipped)
    }

    /// HAR `time` is fractional milliseconds (browsers write 120.538): rounded, never cut to 0.
    public static func millis(_ value: JSON?) -> Int {
        switch value {
        case .int(let whole)?: return Int(clamping: max(0, whole))
        case .double(let fraction)? where fraction.isFinite && fraction > 0: return Int(min(fraction, 1e12).rounded())
        default: return 0
        }
    }

    /// A HAR 1.2 document of a recording.
    public static func exportHAR(_ recording: Recording) -> Data {
        let entries: [JSON] = recording.exchanges.map { exchange in
            var url = URLComponents()
            url.scheme = "https"
            url.host = exchange.host
            url.percentEncodedPath = exchange.path
            if !exchange.query.isEmpty { url.queryItems = exchange.query.map { URLQueryItem(name: $0.name, value: $0.value) } }
            var request: [String: JSON] = [
                "method": .string(exchange.method), "url": .string(url.string ?? ""), "httpVersion": "HTTP/1.1",
                "headers": .array(exchange.requestHeaders.map { ["name": .string($0.name), "value": .string($0.value)] }),
                "queryString": .array(exchange.query.map { ["name": .string($0.name), "value": .string($0.value ?? "")] }),
                "cookies": [], "headersSize": -1, "bodySize": .int(Int64(exchange.requestBody.utf8.count)),
            ]
            if !exchange.requestBody.isEmpty {
                request["postData"] = ["mimeType": "application/json", "text": .string(exchange.requestBody)]
            }
            let mime = exchange.responseHeaders.first { $0.name == "content-type" }?.value ?? "application/json"
            return [
                "startedDateTime": .string(RFC3339.format(exchange.recordedAt, millis: true)), "time": .int(Int64(exchange.durationMillis)),
                "request": .object(request),
                "response": [
                    "status": .int(Int64(exchange.status)), "statusText": "", "httpVersion": "HTTP/1.1",
                    "headers": .array(exchange.responseHeaders.map { ["name": .string($0.name), "value": .string($0.value)] }),
                    "cookies": [], "content": ["size": .int(Int64(exchange.responseBody.utf8.count)), "mimeType": .string(mime),
                                               "text": .string(exchange.responseBody)],
                    "redirectURL": "", "headersSize": -1, "bodySize": .int(Int64(exchange.responseBody.utf8.count)),
                ],
                "cache": [:], "timings": ["send": 0, "wait": .int(Int64(exchange.durationMillis)), "receive": 0],
            ]
        }
        let document: JSON = ["log": ["version": "1.2", "creator": ["name": "insight-replay", "version": "0.1.0"],
                                      "entries": .array(entries)]]
        return document.encoded(pretty: true)
    }
}
