import Foundation
import InsightCore

extension EmulatorState {
    /// `PATCH /idr/at/alerts/{rrn}` (reference §4): each value wrapped, `{"status": {"value":
    /// "CLOSED"}, "priority": {…}, "disposition": {…}, "assignee_id": {…}, "investigation_rrn":
    /// {…}, "comment": "…"}`; answers the alert as changed (ASSUMED: no public recording of the
    /// answer). Unknown fields and values are a 400 naming the allowed ones.
    mutating func patchAlert(_ match: RouteMatch, _ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let alerts = tenants[tenant].alerts, id = match.param("rrn")
        guard let position = alerts.generatedPosition(of: id) ?? alerts[alerts.generatedCount...].firstIndex(where: { $0.rrn == id || $0.id == id })
        else { return error(404, "Alert not found", .platform) }
        let body: JSON
        switch objectBody(request) {
        case .success(let found): body = found
        case .failure(let response): return response
        }
        var alert = alerts[position]
        let fields: [(String, [String]?, WritableKeyPath<Alert, String>)] = [
            ("status", ["OPEN", "INVESTIGATING", "WAITING", "CLOSED"], \.status),
            ("priority", ["LOW", "MEDIUM", "HIGH", "CRITICAL"], \.priority),
            ("disposition", Self.dispositions, \.disposition),
        ]
        guard case .object(let object) = body else { return badRequest("the body must be a JSON object") }
        let known = fields.map(\.0) + ["assignee_id", "investigation_rrn", "comment"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            return badRequest("unknown field \(unknown): use \(known.joined(separator: ", "))")
        }
        for (name, allowed, path) in fields {
            guard let wrapped = object[name] else { continue }
            guard let value = wrapped["value"]?.stringValue?.uppercased(), allowed?.contains(value) ?? true else {
                return badRequest("\(name) must be {\"value\": one of \(allowed?.joined(separator: ", ") ?? "")}")
            }
            alert[keyPath: path] = value
        }
        if let wrapped = object["assignee_id"] {
            guard let value = wrapped["value"], value == .null || value.stringValue != nil else {
                return badRequest("assignee_id must be {\"value\": a user id or null}")
            }
            alert.assigneeID = value.stringValue
        }
        if let wrapped = object["investigation_rrn"] {
            guard let value = wrapped["value"], value == .null || value.stringValue != nil else {
                return badRequest("investigation_rrn must be {\"value\": an investigation rrn or null}")
            }
            alert.investigationRRN = value.stringValue
        }
        tenants[tenant].alerts[position] = alert
        return .json(200, Self.alertJSON(alert, tenant: tenants[tenant]))
    }
}
