import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import InsightDriver
import InsightHardening
import InsightServer

/// What a person at a shell can do wrong, kept fixed by `hostile`: every path form to every
/// command that takes files, every numeric option out of its range, reports to special files,
/// and web pages knocking on the admin API.
extension Hostile {
    /// Numeric options out of range, each with the message it must give (a usage error: the
    /// parser's code 64, which the process exits with as 2).
    static let badOptions: [(arguments: [String], message: String)] = [
        (["serve", "--threads", "100000"], "--threads must be 1…256 (e.g. --threads 4), not 100000"),
        (["serve", "--threads", "0"], "--threads must be 1…256"),
        (["serve", "--journal-cap", "0"], "--journal-cap must be 1…10000000"),
        (["serve", "--idle-timeout", "0"], "--idle-timeout must be above 0 and at most 86400 seconds (e.g. --idle-timeout 60.0)"),
        (["serve", "--head-timeout", "-1"], "--head-timeout must be above 0 and at most 3600 seconds"),
        (["serve", "--max-connections", "0"], "--max-connections must be 1…1000000"),
        (["serve", "--investigations", "-1"], "--investigations must be 0…1000000"),
        (["serve", "--log-sources", "20000"], "--log-sources must be 0…10000"),
        (["serve", "--events-per-log", "-5"], "--events-per-log must be 0…100000000"),
        (["serve", "--port", "70000"], "--port must be 0…65535 (0 picks a free port; e.g. --port 8080), not 70000"),
        (["serve", "--tls-port", "99999"], "--tls-port must be 0…65535 (0 picks a free port; e.g. --tls-port 8443), not 99999"),
        (["record", "--upstream", "rapid7", "--name", "x", "--port", "-1"], "--port must be 0…65535"),
        (["run", "--jobs", "0"], "--jobs must be 1…256 (e.g. --jobs 4), not 0"),
        (["run", "--client", "true", "--client-timeout", "-1"], "--client-timeout must be above 0 and at most 86400 seconds"),
        (["run", "--client", "true", "--time", "scaled", "--time-scale", "0"], "--time-scale must be above 0 and at most 1000000 (e.g. --time-scale 60)"),
        (["history", "--limit", "0"], "--limit must be 1…10000 (e.g. --limit 10), not 0"),
        (["diagnose", "--timeout", "0"], "--timeout must be above 0 and at most 3600 seconds"),
        (["bench-request", "--requests", "0"], "--requests must be 1…10000000"),
        (["bench-request", "--rounds", "50"], "--rounds must be 1…20"),
        (["bench-scale", "--probes", "0"], "--probes must be 1…1000000"),
        (["bench-scale", "--sync-limit", "0"], "--sync-limit must be 1…1000000000"),
        (["bench-store", "--exchanges", "0"], "--exchanges must be 1…10000000"),
        (["bench-store", "--lookups", "-1"], "--lookups must be 1…10000000"),
        (["hostile", "--http", "2000000"], "--http must be 0…1000000"),
    ]

    /// Path forms, option ranges, special files and cross-origin admin requests, as processes of
    /// `binary`; whether any went wrong.
    func safety(binary: String) async throws -> Bool {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-safety-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var problems: [String] = []

        let (folder, cases) = try PathForms.prepare(repository: FileManager.default.currentDirectoryPath, scratch: scratch)
        let paths = await PathForms.run(cases, invoke: HostileEntryPoints.process(binary: binary, timeout: 120, directory: folder))
        Swift.print("hostile paths: \(paths.tried.count) invocations of run, list, import, export, reproduce and diagnose with ., ./, .., bare and ./ names, absolute paths, a folder named with spaces and non-ASCII letters, symlinks, and missing paths; problems \(paths.problems.count)")
        problems += paths.problems

        let invoke = HostileEntryPoints.process(binary: binary, timeout: 30, directory: scratch)
        var ranged = 0
        for (arguments, message) in Self.badOptions {
            let exit = await invoke(arguments)
            if exit.code != 2 || !exit.stderr.contains(message) {
                problems.append("\(arguments.joined(separator: " ")): exit \(exit.code.map(String.init) ?? "none"), said: \(exit.stderr.split(separator: "\n").first ?? "")")
            } else {
                ranged += 1
            }
        }
        Swift.print("hostile options: \(Self.badOptions.count) numeric options out of range; \(ranged) refused with their range and an example")

        problems += await specialFiles(folder: folder, scratch: scratch, binary: binary)
        problems += try adminFromWebPages(binary: binary)
        for line in problems.prefix(20) { Swift.print("  \(line)") }
        return !problems.isEmpty
    }

    /// `run --json` into a FIFO nobody reads (refused, exit 2, the FIFO kept), a symlink
    /// (written through, the link kept) and /dev/null (written, still a device).
    func specialFiles(folder: String, scratch: String, binary: String) async -> [String] {
        let invoke = HostileEntryPoints.process(binary: binary, timeout: 60, directory: folder)
        var problems: [String] = []
        func kind(_ path: String) -> mode_t {
            var info = stat()
            return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
        }
        let fifo = scratch + "/report.fifo"
        mkfifo(fifo, 0o600)
        let toFIFO = await invoke(["run", "happy.yaml", "--no-store", "--json", fifo])
        if toFIFO.code != 2 || !toFIFO.stderr.contains("FIFO with no reader") { problems.append("--json FIFO without a reader: exit \(toFIFO.code ?? -1): \(toFIFO.stderr.prefix(200))") }
        if kind(fifo) != S_IFIFO { problems.append("--json FIFO: the FIFO was replaced") }
        _ = FileManager.default.createFile(atPath: scratch + "/target.xml", contents: Data())
        try? FileManager.default.createSymbolicLink(atPath: scratch + "/link.xml", withDestinationPath: "target.xml")
        let throughLink = await invoke(["run", "happy.yaml", "--no-store", "--junit", scratch + "/link.xml"])
        if throughLink.code != 0 || kind(scratch + "/link.xml") != S_IFLNK
            || (FileManager.default.contents(atPath: scratch + "/target.xml")?.isEmpty ?? true) {
            problems.append("--junit through a symlink: exit \(throughLink.code ?? -1), link kept: \(kind(scratch + "/link.xml") == S_IFLNK)")
        }
        let toNull = await invoke(["run", "happy.yaml", "--no-store", "--html", "/dev/null"])
        if toNull.code != 0 || kind("/dev/null") != S_IFCHR { problems.append("--html /dev/null: exit \(toNull.code ?? -1), still a device: \(kind("/dev/null") == S_IFCHR)") }
        Swift.print("hostile special files: a FIFO without a reader, a symlink and /dev/null as report paths; problems \(problems.count)")
        return problems
    }

    /// Requests a web page could make to the admin API (a foreign Host, an Origin, a cross-site
    /// fetch, a form's content type): each refused, and the tenant unchanged.
    func adminFromWebPages(binary: String) throws -> [String] {
        let server = try ServeProcess(binary: binary)
        defer { server.stop() }
        let change = #"{"revoke_key":"demo-us2-user"}"#
        func send(_ headers: [String]) -> HostileHTTP.Reply? {
            let head = "POST /_admin/state HTTP/1.1\r\n" + headers.map { $0 + "\r\n" }.joined()
                + "Content-Length: \(change.utf8.count)\r\nConnection: close\r\n\r\n"
            return HostileHTTP.exchange(Array((head + change).utf8), port: server.port, timeout: 10)
        }
        var problems: [String] = []
        let attempts: [([String], Int)] = [
            (["Host: attacker.example", "Content-Type: application/json"], 403),
            (["Host: 127.0.0.1", "Content-Type: application/json", "Origin: https://attacker.example"], 403),
            (["Host: 127.0.0.1", "Content-Type: application/json", "Sec-Fetch-Site: cross-site"], 403),
            (["Host: 127.0.0.1", "Content-Type: text/plain"], 415),
            (["Host: 127.0.0.1", "Content-Type: application/x-www-form-urlencoded"], 415),
            (["Host: 127.0.0.1", "Content-Type: multipart/form-data; boundary=x"], 415),
        ]
        let valid = HostileHTTP.validRequest(key: server.key)
        for (headers, status) in attempts {
            let reply = send(headers)
            if reply?.status != status { problems.append("admin \(headers.joined(separator: ", ")): answered \(reply?.status ?? 0), expected \(status)") }
            if HostileHTTP.send(valid, port: server.port, timeout: 10) != .answered(200) { problems.append("admin \(headers): the refused request changed the tenant") }
        }
        let keys = HostileHTTP.exchange(Array("GET /_admin/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), port: server.port, timeout: 10)
        if keys?.body.contains(server.key) != false { problems.append("admin: /_admin/keys showed a secret without the token") }
        Swift.print("hostile admin: \(attempts.count) requests a web page could make, and the keys without the token; problems \(problems.count)")
        return problems + adminRefusals(server)
    }

    /// The admin API's own refusals, as strict as the loader: each answered with its status and
    /// the tenant unchanged (the demo key still validates, no fault fires).
    func adminRefusals(_ server: ServeProcess) -> [String] {
        let organization = "0b8e2d4c-1a3f-4e5d-8c7b-6a5f4e3d2c1b"
        let bodies: [(String, String, Int)] = [
            ("/_admin/state", #"{"revoke_key":"demo-us2-user","colour":"red"}"#, 400),
            ("/_admin/state", #"{"remove_role":{"user":"svc-integration@example.com","role":"Log Search View Only","region":"us2"}}"#, 400),
            ("/_admin/state", #"{"create_key":{"id":"demo-us-user","kind":"organization","secret":"\#(organization)"},"region":"us2"}"#, 409),
            ("/_admin/state", #"{"create_key":{"id":"copy","kind":"organization","secret":"\#(server.key)"},"region":"us"}"#, 409),
            ("/_admin/state", #"{"create_key":{"id":"unplaced","kind":"organization","secret":"\#(organization)"}}"#, 400),
            ("/_admin/faults", #"{"status":503,"count":0}"#, 400),
            ("/_admin/faults", #"{"status":302,"count":1}"#, 400),
            ("/_admin/faults", #"{"status":503,"count":1,"colour":"red"}"#, 400),
        ]
        var problems: [String] = []
        for (path, body, status) in bodies {
            let request = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            let reply = HostileHTTP.exchange(Array(request.utf8), port: server.port, timeout: 10)
            if reply?.status != status { problems.append("admin \(path) \(body): answered \(reply?.status ?? 0), expected \(status)") }
            if HostileHTTP.send(HostileHTTP.validRequest(key: server.key), port: server.port, timeout: 10) != .answered(200) {
                problems.append("admin \(path) \(body): the refused change changed the tenant")
            }
        }
        Swift.print("hostile admin: \(bodies.count) changes the admin API must refuse (unknown fields, duplicate ids and secrets, an unnamed tenant, faults scenarios refuse); problems \(problems.count)")
        return problems
    }
}
