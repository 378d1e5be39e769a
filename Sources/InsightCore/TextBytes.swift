import Foundation

/// Bytes that must be UTF-8 text (a scenario file, an uploaded scenario): the text, or where the
/// first byte that is not UTF-8 sits, so the error can name a line and column instead of
/// replacing the byte silently.
public enum TextBytes {
    /// The text, or the first invalid byte.
    public static func decode<Bytes: Collection>(_ bytes: Bytes) -> Result<String, CoreError> where Bytes.Element == UInt8 {
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
        return .failure(.notUTF8(offset: offset, line: before.count(where: { $0 == 10 }) + 1, column: offset - lineStart + 1,
                                    byte: offset < array.count ? array[offset] : 0))
    }
}
