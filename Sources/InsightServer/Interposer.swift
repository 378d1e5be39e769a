import Foundation

/// `libInsightPreload.so`, the library preloaded into an outside client (`insight-replay exec`,
/// command scenarios, `run --client`): it answers the client's clock from the emulator's
/// virtual clock, turns its sleeps and timeouts into wake-ups, and sends the Rapid7 host names
/// to the emulator, so clients that ignore the proxy variables (Node's fetch, Java, aiohttp by
/// default) reach it too. It is built by SwiftPM with the package (the `InsightPreload` product).
public enum Interposer {
    public static let fileName = "libInsightPreload.so"

    /// The library: `INSIGHT_REPLAY_PRELOAD`, else beside this program (`.build/debug`, a
    /// release folder, an installed copy), else beside the test bundle.
    public static var library: String? {
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

    /// Why the library is not there, and what to do.
    public static let missing = """
        \(fileName) was not found beside insight-replay: build it with `swift build --product InsightPreload` \
        (plain `swift build` builds it too), or name it in INSIGHT_REPLAY_PRELOAD
        """

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
