import Foundation
#if canImport(Glibc)
import Glibc
#endif
import InsightCore
import InsightEmulator

/// A run as data: what `run --json` writes (schema: docs/report.schema.json) and what the HTML
/// report draws. Built from scenario results that are already scrubbed of secrets; emails in
/// timeline texts are masked and no request carries its query string or headers.
public struct RunReport: Sendable, Codable {
    public static let schemaID = "https://insight-replay.dev/schemas/report-1.json"

    public var schema = RunReport.schemaID
    public var generatedAt: String
    public var hostname: String
    public var commit: String?
    public var wallSeconds: Double
    public var summary: Summary
    /// Scenario files that could not be loaded (then no scenario ran).
    public var errors: [FileError]
    public var scenarios: [ScenarioReport]

    public struct Summary: Sendable, Codable {
        public var scenarios: Int
        public var passed: Int
        public var failed: Int
        public var errors: Int
    }

    public struct FileError: Sendable, Codable {
        public var file: String
        public var line: Int?
        public var column: Int?
        public var field: String
        public var message: String
    }

    public struct ScenarioReport: Sendable, Codable {
        public var name: String
        public var file: String
        public var provenance: String
        public var passed: Bool
        public var failures: [String]
        public var diagnosis: DiagnosisReport?
        public var clientExit: Int32?
        public var virtualSeconds: Double
        public var wallSeconds: Double
        public var requests: [RequestReport]
        public var timeline: [TimelineMark]
        /// Each step that talks to the platform and what it ended with; `diagnosis` is the last one's.
        public var steps: [StepOutcome]
        public var faults: [String]
        public var unusedRecorded: [String]
    }

    public struct DiagnosisReport: Sendable, Codable {
        public var category: String
        public var title: String
        public var summary: String
        public var evidence: [String]
        public var causes: [CauseReport]
        public var remedies: [String]
    }

    public struct CauseReport: Sendable, Codable {
        public var text: String
        public var likelihood: String
        public var because: String?
    }

    public struct RequestReport: Sendable, Codable {
        /// Virtual seconds after the scenario's start.
        public var at: Double
        public var method: String
        public var host: String
        public var path: String
        public var status: Int
        /// Why the emulator answered so: ok, fault 503, rate limited (idr), replay miss …
        public var reason: String
        /// The same method and path as the request before it, sent again.
        public var retry: Bool
        public var retryAfter: Double?
    }

    public init(results: [ScenarioResult], errors: [ScenarioError] = [], wallSeconds: Double, generatedAt: Date = Date(),
                hostname: String = ProcessInfo.processInfo.hostName, commit: String? = nil)
    {
        self.generatedAt = generatedAt.iso8601
        self.hostname = hostname
        self.commit = commit
        self.wallSeconds = wallSeconds
        let failed = results.filter { !$0.passed }.count
        summary = Summary(scenarios: results.count, passed: results.count - failed, failed: failed, errors: errors.count)
        self.errors = errors.map { FileError(file: $0.file, line: $0.line, column: $0.column, field: $0.field, message: $0.message) }
        scenarios = results.map(Self.scenario)
    }

    static func scenario(_ result: ScenarioResult) -> ScenarioReport {
        var requests: [RequestReport] = []
        for entry in result.journal {
            let previous = requests.last
            requests.append(RequestReport(
                at: entry.elapsed, method: entry.method, host: entry.host, path: entry.path, status: entry.status,
                reason: entry.reason, retry: previous.map { $0.method == entry.method && $0.host == entry.host && $0.path == entry.path } ?? false,
                retryAfter: entry.retryAfter))
        }
        return ScenarioReport(
            name: result.name, file: result.file, provenance: result.provenance, passed: result.passed, failures: result.failures,
            diagnosis: result.diagnosis.map(Self.diagnosis), clientExit: result.exitCode,
            virtualSeconds: result.virtualSeconds, wallSeconds: result.wallSeconds, requests: requests,
            timeline: result.timeline, steps: result.steps, faults: result.faultRules, unusedRecorded: result.unusedRecorded)
    }

    public static func diagnosis(_ diagnosis: Diagnosis) -> DiagnosisReport {
        DiagnosisReport(
            category: diagnosis.category.rawValue, title: diagnosis.category.entry.title, summary: diagnosis.summary,
            evidence: diagnosis.evidence,
            causes: diagnosis.causes.map { CauseReport(text: $0.text, likelihood: $0.likelihood.description, because: $0.because) },
            remedies: diagnosis.remedies)
    }

    /// Pretty-printed JSON with sorted keys, so two runs diff cleanly.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }
}

/// Report files are checked before a run starts, so a long run never ends on "cannot write".
public enum ReportPath {
    static let writable = "give a path this user can write, or - for standard output"

    /// What is wrong with writing a report to `path`, or nil. `-` is standard output; a symlink
    /// is judged by what it points to; a device or FIFO is written in place.
    public static func problem(_ path: String, option: String) -> String? {
        if path == "-" { return nil }
        let target = resolved(path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return "\(option) \(path) is a folder; give a file name, e.g. \(path)/report\(suggestedExtension(option))" }
            if !FileManager.default.isWritableFile(atPath: target) { return "\(option) \(path) is not writable" }
            return nil
        }
        let parent = (target as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "\(option) \(path): the folder \(folder) does not exist; create it first (mkdir -p \(folder))"
        }
        if !FileManager.default.isWritableFile(atPath: folder) { return "\(option) \(path): the folder \(folder) is not writable" }
        return nil
    }

    static func suggestedExtension(_ option: String) -> String {
        switch option {
        case "--junit": return ".xml"
        case "--json": return ".json"
        case "--html": return ".html"
        case "--har": return ".har"
        default: return ""
        }
    }

    /// The path a symlink chain ends at (the path itself when it is not a link).
    static func resolved(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return current }
            current = destination.hasPrefix("/") ? destination : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(destination)
        }
        return current
    }

    /// Writes a report as `>` would, and never replaces what is at the path with something else:
    /// `-` goes to standard output; a symlink is written through (the link stays a link); a
    /// device, FIFO or socket is written in place (a FIFO without a reader is refused, not
    /// waited on); a regular file or a new one is replaced whole (written beside, then renamed),
    /// so a reader never sees half a report.
    public static func write(_ text: String, to path: String) throws {
        let data = Data(text.utf8)
        if path == "-" {
            FileHandle.standardOutput.write(data)
            return
        }
        let target = resolved(path)
        var info = stat()
        if lstat(target, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            let kind = info.st_mode & S_IFMT
            if kind == S_IFDIR { throw DriverError.report("\(path) is a folder", remedy: "give a file's name in it (report.xml), or - for standard output") }
            // In place: O_NONBLOCK only for the open, so a FIFO nobody reads is refused at once.
            let fd = open(target, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else {
                let reason = errno == ENXIO ? "it is a FIFO with no reader; start the reader first" : String(cString: strerror(errno))
                throw DriverError.report("cannot write to \(path): \(reason)", remedy: Self.writable)
            }
            defer { close(fd) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            var offset = 0
            while offset < data.count {
                let written = data.withUnsafeBytes { bytes in Foundation.write(fd, bytes.baseAddress! + offset, data.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw DriverError.report("cannot write to \(path): \(String(cString: strerror(errno)))", remedy: Self.writable)
                }
                offset += written
            }
            return
        }
        do {
            try data.write(to: URL(fileURLWithPath: target), options: .atomic)
        } catch {
            throw DriverError.report("cannot write \(path): \(error.localizedDescription)", remedy: Self.writable)
        }
    }
}
