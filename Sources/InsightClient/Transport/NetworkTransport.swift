import Foundation
import InsightCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Declines every redirect, so the 3xx itself is the answer.
private final class KeepRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

/// Sends requests over HTTP. With a `base` (e.g. `http://127.0.0.1:8080`, an InsightReplay
/// server), each request goes to `base/HOST/path` — the path-prefix form, so no Host header
/// has to be forged; without one, to the request's own `https://HOST/path`.
public final class NetworkTransport: HTTPTransport, @unchecked Sendable {
    public let base: String?
    private let session: URLSession

    public init(base: String? = nil, timeout: Double = 30) {
        self.base = base.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        // A 3xx comes back as it is: Rapid7's API hosts never redirect, so a redirect (to a
        // console's login page) is the evidence of a wrong URL, not something to follow.
        session = URLSession(configuration: configuration, delegate: KeepRedirects(), delegateQueue: nil)
    }

    /// The URL a request is sent to.
    public func target(_ request: HTTPRequest) -> URL? {
        var components = URLComponents()
        // A link the server wrote back to itself (serve rewrites Self/Next links of path-prefix
        // requests to its own address) is followed as it is, not prefixed a second time.
        if let base, let parsed = URLComponents(string: base), !(parsed.host == request.host && parsed.port == request.port) {
            components = parsed
            components.percentEncodedPath = parsed.percentEncodedPath + "/" + request.host + request.path
        } else {
            components.scheme = request.scheme
            components.host = request.host
            components.port = request.port
            components.percentEncodedPath = request.path
        }
        if !request.query.isEmpty { components.queryItems = request.query }
        return components.url
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let url = target(request) else {
            throw CoreError.transport(.nameResolution, host: request.host, detail: "cannot form a URL")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        for field in request.headers where field.name != "host" { urlRequest.addValue(field.value, forHTTPHeaderField: field.name) }
        if !request.body.isEmpty { urlRequest.httpBody = request.body }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: urlRequest)
        } catch let error as URLError {
            switch error.code {
            case .cannotFindHost, .dnsLookupFailed: throw CoreError.transport(.nameResolution, host: request.host, detail: "\(error.code)")
            case .cannotConnectToHost: throw CoreError.transport(.connectionRefused, host: url.host ?? request.host)
            case .timedOut: throw CoreError.transport(.timedOut, host: url.host ?? request.host)
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
                 .serverCertificateHasUnknownRoot, .clientCertificateRejected, .clientCertificateRequired:
                throw CoreError.transport(.tlsFailed, host: url.host ?? request.host, detail: "\(error.code)")
            default: throw CoreError.transport(.connectionReset, host: url.host ?? request.host, detail: "\(error.code.rawValue)")
            }
        }
        guard let http = response as? HTTPURLResponse else {
            throw CoreError.transport(.connectionReset, host: request.host, detail: "not an HTTP response")
        }
        var headers = HTTPHeaders()
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers.add(name, value) }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: data)
    }
}
