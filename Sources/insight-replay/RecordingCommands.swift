import ArgumentParser
import Foundation
import InsightClient
import InsightCore
import InsightDriver
import InsightRecordings
import InsightServer
import Logging

/// The store option every command that reads or writes the store shares (run, list, history,
/// serve, exec, ca and the recording commands).
struct StoreOption: ParsableArguments {
    @Option(name: .long, help: "SQLite store for recordings and run history; the local CA lives in the folder ca beside it.")
    var store: String = ".insight-replay/store.sqlite"

    func open() throws -> SQLiteRecordingStore {
        do {
            return try SQLiteRecordingStore(path: store)
        } catch {
            throw refuse(error)
        }
    }
}

struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record exchanges through a loopback proxy, redacted, into the store.",
        discussion: """
            Point the client at the printed address (Host header or /REGION/ path prefix, as with serve). \
            --upstream is an InsightReplay server (http://127.0.0.1:8080: requests go to it in path-prefix form) \
            or the word rapid7 (the real regional hosts over https). Each exchange is redacted and committed \
            on its own; a key-shaped value that would survive refuses the write and names the field.
            """)

    @Option(name: .long, help: "Where to forward: an InsightReplay server's base URL, or rapid7.")
    var upstream: String

    @Option(name: .long, help: "Recording name (appended to if it exists).")
    var name: String

    @Option(name: .long, parsing: .unconditional, help: "Port to listen on; 0 picks a free one and prints it.")
    var port: Int = 0

    @Option(name: .long, help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "The Rapid7 product version recorded, for the provenance.")
    var productVersion: String?

    @OptionGroup var storeOption: StoreOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard name.range(of: "^[A-Za-z0-9._-]+$", options: .regularExpression) != nil else {
            throw ValidationError("--name '\(name)' must be letters, digits, dot, dash or underscore")
        }
        try OptionRange.check("--port", port, 0...65_535, example: 8081, note: "0 picks a free port")
    }

    func run() async throws {
        try common.bootstrap()
        let transport: NetworkTransport
        if upstream.lowercased() == "rapid7" {
            transport = NetworkTransport()
        } else {
            guard let url = URLComponents(string: upstream), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError("--upstream '\(upstream)' is not an http(s) base URL or the word rapid7")
            }
            transport = NetworkTransport(base: upstream)
        }
        let store = try storeOption.open()
        let proxy: RecordingProxy
        do {
            proxy = try await RecordingProxy.start(upstream: transport, upstreamDescription: upstream, store: store, name: name,
                                                   productVersion: productVersion, host: host, port: port)
        } catch {
            throw refuse(error)
        }
        if !ProxyPolicy.isLoopback(host: host) { printError(offLoopbackWarning(host, what: "records what anyone on the network sends through it, into your store")) }
        print("recording '\(name)' into \(storeOption.store) through \(proxy.baseURL) → \(upstream)")
        print("  send requests to \(proxy.baseURL)/us2/validate (or with Host: us2.api.insight.rapid7.com); Ctrl-C stops")
        print("  then: insight-replay export \(name)")
        fflush(nil)
        try await proxy.waitUntilClosed()
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a recording as Recordings/NAME.json (canonical), or as HAR 1.2.")

    @Argument(help: "Recording name.")
    var name: String

    @Option(name: .long, help: "Folder for the JSON text form.")
    var out: String = "Recordings"

    @Option(name: .long, help: "Write HAR 1.2 to this file instead.")
    var har: String?

    @OptionGroup var storeOption: StoreOption

    func run() async throws {
        let store = try storeOption.open()
        guard let recording = try store.recording(named: name) else {
            printError("no recording '\(name)' in \(storeOption.store); `insight-replay recordings` lists them")
            throw ExitCode(2)
        }
        if let har {
            // The same checks and the same writing as a report's: through a symlink, never a half file.
            if let problem = ReportPath.problem(har, option: "--har") {
                printError(problem)
                throw ExitCode(2)
            }
            do {
                try ReportPath.write(String(decoding: HAR.exportHAR(recording), as: UTF8.self), to: har)
            } catch {
                throw refuse(error, context: "--har: ")
            }
            print("wrote \(har) (\(recording.exchanges.count) exchanges)")
        } else {
            do {
                let path = try RecordingFile.export(recording, to: out)
                print("wrote \(path) (\(recording.exchanges.count) exchanges)")
            } catch {
                printError("--out \(out): cannot write the recording there (\(error.localizedDescription)); give a folder you can write")
                throw ExitCode(2)
            }
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read a recording (NAME.json) or a HAR capture (.har, redacted on import) into the store.")

    @Argument(help: "A recording's JSON file or a .har file.")
    var file: String

    @Option(name: .long, help: "Name for the recording (default: the file's name).")
    var name: String?

    @Option(name: .long, help: "The Rapid7 product version of the capture, for the provenance.")
    var productVersion: String?

    @Flag(name: .long, help: "Replace a recording of the same name in the store (refused without it).")
    var replace = false

    @OptionGroup var storeOption: StoreOption

    func run() async throws {
        let base = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        let recording: Recording
        do {
            if file.lowercased().hasSuffix(".har") {
                guard let data = FileManager.default.contents(atPath: file) else { throw RecordingError.file(file, "cannot read the file", remedy: RecordingError.checkPath) }
                let capture = try HAR.read(data, name: name ?? base, file: file, now: Date())
                for line in capture.skipped { printError("warning: \(file): \(line)") }
                recording = capture.recording
            } else {
                var loaded = try RecordingFile.load(file)
                var redactor = Redactor()
                loaded = try redactor.redact(loaded)
                if let name { loaded.name = name }
                recording = loaded
            }
        } catch {
            printError(errorText(error))
            printError("nothing was imported")
            throw ExitCode(2)
        }
        var stored = recording
        if let productVersion { stored.provenance.productVersion = productVersion }
        let store = try storeOption.open()
        if !replace, let existing = try store.recording(named: stored.name) {
            printError("\(storeOption.store) holds a recording '\(stored.name)' already (\(existing.exchanges.count) exchanges); --replace replaces it, or --name gives this one another name")
            printError("nothing was imported")
            throw ExitCode(2)
        }
        try store.saveRecording(stored)
        print("imported '\(stored.name)' (\(stored.exchanges.count) exchanges) into \(storeOption.store)")
    }
}

struct Recordings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recordings", abstract: "List the recordings in the store.")

    @OptionGroup var storeOption: StoreOption

    func run() async throws {
        let all = try storeOption.open().recordings()
        if all.isEmpty { print("no recordings in \(storeOption.store)") }
        for recording in all { print("\(recording.name)  \(recording.exchanges) exchange(s)") }
    }
}
