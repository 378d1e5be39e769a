import Foundation

/// Bytes that must be UTF-8 text (a scenario file, an uploaded scenario): the text, or where the
/// first byte that is not UTF-8 sits, so the error can name a line and column instead of
/// replacing the byte silently.
public enum TextBytes {
    /// Where a byte sequence stops being UTF-8.
    public struct InvalidByte: Error, Sendable, Equatable, CustomStringConvertible {
        /// Offset of the first bad byte, from 0.
        public let offset: Int
        /// Line and column of it, from 1 (columns in bytes).
        public let line: Int
        public let column: Int
        public let byte: UInt8

        public var description: String {
            "byte 0x\(String(byte, radix: 16, uppercase: true)) at line \(line), column \(column) is not UTF-8; save the file as UTF-8 text"
        }
    }

    /// The text, or the first invalid byte.
    public static func decode<Bytes: Collection>(_ bytes: Bytes) -> Result<String, InvalidByte> where Bytes.Element == UInt8 {
        if let text = String(validating: bytes, as: UTF8.self) { return .success(text) }
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: break loop
            case .error: break loop
            }
        }
        let array = Array(bytes)
        let before = array[..<min(offset, array.count)]
        let lineStart = (before.lastIndex(of: 10).map { $0 + 1 }) ?? 0
        return .failure(InvalidByte(offset: offset, line: before.count(where: { $0 == 10 }) + 1, column: offset - lineStart + 1,
                                    byte: offset < array.count ? array[offset] : 0))
    }
}
