import Foundation

/// Header fields with case-insensitive names, kept in canonical (lowercased, sorted) order.
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}
    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name, value) }
    }
    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { add(name, value) }
    }

    /// Fields already lowercased and sorted by name (literals): taken as they are.
    init(sortedLowercased fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    /// Adds a field, keeping the list sorted by lowercased name (stable for equal names).
    public mutating func add(_ name: String, _ value: String) {
        add(lowercased: Self.lowercasedName(name), value)
    }

    /// `add`, for a name already in lower case (from `lowercasedName`).
    public mutating func add(lowercased lower: String, _ value: String) {
        if let index = fields.firstIndex(where: { $0.name > lower }) {
            fields.insert((lower, value), at: index)
        } else {
            fields.append((lower, value))
        }
    }

    /// A field name in lower case. The names clients send on nearly every request come back as
    /// literals, found by their length and bytes: `X-Api-Key` as sent is not scanned and then
    /// lowercased into a new string on each request (about 30 ns a name on the server's path).
    public static func lowercasedName(_ name: String) -> String {
        let known: String? = name.withContiguousUTF8 { bytes in
            func named(_ lower: StaticString, _ literal: String) -> String? {
                bytes[...].equalsFolded(lower) ? literal : nil
            }
            switch bytes.count {
            case 4: return named("host", "host")
            case 6: return named("accept", "accept")
            case 9: return named("x-api-key", "x-api-key")
            case 10: return named("user-agent", "user-agent") ?? named("connection", "connection")
            case 12: return named("content-type", "content-type")
            case 13: return named("authorization", "authorization") ?? named("cache-control", "cache-control")
            case 14: return named("content-length", "content-length")
            case 15: return named("accept-encoding", "accept-encoding") ?? named("accept-language", "accept-language")
            default: return nil
            }
        }
        return known ?? name.lowercasedIfNeeded()
    }

    /// Replaces every field of that name with one value.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        let lower = name.lowercasedIfNeeded()
        fields.removeAll { $0.name == lower }
    }

    /// First value of a field, matched case-insensitively.
    public subscript(name: String) -> String? {
        // Callers mostly ask in lower case already: the name as asked is tried first, and only a
        // name that is not found is folded (names held are lower case).
        if let index = fields.firstIndex(where: { $0.name == name }) { return fields[index].value }
        let lower = name.lowercasedIfNeeded()
        guard lower != name else { return nil }
        return fields.first(where: { $0.name == lower })?.value
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
    public func hash(into hasher: inout Hasher) {
        for field in fields {
            hasher.combine(field.name)
            hasher.combine(field.value)
        }
    }
}

/// A request in canonical form: scheme, host, path, query items and headers, separate.
public struct HTTPRequest: Sendable, Hashable {
    public var method: String
    public var scheme: String
    public var host: String
    public var port: Int?
    public var path: String
    public var query: [URLQueryItem]
    public var headers: HTTPHeaders
    public var body: Data

    public init(
        method: String, scheme: String = "https", host: String, port: Int? = nil, path: String,
        query: [URLQueryItem] = [], headers: HTTPHeaders = [:], body: Data = Data()
    ) {
        self.method = method.uppercasedIfNeeded()
        self.scheme = scheme.lowercasedIfNeeded()
        self.host = host.lowercasedIfNeeded()
        self.port = port
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// A request whose method is already upper case and whose host is already lower case (the
    /// server's, from a parsed head and a region's literal host): taken as they are, where the
    /// other `init` scans each to fold it. HTTPS, no port.
    public init(canonicalMethod method: String, host: String, path: String, query: [URLQueryItem], headers: HTTPHeaders, body: Data) {
        self.method = method
        scheme = "https"
        self.host = host
        port = nil
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Builds a request from an absolute URL string; nil when it has no scheme or host.
    public init?(method: String, url: String, headers: HTTPHeaders = [:], body: Data = Data()) {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              let host = components.host, !host.isEmpty
        else { return nil }
        self.init(
            method: method, scheme: scheme, host: host, port: components.port,
            path: components.percentEncodedPath, query: components.queryItems ?? [],
            headers: headers, body: body)
    }

    /// The value of a query parameter, if present.
    public func queryValue(_ name: String) -> String? {
        query.first(where: { $0.name == name })?.value
    }

    /// `https://host[:port]/path?query`, with query items in their given order.
    public var url: String {
        var components = URLComponents()
        components.scheme = scheme
        components.host = host
        components.port = port
        components.percentEncodedPath = path
        if !query.isEmpty { components.queryItems = query }
        return components.string ?? "\(scheme)://\(host)\(path)"
    }
}

/// A response as the emulator produced it or a transport received it.
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int, headers: HTTPHeaders = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response with sorted keys and a `Content-Type: application/json` header.
    public static func json(_ status: Int, _ value: JSON, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var all = headers
        all.set("Content-Type", "application/json")
        return HTTPResponse(status: status, headers: all, body: value.encoded())
    }

    /// A JSON response whose body is a literal (already canonical JSON): no encoding, and only
    /// literals (no shared storage to count references on) go into it.
    public static func constantJSON(_ status: Int, _ body: StaticString) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders(sortedLowercased: [("content-type", "application/json")]),
                     body: Data(bytes: body.utf8Start, count: body.utf8CodeUnitCount))
    }

    /// A plain-text response.
    public static func text(_ status: Int, _ text: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var all = headers
        all.set("Content-Type", "text/plain")
        return HTTPResponse(status: status, headers: all, body: Data(text.utf8))
    }

    /// The body decoded as JSON, or nil when it is not JSON.
    public var json: JSON? { JSON(data: body) }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Anything that can carry a request to the platform: the emulator in-process, or a socket.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// A handler can stop early with a finished answer (a 400 that explains a bad parameter),
/// carried in a `Result` or thrown.
extension HTTPResponse: Error {}

extension Slice where Base == UnsafeBufferPointer<UInt8> {
    /// ASCII bytes equal to `lower` (lower case) but for their case.
    func equalsFolded(_ lower: StaticString) -> Bool {
        guard count == lower.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)
        // As sent, hosts and names are nearly always lower case already: one memcmp decides.
        if let start = base.baseAddress, memcmp(start + startIndex, expected.baseAddress!, count) == 0 { return true }
        for (byte, want) in zip(self, expected) where byte != want {
            guard (0x41...0x5A).contains(byte), byte | 0x20 == want else { return false }
        }
        return true
    }
}

extension String {
    /// Equal but for case, without Foundation's locale-aware comparison on the common ASCII path
    /// (it sits on every authenticated request: emails, roles, products).
    public func equalsIgnoringCase(_ other: String) -> Bool {
        if self == other { return true }
        // One pass over both byte buffers: whether each is ASCII, and whether they differ but for case.
        let ascii: Bool? = withContiguousUTF8 { left in
            other.withContiguousUTF8 { right in
                var allASCII = true, differs = left.count != right.count
                for index in 0..<Swift.max(left.count, right.count) {
                    let a = index < left.count ? left[index] : 0, b = index < right.count ? right[index] : 0
                    if a >= 0x80 || b >= 0x80 { allASCII = false; break }
                    if a != b, Self.foldASCII(a) != Self.foldASCII(b) { differs = true }
                }
                return allASCII ? !differs : nil
            }
        }
        return ascii ?? (caseInsensitiveCompare(other) == .orderedSame)
    }

    /// `lowercased()`, without its work when there is nothing to fold (an ASCII string with no
    /// capital: what a request's host and scheme nearly always are).
    public func lowercasedIfNeeded() -> String {
        asciiWithout(0x41...0x5A) ? self : lowercased()
    }

    /// `uppercased()`, without its work when there is nothing to fold (a method as sent).
    public func uppercasedIfNeeded() -> String {
        asciiWithout(0x61...0x7A) ? self : uppercased()
    }

    /// Whether every byte is ASCII and none is in `letters`: read as one buffer, not through the
    /// UTF-8 view's iterator.
    private func asciiWithout(_ letters: ClosedRange<UInt8>) -> Bool {
        withContiguousUTF8 { bytes in
            for byte in bytes where byte >= 0x80 || letters.contains(byte) { return false }
            return true
        }
    }

    /// Calls `body` with the string's UTF-8 bytes in one buffer: in place for a native string (a
    /// small one from the stack), copied only for one that is not contiguous (bridged).
    @inlinable
    public func withContiguousUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return try copy.withUTF8(body)
    }

    private static func foldASCII(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
}
