import Foundation

/// One part of a `multipart/form-data` body (RFC 7578).
public struct FormPart: Sendable, Hashable {
    public var name: String
    public var filename: String?
    public var contentType: String?
    public var data: Data
}

/// Reads `multipart/form-data` bodies: the IDR attachments upload (part `filedata`). Written here
/// rather than taken from MultipartKit so that the emulator stays free of SwiftNIO (its target
/// depends on InsightCore only); bounded by the body cap the server already applies.
public enum MultipartForm {
    /// The boundary of a `Content-Type: multipart/form-data; boundary=…` header.
    public static func boundary(_ contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty || value.count > 70 ? nil : value
            }
        }
        return nil
    }

    /// The parts of `body`, in order; a problem names what is malformed.
    public static func parts(_ body: Data, boundary: String) throws(CoreError) -> [FormPart] {
        let bytes = [UInt8](body)
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [FormPart] = []
        guard var position = find(delimiter, in: bytes, from: 0) else {
            throw .malformedForm("no part starts with --\(boundary)")
        }
        while true {
            position += delimiter.count
            if bytes[position...].starts(with: Array("--".utf8)) { return parts }  // the closing delimiter
            guard bytes[position...].starts(with: [13, 10]) else { throw .malformedForm("a delimiter is not followed by CRLF") }
            position += 2
            guard let headersEnd = find([13, 10, 13, 10], in: bytes, from: position) else {
                throw .malformedForm("a part's headers do not end with an empty line")
            }
            let headerText = String(decoding: bytes[position..<headersEnd], as: UTF8.self)
            guard let next = find([13, 10] + delimiter, in: bytes, from: headersEnd + 4) else {
                throw .malformedForm("a part is not closed by --\(boundary)")
            }
            var part = FormPart(name: "", filename: nil, contentType: nil, data: Data(bytes[(headersEnd + 4)..<next]))
            for line in headerText.components(separatedBy: "\r\n") {
                let pair = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { continue }
                switch pair[0].lowercased() {
                case "content-type": part.contentType = pair[1]
                case "content-disposition":
                    for parameter in pair[1].split(separator: ";").dropFirst() {
                        let field = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                        guard field.count == 2 else { continue }
                        let value = field[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                        if field[0].lowercased() == "name" { part.name = value }
                        if field[0].lowercased() == "filename" { part.filename = value }
                    }
                default: break
                }
            }
            guard !part.name.isEmpty else { throw .malformedForm("a part has no Content-Disposition name") }
            parts.append(part)
            position = next + 2
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
