import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the terminal allows: colour on standard output when it is a terminal and NO_COLOR
/// (https://no-color.org) is unset or empty; progress when standard error is a terminal.
struct Terminal {
    var stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
    var stderrIsTerminal = isatty(STDERR_FILENO) == 1
    var environment = ProcessInfo.processInfo.environment
    var colour: Bool { stdoutIsTerminal && (environment["NO_COLOR"] ?? "").isEmpty }
}

/// One status line on standard error for runs longer than a second: how many scenarios are
/// done, the one running, and the elapsed wall time. Cleared before each result line, so the
/// results read as if it was never there; nothing at all when standard error is not a terminal.
struct Progress {
    let total: Int
    let enabled: Bool
    let started: Date
    private var done = 0
    private var shown = false

    init(total: Int, enabled: Bool, started: Date) {
        self.total = total
        self.enabled = enabled
        self.started = started
    }

    /// The line for the scenario about to run, once the run has taken a second.
    static func line(done: Int, total: Int, name: String, elapsed: Double) -> String {
        "[\(done)/\(total)] \(name)  \(String(format: "%.1f", elapsed)) s"
    }

    mutating func show(next name: String) {
        let elapsed = Date().timeIntervalSince(started)
        guard enabled, elapsed >= 1 else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + Self.line(done: done, total: total, name: name, elapsed: elapsed)).utf8))
        shown = true
    }

    mutating func clear() {
        done += 1
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }
}
