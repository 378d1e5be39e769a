import Foundation
import InsightCore
@testable import InsightDriver
@testable import InsightScenario
import InsightEmulator
import InsightServer
import Testing

/// Outside clients on the emulator's virtual clock: their sleeps take no wall time, across
/// processes, and their request times are exact. A sleep that took real time would run past the
/// scenario's wall timeout (20 s) and fail it: nothing here measures wall time.
@Suite struct ExternalTimeTests {
    static let ready = tool("curl") && Interposer.library != nil

    @Test(.enabled(if: ready, "needs curl and the built interposer"))
    func sleepsOfSeparateProcessesRunOnOneVirtualClock() async throws {
        // `sleep` is a process of its own, and so is each curl: one clock for all of them.
        let scenario = try commandScenario(
            #"'curl -sS -o /dev/null -w "%{http_code}\n" -H "X-Api-Key: $R7_API_KEY" "$R7_BASE_URL/validate"; sleep 1800; date -u +%FT%T; sleep 0.25; curl -sS -o /dev/null -w "%{http_code}\n" -H "X-Api-Key: $R7_API_KEY" "$R7_BASE_URL/validate"'"#,
            expect: """
              diagnosis: none
              stdout_mentions: ["200", "2026-01-01T00:30:00"]
              requests: { path: /validate, statuses: [200, 200], times: [0, 1800.25] }
            """)
        var timed = scenario
        timed.client.command?.timeout = 20
        let result = await commandRunner().run(timed)
        #expect(result.passed, "\(result.failures)\n\(result.clientOutput ?? "")")
        #expect(result.timeNote == nil)
        #expect(result.virtualSeconds == 1800.25)
    }

    @Test(.enabled(if: ready && tool("python3"), "needs curl, python3 and the built interposer"))
    func threadsAndTimeoutsWakeInDeadlineOrder() async throws {
        // Two threads sleep 30 s and 10 s at once, and a select() times out after 5 s: each wakes
        // at its own deadline, and time does not add their sleeps up.
        let program = """
            import threading, time, select, json
            start = time.monotonic(); woke = {}
            def nap(name, seconds): time.sleep(seconds); woke[name] = round(time.monotonic() - start, 3)
            threads = [threading.Thread(target=nap, args=(n, s)) for n, s in (("long", 30), ("short", 10))]
            for t in threads: t.start()
            select.select([], [], [], 5); woke["select"] = round(time.monotonic() - start, 3)
            for t in threads: t.join()
            print(json.dumps(woke))
            """
        var scenario = try commandScenario("[python3, -c, \(jsonString(program))]", expect: """
              diagnosis: none
              reported: { long: 30, short: 10, select: 5 }
            """)
        scenario.client.command?.timeout = 20
        let result = await commandRunner().run(scenario)
        #expect(result.passed, "\(result.failures)\n\(result.clientOutput ?? "")")
    }

    /// A runtime's housekeeping (the JVM's G1 service thread, a GIL's switch request) waits a
    /// moment, ends on the wall clock, reads the clock and waits again for the same virtual
    /// deadline, again and again. Those returns change nothing, and must not keep the driver
    /// from moving time: a wait of 100 µs, repeated, once held a JVM's start for ever.
    @Test(.enabled(if: ready && tool("python3"), "needs python3 and the built interposer"))
    func housekeepingThatWaitsAgainDoesNotHoldTimeBack() async throws {
        let program = """
            import threading, time, json
            start = time.monotonic()
            lock = threading.Lock(); lock.acquire()
            def housekeeping():
                end = time.monotonic() + 0.0003
                while time.monotonic() < end: lock.acquire(timeout=0.0001)
            worker = threading.Thread(target=housekeeping); worker.start()
            time.sleep(30)
            worker.join()
            print(json.dumps({"slept": round(time.monotonic() - start, 3)}))
            """
        var scenario = try commandScenario("[python3, -c, \(jsonString(program))]", expect: """
              diagnosis: none
              reported: { slept: 30 }
            """)
        scenario.client.command?.timeout = 20
        let result = await commandRunner().run(scenario)
        #expect(result.passed, "\(result.failures)\n\(result.clientOutput ?? "")")
    }

    @Test(.enabled(if: tool("curl"), "needs curl"))
    func scaledTimeStaysAnOption() async throws {
        var scenario = try commandScenario(
            #"'curl -sS -o /dev/null -H "X-Api-Key: $R7_API_KEY" "$R7_BASE_URL/validate"'"#,
            expect: "  diagnosis: none\n  requests: { path: /validate, statuses: [200] }")
        scenario.client.command?.time = .scaled
        scenario.timeScale = 60
        let result = await commandRunner().run(scenario)
        #expect(result.passed, "\(result.failures)")
        #expect(result.timeNote == "scaled time (60×, tolerance −3s +30s)")
    }

    /// `swift run` does not build the library; from a source tree it is compiled from the
    /// package's C sources, and the result is a working interposer.
    @Test(.enabled(if: tool("cc") && tool("sh"), "needs a C compiler"))
    func theInterposerCompilesFromThePackagesSources() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("preload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent(Interposer.fileName).path
        #expect(Interposer.compile(sources: URL(fileURLWithPath: repositoryRoot).appendingPathComponent("Sources"), to: target))
        // Preloaded with a clock page at 2026-01-01, `date` reads the virtual time.
        let clock = try SharedClock(start: VirtualClock.defaultStart)
        clock.advance(seconds: 90)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "date -u +%FT%T"]
        process.environment = ["LD_PRELOAD": target, "INSIGHT_REPLAY_CLOCK": clock.path, "PATH": "/usr/bin:/bin"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "2026-01-01T00:01:30")
    }

    /// A driver killed (a CI timeout's kill -9 on `exec`), or a client that leaves a process in
    /// the background: nobody moves time any more, and the client's sleeps would last for ever.
    /// The interposer sees the driver gone and lets time run on the wall clock from there.
    @Test(.enabled(if: Interposer.library != nil && tool("python3"), "needs python3 and the built interposer"))
    func aClientOutlivingItsDriverRunsOnTheWallClock() throws {
        let clock = try SharedClock(start: VirtualClock.defaultStart)
        clock.advance(seconds: 60)
        // A driver that has ended: a process that ran and was reaped.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/sh")
        gone.arguments = ["-c", "exit 0"]
        try gone.run()
        gone.waitUntilExit()
        clock.page.pointee.driver_pid = gone.processIdentifier
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c",
                             "import time; t = time.monotonic(); time.sleep(0.2); print(time.monotonic() - t >= 0.2, 1767225660 <= time.time() < 1767229260)"]
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = Interposer.library
        environment["INSIGHT_REPLAY_CLOCK"] = clock.path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        // Bounded: a sleep that never ends (as it was) fails here; SIGKILL, as the test's
        // threads block the signals a child would inherit.
        let ended = exited.wait(timeout: .now() + 20) == .success
        if !ended { kill(process.processIdentifier, SIGKILL); exited.wait() }
        #expect(ended, "the client's sleep did not end once its driver was gone")
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // Its clocks went on from the virtual time (2026-01-01T00:01:00), forward only.
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "True True")
    }

    // MARK: exec

    /// What Rapid7's own InsightConnect plugins do (`requests.Session().send`, which verifies
    /// against certifi) and Node 20's fetch (which reads no proxy variable) reach every regional
    /// host, unmodified, certificate checks on.
    @Test(.enabled(if: Interposer.library != nil && python("import requests"), "needs requests and the built interposer"))
    func execServesRequestsSessionSend() async throws {
        try await expectEveryRegion(["python3", "\(repositoryRoot)/Examples/stacks/python_requests_session_send.py"])
    }

    @Test(.enabled(if: Interposer.library != nil && tool("node"), "needs node and the built interposer"))
    func execServesNodeFetch() async throws {
        try await expectEveryRegion(["node", "\(repositoryRoot)/Examples/stacks/node_fetch.mjs"])
    }

    func expectEveryRegion(_ arguments: [String]) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("exec-ca-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let start = Date()
        let outcome = try await ExecSession(arguments: arguments, time: .virtual, caDirectory: folder).run(start: start) { clock in
            Emulator(tenants: DemoWorld.tenants(now: start, size: DemoWorld.Size()), clock: clock, seed: DemoWorld.seed)
        } keys: { ExecSession.keyVariables($0) }
        #expect(outcome.exitCode == 0)
        #expect(outcome.journal.map(\.status) == Array(repeating: 200, count: 7))
        #expect(Set(outcome.journal.map(\.region)) == Set(Region.allCases.filter { ["us", "us2", "us3", "eu", "ca", "au", "ap"].contains($0.code) }))
        #expect(outcome.uncontrolled.isEmpty)
    }

    // MARK: Programs the interposer cannot reach

    @Test func programKindsAreReadFromTheFile() throws {
        #expect(ProgramKind.of(arguments: ["/bin/sh", "-c", "true"], path: nil) == .reachable)
        #expect(ProgramKind.of(arguments: ["sh"], path: "/usr/bin:/bin") == .reachable)
        #expect(ProgramKind.of(arguments: ["no-such-program-x"], path: "/usr/bin:/bin") == .unknown)
        // A script's interpreter decides.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kind-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("client")
        try Data("#!/usr/bin/env sh\necho hi\n".utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        #expect(ProgramKind.of(arguments: ["./client"], path: "/usr/bin:/bin", directory: folder.path) == .reachable)
        // An ELF with no interpreter is statically linked; one with .go.buildinfo is Go.
        #expect(ProgramKind.elf(Self.elf(interpreter: false, sections: []), name: "x") == .unreachable("x is statically linked: no C library is loaded that the interposer could stand in for"))
        #expect(ProgramKind.elf(Self.elf(interpreter: true, sections: [".go.buildinfo"]), name: "g")
                == .unreachable("g is a Go program: its runtime reads the clock and sleeps through the kernel, not the C library"))
        #expect(ProgramKind.elf(Self.elf(interpreter: true, sections: [".text"]), name: "d") == .reachable)
    }

    /// A static program that sleeps through the kernel: the scenario says its time was not
    /// controlled (run directly: known before it starts; from a shell: seen while it runs).
    @Test(.enabled(if: tool("cc") && Interposer.library != nil, "needs a C compiler and the built interposer"))
    func aStaticProgramIsNamedNotSilentlyWrong() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("static-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("nap.c")
        try Data("#include <time.h>\nint main(void) { struct timespec t = {0, 400000000}; nanosleep(&t, 0); return 0; }\n".utf8).write(to: source)
        let binary = folder.appendingPathComponent("nap").path
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compile.arguments = ["cc", "-static", "-o", binary, source.path]
        try compile.run()
        compile.waitUntilExit()
        try #require(compile.terminationStatus == 0, "cc -static failed (no static C library?)")

        let direct = try commandScenario("[\(binary)]", expect: "  diagnosis: none")
        let known = await commandRunner().run(direct)
        #expect(known.timeNote?.hasPrefix("scaled time (1×, tolerance −0.05s +0.5s), not virtual: \(binary) is statically linked") == true,
                "\(known.timeNote ?? "no note")")
        #expect(known.passed, "\(known.failures)")

        let viaShell = try commandScenario("'\(binary)'", expect: "  diagnosis: none")
        let seen = await commandRunner().run(viaShell)
        #expect(seen.failures.contains { $0.hasPrefix("time was not under control: \(binary) runs without the C library's clock") },
                "\(seen.failures)")
    }

    /// A minimal ELF64 file: a header, one program header (PT_INTERP or PT_LOAD) and the named
    /// sections with their string table.
    static func elf(interpreter: Bool, sections: [String]) -> Data {
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes[0...3] = [0x7F, 0x45, 0x4C, 0x46]
        bytes[4] = 2; bytes[5] = 1; bytes[6] = 1
        func put(_ value: Int, at offset: Int, size: Int) { for i in 0..<size { bytes[offset + i] = UInt8((value >> (8 * i)) & 0xFF) } }
        // Program header at 64.
        put(64, at: 0x20, size: 8); put(56, at: 0x36, size: 2); put(1, at: 0x38, size: 2)
        var header = [UInt8](repeating: 0, count: 56)
        header[0] = interpreter ? 3 : 1
        bytes += header
        // Section names, then the section headers (index 0 empty, the names, the string table last).
        var strings: [UInt8] = [0]
        var offsets: [Int] = []
        for name in sections + [".shstrtab"] { offsets.append(strings.count); strings += Array(name.utf8) + [0] }
        let stringsAt = bytes.count
        bytes += strings
        let sectionsAt = bytes.count
        put(sectionsAt, at: 0x28, size: 8); put(64, at: 0x3A, size: 2)
        put(offsets.count + 1, at: 0x3C, size: 2); put(offsets.count, at: 0x3E, size: 2)
        bytes += [UInt8](repeating: 0, count: 64)
        for offset in offsets {
            var section = [UInt8](repeating: 0, count: 64)
            for i in 0..<4 { section[i] = UInt8((offset >> (8 * i)) & 0xFF) }
            for i in 0..<8 { section[0x18 + i] = UInt8((stringsAt >> (8 * i)) & 0xFF) }
            bytes += section
        }
        return Data(bytes)
    }
}

/// Whether python3 runs `code` (a module is installed).
func python(_ code: String) -> Bool {
    guard tool("python3") else { return false }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", code]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

/// A string as a double-quoted YAML scalar.
func jsonString(_ text: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed), as: UTF8.self)
}
