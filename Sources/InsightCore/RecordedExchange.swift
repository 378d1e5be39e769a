import Foundation

/// One request and its answer as recorded, in canonical form (headers sorted by lowercased
/// name, query items in their order). Holds no secret once it has passed the redactor.
public struct RecordedExchange: Sendable, Hashable, Codable {
    public var method: String
    public var host: String
    public var path: String
    public var query: [QueryPair]
    public var requestHeaders: [HeaderPair]
    public var requestBody: String
    public var status: Int
    public var responseHeaders: [HeaderPair]
    public var responseBody: String
    /// How long the upstream took to answer, in milliseconds.
    public var durationMillis: Int
    public var recordedAt: Date

    public struct QueryPair: Sendable, Hashable, Codable {
        public var name: String
        public var value: String?
        public init(_ name: String, _ value: String?) {
            self.name = name
            self.value = value
        }
    }

    public struct HeaderPair: Sendable, Hashable, Codable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name.lowercased()
            self.value = value
        }
    }

    public init(method: String, host: String, path: String, query: [QueryPair], requestHeaders: [HeaderPair], requestBody: String,
                status: Int, responseHeaders: [HeaderPair], responseBody: String, durationMillis: Int, recordedAt: Date)
    {
        self.method = method.uppercased()
        self.host = host.lowercased()
        self.path = path
        self.query = query
        self.requestHeaders = requestHeaders.sorted { $0.name < $1.name }
        self.requestBody = requestBody
        self.status = status
        self.responseHeaders = responseHeaders.sorted { $0.name < $1.name }
        self.responseBody = responseBody
        self.durationMillis = durationMillis
        self.recordedAt = recordedAt
    }

    /// An exchange from a request and the response it got.
    public init(request: HTTPRequest, response: HTTPResponse, durationMillis: Int, recordedAt: Date) {
        self.init(method: request.method, host: request.host, path: request.path,
                  query: request.query.map { QueryPair($0.name, $0.value) },
                  requestHeaders: request.headers.map { HeaderPair($0.name, $0.value) },
                  requestBody: String(decoding: request.body, as: UTF8.self), status: response.status,
                  responseHeaders: response.headers.map { HeaderPair($0.name, $0.value) },
                  responseBody: String(decoding: response.body, as: UTF8.self), durationMillis: durationMillis, recordedAt: recordedAt)
    }

    /// The recorded answer as a response.
    public var response: HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders(responseHeaders.map { ($0.name, $0.value) }), body: Data(responseBody.utf8))
    }

    /// `METHOD host/path?query`, for messages.
    public var summary: String {
        let query = self.query.isEmpty ? "" : "?" + self.query.map { "\($0.name)=\($0.value ?? "")" }.joined(separator: "&")
        return "\(method) \(host)\(path)\(query)"
    }
}

/// Where a recording came from.
public struct Provenance: Sendable, Hashable, Codable {
    public var recordedAt: Date
    public var region: String?
    /// `proxy <upstream>`, `har <file>`, `emulator` …
    public var source: String
    /// The Rapid7 product version, when known.
    public var productVersion: String?

    public init(recordedAt: Date, region: String?, source: String, productVersion: String?) {
        self.recordedAt = recordedAt
        self.region = region
        self.source = source
        self.productVersion = productVersion
    }
}

/// A named, ordered set of exchanges.
public struct Recording: Sendable, Hashable, Codable {
    public var name: String
    public var provenance: Provenance
    public var exchanges: [RecordedExchange]

    public init(name: String, provenance: Provenance, exchanges: [RecordedExchange]) {
        self.name = name
        self.provenance = provenance
        self.exchanges = exchanges
    }
}
