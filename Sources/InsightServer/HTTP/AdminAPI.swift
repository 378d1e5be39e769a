import Foundation
import InsightCore
import InsightEmulator

/// The admin API under `/_admin` on the server's own address (never a regional host):
///
/// | method path | does |
/// |---|---|
/// | GET /_admin/health | `{"status":"ok","clock":"system|virtual","now":…}` |
/// | GET /_admin/keys | every key with its region, kind and status; its secret with the admin token |
/// | GET /_admin/journal?limit=N | the newest N journal entries (default 100), `dropped`, `capacity` |
/// | DELETE /_admin/journal | empties the journal |
/// | GET /_admin/deliveries | events InsightConnect triggers received |
/// | POST /_admin/state | one state change: `{"revoke_key":"main"}`, `{"remove_role":{"user":…,"role":…}}` … |
/// | POST /_admin/faults | adds a fault: `{"path":"/validate","status":429,"count":2,"retry_after":30}` … |
/// | POST /_admin/clock/advance | `{"seconds":N}`: moves a virtual clock (409 on the wall clock) |
/// | POST /_admin/scenario | body: a scenario's YAML; replaces the tenants, faults and timeline |
///
/// No web page can use it: a request whose `Host` is not this machine (DNS rebinding), that
/// carries an `Origin` or a `Sec-Fetch-Site` other than same-origin (a page's fetch or form), or
/// that changes state without a JSON (or, for a scenario, YAML) body, which a form cannot send, is
/// refused before anything happens. Secrets (`/_admin/keys`, a scenario's keys) are shown only
/// to a caller that presents the start-up token (`X-Admin-Token`); off loopback every request
/// needs it.
struct AdminAPI: Sendable {
    static let prefix = "/_admin"
    let emulator: Emulator
    let loadScenario: ScenarioLoading?
    /// Made at start: asked for in `X-Admin-Token` (or `Authorization: Bearer …`) for secrets,
    /// and for every request when `tokenRequired`.
    var token: String = AdminAPI.makeToken()
    /// A server bound off loopback asks for the token on every admin request.
    var tokenRequired = false
    /// The address the server is bound to, accepted in `Host` beside the loopback names.
    var boundHost = "127.0.0.1"
    /// Web origins allowed to call it (`serve --admin-origin`); none by default.
    var allowedOrigins: [String] = []

    /// The keys, their secrets only for the token's holder.
    static func keys(_ emulator: Emulator, _ presented: Bool) -> JSON {
        var answer: [String: JSON] = ["keys": emulator.keysJSON(secrets: presented)]
        if !presented { answer["secrets"] = "hidden: send the token serve printed at start in X-Admin-Token, or use `serve --print-env`" }
        return .object(answer)
    }

    /// Whether the request carries the start-up token, compared in constant time.
    func tokenPresented(_ request: HTTPRequest) -> Bool {
        let given = request.headers["x-admin-token"]
            ?? request.headers["authorization"].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let expected = Array(token.utf8), actual = Array((given ?? "").utf8)
        var difference = expected.count ^ actual.count
        for index in expected.indices { difference |= Int(expected[index] ^ (index < actual.count ? actual[index] : 0)) }
        return difference == 0
    }

    /// Why a request cannot be from a tool on this machine, or nil: a foreign `Host` (DNS
    /// rebinding), a web page's `Origin` or `Sec-Fetch-Site`, a state change without a JSON body.
    func refusal(_ request: HTTPRequest) -> HTTPResponse? {
        let host = Self.hostPart(request.host)
        if !host.isEmpty, !Self.isLocal(host, boundHost: boundHost) {
            return problem(403, "refused: Host '\(request.host)' is not this machine; the admin API answers requests to localhost, 127.0.0.1 or \(boundHost) only (a web page reaching it through DNS rebinding looks like this)")
        }
        let origin = request.headers["origin"]
        let fetchSite = request.headers["sec-fetch-site"]?.lowercased()
        let allowed = origin.map { allowedOrigins.contains($0) } ?? false
        if !allowed {
            if let origin {
                return problem(403, "refused a request from a web page (Origin: \(origin)): the admin API is for tools on this machine; `serve --admin-origin \(origin)` allows that origin")
            }
            if let fetchSite, !["same-origin", "none"].contains(fetchSite) {
                return problem(403, "refused a request a web page made (Sec-Fetch-Site: \(fetchSite)): the admin API is for tools on this machine")
            }
        }
        if ["POST", "PUT", "PATCH"].contains(request.method) {
            let type = (request.headers["content-type"] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            let yaml = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"]
            let accepted = request.path.hasSuffix("/scenario") ? yaml + ["application/json"] : ["application/json"]
            if !accepted.contains(type) {
                return problem(415, "\(request.method) \(request.path) needs Content-Type: \(accepted[0])\(type.isEmpty ? "" : ", not \(type)") (a web form cannot send it, so a page cannot change the emulator)")
            }
        }
        return nil
    }

    /// A Host header's host: without its port, brackets taken off an IPv6 address.
    static func hostPart(_ header: String) -> String {
        let text = header.lowercased()
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { return String(text[text.index(after: text.startIndex)..<close]) }
        return String(text.split(separator: ":", maxSplits: 1).first ?? "")
    }

    /// Loopback names and addresses, the bound address, and any IP literal when bound to every
    /// address (a literal cannot be rebound; a name can).
    static func isLocal(_ host: String, boundHost: String) -> Bool {
        if host == "localhost" || host == "::1" || host.hasPrefix("127.") || host == boundHost.lowercased() { return true }
        let wildcard = ["0.0.0.0", "::", "[::]"].contains(boundHost)
        return wildcard && (host.allSatisfy { $0.isNumber || $0 == "." } || host.contains(":"))
    }

    /// 32 random bytes as hex, from the system's generator.
    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        if let refusal = refusal(request) { return refusal }
        let presented = tokenPresented(request)
        if tokenRequired, !presented {
            return .json(401, ["message": "the admin API needs the token serve printed at start, in X-Admin-Token (it is bound off loopback)"])
        }
        let path = String(request.path.dropFirst(Self.prefix.count))
        switch (request.method, path) {
        case ("GET", "/health"), ("GET", ""), ("GET", "/"):
            let virtual = emulator.clock is VirtualClock
            return .json(200, ["status": "ok", "clock": .string(virtual ? "virtual" : "system"),
                               "now": .string(emulator.clock.now().iso8601Millis)])
        case ("GET", "/keys"):
            return .json(200, Self.keys(emulator, presented))
        case ("GET", "/journal"):
            let limit = request.queryValue("limit").map { Int($0) } ?? 100
            guard let limit, limit >= 0 else { return problem(400, "limit must be a whole number of 0 or more") }
            return .json(200, emulator.journalJSON(limit: limit))
        case ("DELETE", "/journal"):
            emulator.resetJournal()
            return .json(200, ["status": "journal emptied"])
        case ("GET", "/deliveries"):
            return .json(200, ["deliveries": emulator.deliveriesJSON()])
        case ("POST", "/state"):
            guard let body = JSON(data: request.body) else { return problem(400, "the body must be JSON: {\"revoke_key\": \"main\"}") }
            do {
                let changed = try emulator.apply(try AdminChange(json: body))
                return .json(200, ["status": "applied", "tenants": .array(changed.map(JSON.string))])
            } catch let error as EmulatorError {
                return problem(error.status, error.description)
            } catch {
                return problem(400, "\(error)")
            }
        case ("POST", "/faults"):
            guard let body = JSON(data: request.body) else { return problem(400, "the body must be a JSON fault") }
            do {
                let rule = try FaultRule(json: body)
                emulator.addFault(rule)
                return .json(200, ["status": "fault added", "rule": .string(rule.description)])
            } catch {
                return problem(400, "\(error)")
            }
        case ("GET", "/faults"):
            return .json(200, ["faults": .array(emulator.faultsInForce.map { $0.rule.json(seen: $0.seen) })])
        case ("DELETE", "/faults"):
            return .json(200, ["status": "faults cleared", "cleared": .int(Int64(emulator.clearFaults()))])
        case ("POST", "/clock/advance"):
            guard let virtual = emulator.clock as? VirtualClock else {
                return problem(409, "this server runs on the wall clock; start it with --clock virtual to advance time")
            }
            guard let seconds = JSON(data: request.body)?["seconds"], let value = seconds.intValue.map(Double.init)
                ?? { if case .double(let v) = seconds { return v } else { return nil } }(), value >= 0
            else { return problem(400, "the body must be {\"seconds\": N} with N 0 or more") }
            virtual.advance(seconds: value)
            return .json(200, ["now": .string(virtual.now().iso8601Millis), "elapsed": .double(virtual.elapsed)])
        case ("POST", "/scenario"):
            guard let loadScenario else { return problem(501, "this server was started without a scenario loader") }
            do {
                // Not decoded leniently: a byte replaced silently would load a scenario nobody wrote.
                let text: String
                switch TextBytes.decode(request.body) {
                case .success(let decoded): text = decoded
                case .failure(let bad): return problem(400, "POST /_admin/scenario: \(bad.description)")
                }
                let world = try loadScenario(text, emulator.clock.now())
                emulator.load(tenants: world.tenants, faults: world.faults, timeline: world.timeline, seed: world.seed)
                var answer = Self.keys(emulator, presented)
                if case .object(var object) = answer { object["loaded"] = .string(world.name); answer = .object(object) }
                return .json(200, answer)
            } catch {
                return problem(400, "\(error)")
            }
        default:
            return problem(404, "no admin route \(request.method) \(request.path); see docs/CLI.md, \"Admin API\"")
        }
    }

    private func problem(_ status: Int, _ message: String) -> HTTPResponse {
        .json(status, ["message": .string(message)])
    }
}
