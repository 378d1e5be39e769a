import Foundation
import InsightDriver
import InsightServer

/// Every command that takes files or folders, given them in each form a person types: `.`,
/// `./`, `..`, a bare name, `./name`, an absolute path, a folder with spaces and non-ASCII
/// letters in its name, a symlink to a file and to a folder, and a path that does not exist.
/// Each invocation must work (exit 0 or 1) or refuse with exit 2 and a message; never end on a
/// signal or hang. Run as processes of the binary (`insight-replay hostile --paths`, and a test).
public enum PathForms {
    public struct Case: Sendable {
        public var command: String
        public var arguments: [String]
        /// Exit codes that count as right for this form.
        public var allowed: Set<Int32>
    }

    public struct Outcome: Sendable {
        public var tried: [String] = []
        public var problems: [String] = []
    }

    /// Builds a workspace under `scratch` from the repository's own files and returns the folder
    /// to run in (its name has a space and non-ASCII letters) and the cases.
    public static func prepare(repository: String, scratch: String) throws -> (folder: String, cases: [Case]) {
        let manager = FileManager.default
        let catalogue = scratch + "/catalogue ünï"
        let folder = catalogue + "/seed-000"
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try manager.createDirectory(atPath: catalogue + "/platform", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: scratch + "/Recordings", withIntermediateDirectories: true)
        func copy(_ from: String, _ to: String) throws {
            if manager.fileExists(atPath: to) { try manager.removeItem(atPath: to) }
            try manager.copyItem(atPath: repository + "/" + from, toPath: to)
        }
        try copy("Scenarios/seed-000/happy-path-us2-sync.yaml", folder + "/happy.yaml")
        // A scenario answered by recordings, which are found beside its folder's parent.
        try copy("Scenarios/platform/replay-recorded-rate-limit.yaml", catalogue + "/platform/replay.yaml")
        for file in try manager.contentsOfDirectory(atPath: repository + "/Recordings") where file.hasSuffix(".json") {
            try copy("Recordings/" + file, scratch + "/Recordings/" + file)
        }
        try copy("Recordings/rate-limit-burst-recovers.json", folder + "/rec.json")
        try copy("Tests/InsightDriverTests/Fixtures/har/key-revoked.har", folder + "/cap.har")
        try manager.createSymbolicLink(atPath: folder + "/link.yaml", withDestinationPath: "happy.yaml")
        try manager.createSymbolicLink(atPath: folder + "/link-rec.json", withDestinationPath: "rec.json")
        try manager.createSymbolicLink(atPath: scratch + "/linked-folder", withDestinationPath: folder)
        let store = ["--store", scratch + "/store.sqlite"]
        let absolute = folder + "/happy.yaml"
        var cases: [Case] = []
        func add(_ command: String, _ arguments: [String], _ allowed: Set<Int32> = [0, 1]) {
            cases.append(Case(command: command, arguments: arguments, allowed: allowed))
        }
        for form in [".", "./", "happy.yaml", "./happy.yaml", absolute, "link.yaml", "../seed-000", scratch + "/linked-folder"] {
            add("run", ["run", form, "--no-store"])
            add("list", ["list", form])
            // diagnose takes one scenario file: a folder is refused, naming it.
            let isFile = form.hasSuffix(".yaml")
            add("diagnose", ["diagnose", "--emulate", form, "--url", "https://us2.api.insight.rapid7.com", "--key", "main"], isFile ? [0, 1] : [2])
        }
        add("run", ["run", "..", "--no-store"])
        add("run", ["run", "../platform/replay.yaml", "--no-store"], [0])
        add("run", ["run", catalogue + "/platform", "--no-store"], [0])
        add("list", ["list", ".."])
        for form in ["rec.json", "./rec.json", folder + "/rec.json", "link-rec.json", "cap.har", "./cap.har"] {
            add("import", ["import", form, "--name", "imported-\(cases.count)"] + store)
        }
        let imported = "imported-\(cases.count - 1)"
        add("export", ["export", imported, "--out", "."] + store)
        add("export", ["export", imported, "--out", "./exports"] + store)
        add("export", ["export", imported, "--out", folder + "/exports ünï"] + store)
        add("export", ["export", imported, "--har", "cap-out.har"] + store)
        add("export", ["export", imported, "--har", "./cap-out 2.har"] + store)
        for form in ["cap.har", "./cap.har", folder + "/cap.har"] {
            add("reproduce", ["reproduce", form, "-o", "reproduced-\(cases.count).yaml", "--force"])
        }
        // What does not exist, or is a folder where a file is wanted: refused with exit 2.
        for (command, arguments) in [("run", ["run", "missing.yaml", "--no-store"]), ("list", ["list", "./missing/"]),
                                     ("import", ["import", "missing.har"] + store), ("reproduce", ["reproduce", "missing.har", "-o", "x.yaml"]),
                                     ("export", [imported, "--har", "no-such-folder/x.har"].reduce(["export"]) { $0 + [$1] } + store),
                                     ("export", ["export", imported, "--har", "."] + store),
                                     ("diagnose", ["diagnose", "--emulate", "missing.yaml", "--url", "https://us2.api.insight.rapid7.com", "--key", "main"]),
                                     ("import", ["import", "."] + store), ("reproduce", ["reproduce", ".", "-o", "y.yaml"])] {
            add(command, arguments, [2])
        }
        return (folder, cases)
    }

    /// Runs each case in `folder` through `invoke` (a process of the binary) and says what went
    /// wrong: a signal, a hang, an exit code the form does not allow, or exit 2 without a message.
    public static func run(_ cases: [Case], invoke: @Sendable ([String]) async -> HostileEntryPoints.Exit) async -> Outcome {
        var outcome = Outcome()
        for item in cases {
            let result = await invoke(item.arguments)
            let shown = item.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
            outcome.tried.append(shown)
            let firstLine = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
            if result.timedOut {
                outcome.problems.append("\(shown): did not finish")
            } else if let code = result.code, code > 128 || code < 0 {
                outcome.problems.append("\(shown): ended on signal \(code - 128)")
            } else if let code = result.code, !item.allowed.contains(code) {
                outcome.problems.append("\(shown): exit \(code), expected \(item.allowed.sorted()): \(firstLine.prefix(200))")
            } else if result.code == 2, firstLine.isEmpty {
                outcome.problems.append("\(shown): exit 2 without a message")
            } else if result.code == nil {
                outcome.problems.append("\(shown): no exit code")
            }
        }
        return outcome
    }
}
