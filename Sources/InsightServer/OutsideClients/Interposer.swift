import Foundation

/// `libInsightPreload.so`, the library preloaded into an outside client (`insight-replay exec`,
/// command scenarios, `run --client`): it answers the client's clock from the emulator's
/// virtual clock, turns its sleeps and timeouts into wake-ups, and sends the Rapid7 host names
/// to the emulator, so clients that ignore the proxy variables (Node's fetch, Java, aiohttp by
/// default) reach it too. It is built by SwiftPM with the package (the `InsightPreload` product).
public enum Interposer {
    public static let fileName = "libInsightPreload.so"

    /// The library: `INSIGHT_REPLAY_PRELOAD`, else beside this program (`.build/debug`, a
    /// release folder, an installed copy), else beside the test bundle; else, when this program
    /// runs from a source tree, built there from the package's C sources (see `buildFromSources`).
    public static var library: String? {
        if let found = builtLibrary { return found }
        return lock.withLock { buildFromSources() }
    }

    private static let lock = NSLock()

    /// The library as SwiftPM (or an earlier fallback) left it.
    static var builtLibrary: String? {
        var candidates: [String] = []
        if let named = ProcessInfo.processInfo.environment["INSIGHT_REPLAY_PRELOAD"], !named.isEmpty { candidates.append(named) }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // A test bundle runs from NAME.xctest/…; the library is in the build folder above it.
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent(fileName).path)
            candidates.append(folder.appendingPathComponent("lib").appendingPathComponent(fileName).path)
            folder.deleteLastPathComponent()
        }
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// `swift run insight-replay` builds the executable's dependencies only, not this dynamic
    /// library, and holds SwiftPM's lock while the program runs, so `swift build` cannot be
    /// called from here. The library is two C files: when this program lives in a package's
    /// build folder, they are compiled once, beside it, with the toolchain's C compiler
    /// (`cc`, else `clang`), and the file is moved into place whole.
    static func buildFromSources() -> String? {
        if let found = builtLibrary { return found }
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        let folder = executable.deletingLastPathComponent()
        var root = folder
        var sources: URL?
        for _ in 0..<6 {
            root.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: root.appendingPathComponent("Sources/InsightPreload/insight_preload.c").path) {
                sources = root.appendingPathComponent("Sources")
                break
            }
        }
        guard let sources else { return nil }
        let target = folder.appendingPathComponent(fileName).path
        guard compile(sources: sources, to: target) else { return nil }
        FileHandle.standardError.write(Data("insight-replay: built \(fileName) beside \(executable.path) (once)\n".utf8))
        return target
    }

    /// Compiles the library from a package's `Sources` folder to `target`, moved into place
    /// whole; false when there is no C compiler or it fails.
    public static func compile(sources: URL, to target: String) -> Bool {
        guard let compiler = ProgramPath.find("cc") ?? ProgramPath.find("clang") else { return false }
        let partial = target + ".\(getpid()).partial"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        process.arguments = ["-shared", "-fPIC", "-O2", "-fvisibility=hidden",
                             "-I", sources.appendingPathComponent("CVirtualTime/include").path,
                             "-I", sources.appendingPathComponent("InsightPreload/include").path,
                             sources.appendingPathComponent("InsightPreload/insight_preload.c").path,
                             sources.appendingPathComponent("CVirtualTime/virtual_time.c").path,
                             "-o", partial, "-ldl", "-lpthread"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        guard process.terminationStatus == 0, rename(partial, target) == 0 else {
            try? FileManager.default.removeItem(atPath: partial)
            return false
        }
        return true
    }

    /// Why the library is not there, and what to do.
    public static let missing = ServerError.outsideClient(
        "\(fileName) was not found beside insight-replay, and no C compiler and package sources were there to make it",
        remedy: "build it with `swift build --product InsightPreload` (plain `swift build` builds it too), or name it in INSIGHT_REPLAY_PRELOAD")

    /// The variables that load it into a client of `server`: names resolved to the emulator,
    /// and, with `clock` (the shared page's path), time from the emulator's virtual clock.
    public static func environment(library: String, plainPort: Int, tlsPort: Int?, clock: String?,
                                   preload existing: String?) -> [(String, String)] {
        var variables = [
            ("LD_PRELOAD", existing.map { $0.isEmpty ? library : "\(library):\($0)" } ?? library),
            ("INSIGHT_REPLAY_HOSTS", ProxyPolicy.emulatedHosts.joined(separator: ",")),
            ("INSIGHT_REPLAY_REDIRECT", "\(plainPort),\(tlsPort ?? 0)"),
        ]
        if let clock { variables.append(("INSIGHT_REPLAY_CLOCK", clock)) }
        return variables
    }
}
