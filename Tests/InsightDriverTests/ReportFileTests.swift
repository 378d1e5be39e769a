import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import InsightDriver
@testable import InsightScenario
import Testing

/// Reports are written as `>` would: through a symlink, in place into a device or a FIFO with a
/// reader, refused for a FIFO without one; never by replacing what is at the path.
@Suite struct ReportFileTests {
    func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    @Test func aSymlinkIsWrittenThroughAndStaysALink() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "old".write(toFile: dir + "/real.xml", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.xml", withDestinationPath: "real.xml")
        try ReportPath.write("<new/>", to: dir + "/link.xml")
        #expect(kind(dir + "/link.xml") == S_IFLNK)
        #expect(try String(contentsOfFile: dir + "/real.xml", encoding: .utf8) == "<new/>")
    }

    @Test func aDeviceIsWrittenInPlaceNotReplaced() throws {
        try ReportPath.write("report", to: "/dev/null")
        #expect(kind("/dev/null") == S_IFCHR)
        #expect(ReportPath.problem("/dev/null", option: "--json") == nil)
        // A full device is an error that names it, and stays a device.
        if FileManager.default.fileExists(atPath: "/dev/full") {
            let error = #expect(throws: DriverError.self) { try ReportPath.write("report", to: "/dev/full") }
            #expect(error?.problem.hasPrefix("cannot write to /dev/full") == true)
            #expect(error?.remedy == "give a path this user can write, or - for standard output")
            #expect(kind("/dev/full") == S_IFCHR)
        }
    }

    @Test func aFIFOWithoutAReaderIsRefusedAndWithOneIsWritten() async throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/pipe"
        #expect(mkfifo(fifo, 0o600) == 0)
        do {
            try ReportPath.write("x", to: fifo)
            Issue.record("written without a reader")
        } catch {
            #expect("\(error)".contains("it is a FIFO with no reader"))
        }
        #expect(kind(fifo) == S_IFIFO)
        // With a reader: open for reading first (non-blocking), then write.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        try ReportPath.write("through the pipe", to: fifo)
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(reader, &buffer, buffer.count)
        #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == "through the pipe")
        #expect(kind(fifo) == S_IFIFO)
    }

    @Test func aMissingFolderAndAFolderAreNamed() throws {
        #expect(ReportPath.problem("/no-such-folder/r.json", option: "--json")
            == "--json /no-such-folder/r.json: the folder /no-such-folder does not exist; create it first (mkdir -p /no-such-folder)")
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(ReportPath.problem(dir, option: "--html") == "--html \(dir) is a folder; give a file name, e.g. \(dir)/report.html")
        #expect(ReportPath.problem("-", option: "--json") == nil)
    }
}
