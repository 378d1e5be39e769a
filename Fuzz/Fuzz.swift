import Foundation
import InsightCore
import InsightDriver
import InsightEmulator
import InsightRecordings
import InsightHardening
import InsightServer

/// The coverage-guided fuzzer's targets: the YAML scenario loader, the HAR and recording
/// readers, and the server's request path (parsing, routing, the emulator). Each input must be
/// read or refused with the error the format promises; anything else — a trap, an error of
/// another kind, a refusal without a line, a 5xx from the server's own parsing — is a finding.
/// `scripts/fuzz.sh TARGET` runs libFuzzer on one; built normally, this replays files.
enum FuzzTarget: String, CaseIterable {
    case yaml, har, router

    /// The target libFuzzer drives, from `INSIGHT_FUZZ_TARGET` (its own arguments are its flags).
    static let current: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["INSIGHT_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("set INSIGHT_FUZZ_TARGET to one of \(allCases.map(\.rawValue).joined(separator: ", ")) (scripts/fuzz.sh does)")
        }
        return target
    }()

    /// A small demo world on a virtual clock, made again for every router input so a finding
    /// does not depend on the inputs before it.
    static func world() -> Emulator {
        Emulator(tenants: demoTenants, clock: VirtualClock())
    }

    /// Made once: an emulator takes its tenants by value, so each input starts from these.
    static let demoTenants = tenants()

    static func tenants() -> [Tenant] {
        var size = DemoWorld.Size()
        size.investigations = 12
        size.logSources = 2
        size.eventsPerLog = 20
        return DemoWorld.tenants(now: VirtualClock.defaultStart, size: size)
    }

    /// The us2 user key of `world()`, for the seed requests.
    static var key: String {
        let us2: Tenant? = tenants().first { $0.region == .us2 }
        let user: APIKey? = us2?.keys.first { $0.kind == .user }
        return user?.secret ?? ""
    }

    /// Seed inputs: the bundled scenarios, the HAR fixtures and recordings, and requests to the
    /// routes integrations call (with a valid key, a wrong one, pipelined, chunked).
    static func seeds(_ target: FuzzTarget) -> [(String, Data)] {
        func files(_ folder: String, _ suffix: String) -> [(String, Data)] {
            let names: [String] = ((try? FileManager.default.subpathsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
            var found: [(String, Data)] = []
            for name in names {
                if let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(name)) {
                    found.append((name.replacingOccurrences(of: "/", with: "-"), data))
                }
            }
            return found
        }
        switch target {
        case .yaml: return files("Scenarios", ".yaml")
        case .har: return files("Tests/InsightDriverTests/Fixtures/har", ".har") + files("Recordings", ".json")
        case .router:
            let host = "Host: us2.api.insight.rapid7.com\r\n"
            let auth = "X-Api-Key: \(key)\r\n"
            let requests = [
                "GET /validate HTTP/1.1\r\n\(host)\(auth)\r\n",
                "GET /validate HTTP/1.1\r\n\(host)X-Api-Key: wrong\r\n\r\n",
                "GET /idr/v2/investigations?size=5&index=0 HTTP/1.1\r\n\(host)\(auth)\r\n",
                "GET /idr/v1/investigations?start_time=2020-01-01T00:00:00Z&size=2 HTTP/1.1\r\n\(host)\(auth)\r\n",
                "POST /idr/v2/investigations/_search HTTP/1.1\r\n\(host)\(auth)Content-Type: application/json\r\nContent-Length: 49\r\n\r\n{\"search\":[{\"field\":\"title\",\"operator\":\"EQUALS\"}]}",
                "GET /log_search/management/logs HTTP/1.1\r\n\(host)\(auth)\r\n",
                "GET /log_search/query/logs/x?query=where(a%3Db)&from=0&to=1 HTTP/1.1\r\n\(host)\(auth)\r\n",
                "GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)\r\n",
                "GET /_admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "POST /connect/v1/workflows/x/events/execute HTTP/1.1\r\n\(host)\(auth)Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                "GET /validate HTTP/1.1\r\n\(host)\(auth)\r\nGET /idr/v2/investigations HTTP/1.1\r\n\(host)\(auth)\r\n",
            ]
            return requests.enumerated().map { ("request-\($0.offset)", Data($0.element.utf8)) }
        }
    }

    func check(_ data: Data) {
        switch self {
        case .yaml:
            do {
                _ = try ScenarioLoader.parse(bytes: data, file: "fuzz.yaml")
            } catch let error as ScenarioError {
                let all = error.errors
                if all.count == 1, error.line == nil, !error.field.isEmpty { fatalError("a refusal of field \(error.field) names no line: \(error)") }
                if all.count > 1, let error = all.first(where: { $0.line == nil }) { fatalError("one of several refusals names no line: \(error)") }
            } catch {
                fatalError("not a ScenarioError: \(type(of: error)): \(error)")
            }
        case .har:
            for read in [{ _ = try HAR.read(data, name: "fuzz", file: "fuzz.har", now: Date(timeIntervalSince1970: 0)) },
                         { _ = try RecordingFile.decode(data, file: "fuzz.json") }] {
                do { try read() } catch is RecordingError {} catch { fatalError("not a RecordingError: \(type(of: error)): \(error)") }
            }
        case .router:
            let answer = EmulatorServer.answer(connection: Array(data), emulator: Self.world())
            let head = String(decoding: answer.prefix(12), as: UTF8.self)
            if !answer.isEmpty, !head.hasPrefix("HTTP/1.") { fatalError("an answer that is not HTTP: \(head)") }
            if let code = Int(head.dropFirst(9).prefix(3)), code >= 500, code != 501 {
                fatalError("the server answered \(code) to input it should refuse as the client's fault:\n\(String(decoding: answer.prefix(600), as: UTF8.self))")
            }
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    FuzzTarget.current.check(Data(bytes: bytes, count: count))
    return 0
}

/// libFuzzer's driver, entered by hand: SwiftPM links an executable's `main` to
/// `<module>_main`, so libFuzzer's own `main` is never linked in.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("insight_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runFuzzerDriver(&count, &arguments) { bytes, size in fuzzOneInput(bytes, size) }
}
#else
/// `insight-fuzz TARGET PATH...`: every file under the paths through the target (a corpus, a
/// crash file libFuzzer wrote), so a finding replays without libFuzzer.
@main enum InsightFuzz {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.count == 3, arguments[0] == "seeds", let target = FuzzTarget(rawValue: arguments[1]) {
            // `insight-fuzz seeds TARGET FOLDER`: the seed corpus, written from the repository's root.
            do {
                try FileManager.default.createDirectory(atPath: arguments[2], withIntermediateDirectories: true)
                for (name, data) in FuzzTarget.seeds(target) { try data.write(to: URL(fileURLWithPath: (arguments[2] as NSString).appendingPathComponent(name))) }
            } catch {
                FileHandle.standardError.write(Data("\(arguments[2]): \(error.localizedDescription)\n".utf8))
                exit(2)
            }
            print("\(target.rawValue): \(FuzzTarget.seeds(target).count) seed input(s) in \(arguments[2])")
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            FileHandle.standardError.write(Data("usage: insight-fuzz yaml|har|router FILE-OR-FOLDER...\n       insight-fuzz seeds yaml|har|router FOLDER\n".utf8))
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("\(path): no such file or folder\n".utf8))
                exit(2)
            }
            let files = isFolder.boolValue
                ? ((FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []).sorted().map { (path as NSString).appendingPathComponent($0) })
                : [path]
            for file in files {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue,
                      let data = FileManager.default.contents(atPath: file) else { continue }
                target.check(data)
                count += 1
            }
        }
        print("\(target.rawValue): \(count) input(s) read or refused as promised")
    }
}
#endif
