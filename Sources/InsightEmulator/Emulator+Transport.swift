import InsightCore

/// The in-process transport: a client talks to the emulator with no socket at all.
extension Emulator: HTTPTransport {
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await handle(request)
    }
}
