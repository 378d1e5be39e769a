import Foundation
import InsightCore
import InsightRecordings
import InsightDriver
import InsightServer

/// Mutants of the bundled files through the doors a user's file comes in by: `run FILE`,
/// `import FILE` (each a process of the real binary) and the admin API's scenario upload. Each
/// must end in time, without a signal; a refusal is exit 2 (or 400) naming the file and where in
/// it, and a refused import or upload leaves the store or the tenant exactly as it was.
public enum HostileEntryPoints {
    /// Mutants of the files with `suffix` in `folder`, `count` in all, spread evenly over them:
    /// the mutant at `position` is a pure function of the seed and the position.
    public struct Sample: Sendable {
        public let originals: [(name: String, text: String)]
        public let count: Int
        public let seed: UInt64

        public init(folder: String, suffix: String, count: Int, seed: UInt64) throws {
            let names = ((try? FileManager.default.subpathsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
            guard !names.isEmpty else { throw RecordingError.file(folder, "no \(suffix) file here", remedy: "run from the repository's root") }
            originals = try names.map { ($0, try String(contentsOfFile: (folder as NSString).appendingPathComponent($0), encoding: .utf8)) }
            self.count = count
            self.seed = seed
        }

        /// The mutant at `position`: which original, which kind, the bytes.
        public func mutant(_ position: Int) -> (label: String, bytes: Data) {
            let original = originals[position % originals.count]
            let (kind, bytes) = Mutants(original.text, seed: seed).mutant(position / originals.count)
            return ("\(original.name) \(kind.rawValue) #\(position / originals.count)", bytes)
        }
    }

    /// What came of the mutants through one door.
    public struct Figures: Sendable {
        public var tried = 0
        public var accepted = 0
        public var refused = 0
        /// Crashes, hangs, refusals that do not say where, and anything lost.
        public var problems: [String] = []
        public var slowest = 0.0
    }

    /// How a command ended.
    public struct Exit: Sendable {
        public var code: Int32?
        public var timedOut = false
        public var stderr = ""

        public init(code: Int32?, timedOut: Bool = false, stderr: String = "") {
            self.code = code
            self.timedOut = timedOut
            self.stderr = stderr
        }
    }

    /// Runs the binary at `binary` with the arguments, its output kept, stopped after `timeout`.
    public static func process(binary: String, timeout: Double, directory: String? = nil) -> @Sendable ([String]) async -> Exit {
        { arguments in
            let outcome = await CommandProcess(arguments: [binary] + arguments, environment: ProcessInfo.processInfo.environment,
                                               directory: directory, timeout: timeout).run()
            return Exit(code: outcome.exitCode, timedOut: outcome.timedOut, stderr: outcome.launchError ?? outcome.stderr)
        }
    }

    /// Whether a refusal's first line names `file` and a place in it: `FILE:LINE:COLUMN:`, a
    /// line in words, or a field path (a JSON file's structure); a file with nothing in it has no
    /// place but must say it is empty.
    public static func namesFileAndPlace(_ message: String, file: String, empty: Bool) -> Bool {
        let first = message.split(separator: "\n").first.map(String.init) ?? ""
        guard first.hasPrefix(file + ":") else { return false }
        let rest = first.dropFirst(file.count + 1)
        if rest.first?.isNumber == true { return true }  // FILE:LINE:COLUMN:
        if rest.contains("line ") { return true }
        if empty { return rest.contains("empty") || rest.contains("not JSON") }
        // A field path of a JSON file: ` exchanges[2].status: …`, ` .provenance: missing field`.
        let afterSpace = rest.drop { $0 == " " }
        let field = afterSpace.prefix { $0 != ":" && $0 != " " }
        return !field.isEmpty && afterSpace.dropFirst(field.count).first == ":"
            && field.allSatisfy { $0.isLetter || $0.isNumber || "._[]".contains($0) }
    }

    /// `run MUTANT --no-store` for each scenario mutant: exit 0 or 1 when it loaded (and ran),
    /// 2 naming file and line when refused.
    public static func throughRun(_ sample: Sample, scratch: String, invoke: @Sendable ([String]) async -> Exit,
                                  progress: (Int) -> Void = { _ in }) async throws -> Figures {
        var figures = Figures()
        for position in 0..<sample.count {
            let (label, bytes) = sample.mutant(position)
            let path = (scratch as NSString).appendingPathComponent("run-\(position).yaml")
            try bytes.write(to: URL(fileURLWithPath: path))
            let started = Date()
            let exit = await invoke(["run", path, "--no-store"])
            figures.slowest = max(figures.slowest, Date().timeIntervalSince(started))
            figures.tried += 1
            switch exit.code {
            case _ where exit.timedOut: figures.problems.append("\(label): run did not end (a hang)")
            case 0, 1: figures.accepted += 1
            case 2:
                figures.refused += 1
                if !namesFileAndPlace(exit.stderr, file: path, empty: bytes.isEmpty) {
                    figures.problems.append("\(label): run refused it without naming file and line: \(exit.stderr.prefix(200))")
                }
            default: figures.problems.append("\(label): run ended with \(exit.code.map(String.init) ?? "no code") (over 128: a signal): \(exit.stderr.prefix(300))")
            }
            try? FileManager.default.removeItem(atPath: path)
            progress(position + 1)
        }
        return figures
    }

    /// `import MUTANT --store STORE --replace` for each recording or HAR mutant (each a fresh
    /// attempt at the same names): exit 0 adds one recording (or replaces the one of its name);
    /// exit 2 names the file (and where) and leaves every recording and row as it was;
    /// the store passes `PRAGMA integrity_check` at the end.
    public static func throughImport(_ sample: Sample, suffix: String, scratch: String, store: String,
                                     invoke: @Sendable ([String]) async -> Exit, progress: (Int) -> Void = { _ in }) async throws -> Figures {
        var figures = Figures()
        func listing() throws -> [String] { try SQLiteRecordingStore(path: store).recordings().map { "\($0.name):\($0.exchanges)" } }
        for position in 0..<sample.count {
            let (label, bytes) = sample.mutant(position)
            let path = (scratch as NSString).appendingPathComponent("import-\(position)\(suffix)")
            try bytes.write(to: URL(fileURLWithPath: path))
            let before = try listing()
            let started = Date()
            let exit = await invoke(["import", path, "--store", store, "--replace"])
            figures.slowest = max(figures.slowest, Date().timeIntervalSince(started))
            figures.tried += 1
            let after = try listing()
            switch exit.code {
            case _ where exit.timedOut: figures.problems.append("\(label): import did not end (a hang)")
            case 0:
                figures.accepted += 1
                // One recording added, or the one of the same name replaced; the rest untouched.
                let added = Set(after).subtracting(before), removed = Set(before).subtracting(after)
                let name = { (entry: String) in entry.split(separator: ":").dropLast().joined(separator: ":") }
                if added.count > 1 || removed.count > 1 || !removed.allSatisfy({ name($0) == added.first.map(name) }) {
                    figures.problems.append("\(label): an accepted import changed the store by more than one recording: \(before) → \(after)")
                }
            case 2:
                figures.refused += 1
                if after != before { figures.problems.append("\(label): a refused import changed the store") }
                if !namesFileAndPlace(exit.stderr, file: path, empty: bytes.isEmpty) {
                    figures.problems.append("\(label): import refused it without naming file and place: \(exit.stderr.prefix(200))")
                }
            default: figures.problems.append("\(label): import ended with \(exit.code.map(String.init) ?? "no code") (over 128: a signal): \(exit.stderr.prefix(300))")
            }
            try? FileManager.default.removeItem(atPath: path)
            progress(position + 1)
        }
        let integrity = try SQLiteRecordingStore(path: store).integrityCheck()
        if integrity != "ok" { figures.problems.append("the store failed PRAGMA integrity_check: \(integrity)") }
        return figures
    }

    /// `POST /_admin/scenario` of each scenario mutant to a server on loopback `port`: 200, or
    /// 400 naming where in the upload, with the tenant's keys unchanged; the server answers its
    /// health check after each.
    /// `token`: the server's admin token, so the keys compared carry their secrets.
    public static func throughUpload(_ sample: Sample, port: Int, token: String, timeout: Double, progress: (Int) -> Void = { _ in }) -> Figures {
        var figures = Figures()
        func get(_ path: String) -> HostileHTTP.Reply? {
            HostileHTTP.exchange(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Admin-Token: \(token)\r\nConnection: close\r\n\r\n".utf8),
                                 port: port, timeout: timeout)
        }
        for position in 0..<sample.count {
            let (label, bytes) = sample.mutant(position)
            let keysBefore = get("/_admin/keys")?.body
            let started = Date()
            let head = "POST /_admin/scenario HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            let reply = HostileHTTP.exchange(Array(head.utf8) + bytes, port: port, timeout: timeout)
            figures.slowest = max(figures.slowest, Date().timeIntervalSince(started))
            figures.tried += 1
            switch reply?.status {
            case nil: figures.problems.append("\(label): the upload got no answer in \(timeout) s")
            case 200: figures.accepted += 1
            case 400, 413:
                figures.refused += 1
                let message = (JSON(data: Data((reply?.body ?? "").utf8))?["message"]?.stringValue) ?? ""
                if reply?.status == 400, !namesFileAndPlace(message, file: "POST /_admin/scenario", empty: bytes.isEmpty) {
                    figures.problems.append("\(label): the upload was refused without naming the line: \(message.prefix(200))")
                }
                if get("/_admin/keys")?.body != keysBefore { figures.problems.append("\(label): a refused upload changed the tenant") }
            case let status?: figures.problems.append("\(label): the upload was answered \(status)")
            }
            if get("/_admin/health")?.status != 200 { figures.problems.append("\(label): the server's health check failed after it") }
            progress(position + 1)
        }
        return figures
    }
}
