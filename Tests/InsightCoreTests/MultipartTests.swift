import Foundation
import InsightCore
import Testing

@Suite struct MultipartTests {
    static func body(_ parts: [String], boundary: String = "XyZ") -> Data {
        Data((parts.map { "--\(boundary)\r\n\($0)\r\n" }.joined() + "--\(boundary)--\r\n").utf8)
    }

    @Test func partsWithNamesFilenamesAndTypes() throws {
        let body = Self.body([
            "Content-Disposition: form-data; name=\"filedata\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\nworld",
            "Content-Disposition: form-data; name=\"note\"\r\n\r\nx",
        ])
        let parts = try MultipartForm.parts(body, boundary: "XyZ")
        #expect(parts.map(\.name) == ["filedata", "note"])
        #expect(parts[0].filename == "a.txt")
        #expect(parts[0].contentType == "text/plain")
        #expect(String(decoding: parts[0].data, as: UTF8.self) == "hello\r\nworld")
        #expect(parts[1].filename == nil)
    }

    @Test func boundaries() {
        #expect(MultipartForm.boundary("multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartForm.boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"") == "a b")
        #expect(MultipartForm.boundary("application/json") == nil)
        #expect(MultipartForm.boundary("multipart/form-data") == nil)
        #expect(MultipartForm.boundary("multipart/form-data; boundary=" + String(repeating: "x", count: 71)) == nil)
    }

    @Test(arguments: [
        ("", "no part starts with --XyZ"),
        ("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated", "a part is not closed by --XyZ"),
        ("--XyZ\r\nContent-Disposition: form-data; name=\"a\"", "a part's headers do not end with an empty line"),
        ("--XyZ junk", "a delimiter is not followed by CRLF"),
        ("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", "a part has no Content-Disposition name"),
    ])
    func malformedBodiesSayWhat(body: String, message: String) {
        do {
            _ = try MultipartForm.parts(Data(body.utf8), boundary: "XyZ")
            Issue.record("parsed")
        } catch {
            #expect(error.description == message)
        }
    }
}
