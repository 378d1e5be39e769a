import Foundation
import InsightServer

/// Whether the interposer can reach a program: it works through the C library's dynamic
/// linking, so a statically linked program, or a Go program (whose runtime reads the clock and
/// sleeps through the kernel directly), keeps the real clock.
enum ProgramKind: Equatable {
    /// Dynamically linked through the C library, or a script run by such an interpreter.
    case reachable
    /// Cannot be run on the virtual clock; the reason names the file.
    case unreachable(String)
    /// Not known before it runs (`sh -c` text, a program not found): watched while it runs.
    case unknown

    /// The kind of the program a command's arguments start (`python3 x.py`, `./client`,
    /// `node app.js`), found on `path` as `env` would find it.
    static func of(arguments: [String], path: String?, directory: String? = nil) -> ProgramKind {
        guard var first = arguments.first else { return .unknown }
        if first.contains("/"), !first.hasPrefix("/"), let directory { first = (directory as NSString).appendingPathComponent(first) }
        guard let file = locate(first, path: path) else { return .unknown }
        return of(file: file, path: path, depth: 0)
    }

    private static func of(file: String, path: String?, depth: Int) -> ProgramKind {
        guard depth < 4, let handle = FileHandle(forReadingAtPath: file) else { return .unknown }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 256), head.count >= 4 else { return .unknown }
        if head.starts(with: [0x23, 0x21]) { // "#!": the interpreter decides
            let line = String(decoding: head.dropFirst(2).prefix { $0 != 0x0A }, as: UTF8.self)
            var words = line.split(separator: " ").map(String.init)
            guard !words.isEmpty else { return .unknown }
            if (words[0] as NSString).lastPathComponent == "env" { words.removeFirst() }
            words.removeAll { $0.hasPrefix("-") }
            guard let interpreter = words.first, let found = locate(interpreter, path: path) else { return .unknown }
            return of(file: found, path: path, depth: depth + 1)
        }
        guard head.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else { return .unknown }
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped) else { return .unknown }
        return elf(data, name: file)
    }

    /// Reads an ELF64 little-endian file's program headers (an interpreter means dynamic
    /// linking) and section names (Go writes `.go.buildinfo`).
    static func elf(_ data: Data, name: String) -> ProgramKind {
        func int(_ offset: Int, _ size: Int) -> Int? {
            guard offset >= 0, offset + size <= data.count else { return nil }
            var value = 0
            for index in 0..<size { value |= Int(data[data.startIndex + offset + index]) << (8 * index) }
            return value
        }
        guard data.count > 64, data[data.startIndex + 4] == 2, data[data.startIndex + 5] == 1,
              let phoff = int(0x20, 8), let shoff = int(0x28, 8), let phsize = int(0x36, 2), let phnum = int(0x38, 2),
              let shsize = int(0x3A, 2), let shnum = int(0x3C, 2), let shstrndx = int(0x3E, 2)
        else { return .unknown }
        let interpreted = (0..<phnum).contains { int(phoff + $0 * phsize, 4) == 3 } // PT_INTERP
        var isGo = false
        if shstrndx < shnum, let names = int(shoff + shstrndx * shsize + 0x18, 8) {
            for index in 0..<shnum {
                guard let nameOffset = int(shoff + index * shsize, 4) else { break }
                let start = names + nameOffset
                guard start >= 0, start < data.count else { continue }
                let bytes = data[(data.startIndex + start)...].prefix { $0 != 0 }.prefix(32)
                if String(decoding: bytes, as: UTF8.self) == ".go.buildinfo" { isGo = true }
            }
        }
        if isGo { return .unreachable("\(name) is a Go program: its runtime reads the clock and sleeps through the kernel, not the C library") }
        if !interpreted { return .unreachable("\(name) is statically linked: no C library is loaded that the interposer could stand in for") }
        return .reachable
    }

    /// `name` as `env` finds it: a path as given, else the first executable on `path`.
    static func locate(_ name: String, path: String?) -> String? { ProgramPath.find(name, path: path) }
}
