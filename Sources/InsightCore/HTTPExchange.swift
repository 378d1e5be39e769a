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

    /// Adds a field, keeping the list sorted by lowercased name (stable for equal names).
    public mutating func add(_ name: String, _ value: String) {
        let lower = name.lowercased()
        let index = fields.firstIndex(where: { $0.name > lower }) ?? fields.endIndex
        fields.insert((lower, value), at: index)
    }

    /// Replaces every field of that name with one value.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        let lower = name.lowercased()
        fields.removeAll { $0.name == lower }
    }

    /// First value of a field, matched case-insensitively.
    public subscript(name: String) -> String? {
        // Callers mostly ask in lower case already: then there is nothing to fold.
        let lower = name.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) ? name.lowercased() : name
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
        self.method = method.uppercased()
        self.scheme = scheme.lowercased()
        self.host = host.lowercased()
        self.port = port
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

/// What goes wrong below HTTP: the host does not resolve, the connection is refused or reset.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case nameResolution = "name_resolution"
        case connectionRefused = "connection_refused"
        case connectionReset = "connection_reset"
        case timedOut = "timed_out"
    }
    public let kind: Kind
    public let host: String
    public let detail: String

    public init(_ kind: Kind, host: String, detail: String = "") {
        self.kind = kind
        self.host = host
        self.detail = detail
    }

    public var description: String {
        switch kind {
        case .nameResolution: return "could not resolve host \(host)"
        case .connectionRefused: return "connection to \(host) refused"
        case .connectionReset: return "connection to \(host) reset"
        case .timedOut: return "request to \(host) timed out"
        }
    } 
}

/// Anything that can carry a request to the platform: the emulator in-process, or a socket.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// A handler can stop early with a finished answer (a 400 that explains a bad parameter),
/// carried in a `Result` or thrown.
extension HTTPResponse: Error {}

extension String {
    /// Equal but for case, without Foundation's locale-aware comparison on the common ASCII path
    /// (it sits on every authenticated request: emails, roles, products).
    public func equalsIgnoringCase(_ other: String) -> Bool {
        if self == other { return true }
        let left = utf8, right = other.utf8
        let ascii = left.allSatisfy { $0 < 0x80 } && right.allSatisfy { $0 < 0x80 }
        guard ascii else { return caseInsensitiveCompare(other) == .orderedSame }
        guard left.count == right.count else { return false }
        for (a, b) in zip(left, right) where a != b {
            let foldedA = (0x41...0x5A).contains(a) ? a | 0x20 : a, foldedB = (0x41...0x5A).contains(b) ? b | 0x20 : b
            if foldedA != foldedB { return false }
        }
        return true
    }
}
