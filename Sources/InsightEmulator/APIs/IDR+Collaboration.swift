import Foundation
import InsightCore

/// Who made a comment or an attachment: a user by name, or an API key (organization keys).
public struct Creator: Sendable, Hashable {
    public var type: String
    public var name: String
    var json: JSON { ["type": .string(type), "name": .string(name)] }
}

/// An investigation comment (`/idr/v1/comments`).
public struct Comment: Sendable, Hashable {
    public var rrn: String
    public var target: String
    public var body: String?
    public var creator: Creator
    public var createdTime: Date
    public var attachments: [String]
}

/// A file attached to an investigation or a comment (`/idr/v1/attachments`).
public struct Attachment: Sendable, Hashable {
    public var rrn: String
    public var fileName: String
    public var mimeType: String
    public var data: Data
    public var creator: Creator
    public var createdTime: Date
}

/// Collaboration and threat endpoints of IDR v1 and `/idr/at` alert details (reference §4), in the
/// shapes of the IDR plugin's recorded answers (unit_test/payloads and unit_test/parameters).
extension EmulatorState {
    /// Bounds per organization (ASSUMED; the platform publishes none): a tenant's collaboration
    /// state stays small whatever a client sends.
    static let maxComments = 10_000, maxAttachments = 1_000, maxThreats = 1_000, maxIndicators = 100_000

    func creator(_ principal: Principal) -> Creator {
        switch principal.kind {
        case .user(let index):
            let user = tenants[principal.tenant].users[index]
            return Creator(type: "USER", name: "\(user.firstName) \(user.lastName)")
        case .organization, .anonymous: return Creator(type: "API_KEY", name: principal.keyID)
        }
    }

    mutating func collaborationRRN(_ tenant: Int, _ kind: String) -> String {
        let region = tenants[tenant].region.code, organization = tenants[tenant].organizationID
        return "rrn:collaboration:\(region):\(organization):\(kind):" + random.token(length: 12)
    }

    /// The body as a JSON object, or the 400 that says it is not one.
    mutating func objectBody(_ request: HTTPRequest) -> Result<JSON, HTTPResponse> {
        guard let body = JSON(data: request.body), case .object = body else {
            return .failure(badRequest("the body must be a JSON object"))
        }
        return .success(body)
    }

    // MARK: Comments

    static func commentJSON(_ comment: Comment, attachments: [Attachment]?) -> JSON {
        var json: [String: JSON] = [
            "created_time": .string(RFC3339.format(comment.createdTime, millis: true)), "rrn": .string(comment.rrn),
            "target": .string(comment.target), "creator": comment.creator.json,
            "body": comment.body.map(JSON.string) ?? .null, "visibility": "PUBLIC",
        ]
        // create_comment.json.resp carries the attachments; list_comments.json.resp does not.
        if let attachments { json["attachments"] = .array(attachments.map(attachmentJSON)) }
        return .object(json)
    }

    /// `GET /idr/v1/comments?target=RRN&index=&size=` → `{data, metadata}`, oldest first.
    mutating func listComments(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        guard let target = request.queryValue("target"), !target.isEmpty else { return badRequest("target is required: the rrn of an investigation") }
        let paging: (index: Int, size: Int)
        switch self.paging(request) {
        case .success(let found): paging = found
        case .failure(let response): return response
        }
        let mine = tenants[tenant].comments.filter { $0.target == target }
        return .json(200, Self.page(mine.map { Self.commentJSON($0, attachments: nil) }, index: paging.index, size: paging.size))
    }

    /// `POST /idr/v1/comments` with `{target, body, attachments: [rrn]}`: a body, attachments or
    /// both; the target an investigation of this organization.
    mutating func createComment(_ request: HTTPRequest, _ principal: Principal, now: Date) -> HTTPResponse {
        let tenant = principal.tenant
        let body: JSON
        switch objectBody(request) {
        case .success(let found): body = found
        case .failure(let response): return response
        }
        guard let target = body["target"]?.stringValue, !target.isEmpty else { return badRequest("target is required: the rrn of an investigation") }
        guard investigationIndex(tenant, target) != nil else { return error(404, "Investigation not found", .platform) }
        let text = body["body"]?.stringValue
        let rrns = body["attachments"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if (text ?? "").isEmpty, rrns.isEmpty { return badRequest("a comment needs a body or attachments") }
        var attached: [Attachment] = []
        for rrn in rrns {
            guard let found = tenants[tenant].attachments.first(where: { $0.rrn == rrn }) else { return error(404, "Attachment not found: \(rrn)", .platform) }
            attached.append(found)
        }
        guard tenants[tenant].comments.count < Self.maxComments else { return error(409, "Too many comments in this organization", .platform) }
        let comment = Comment(rrn: collaborationRRN(tenant, "comment"), target: target, body: text, creator: creator(principal),
                              createdTime: now, attachments: rrns)
        tenants[tenant].comments.append(comment)
        return .json(200, Self.commentJSON(comment, attachments: attached))
    }

    /// `DELETE /idr/v1/comments/{rrn}` → 204 (ASSUMED: the plugin checks only for success).
    mutating func deleteComment(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let index = tenants[tenant].comments.firstIndex(where: { $0.rrn == match.param("rrn") }) else {
            return error(404, "Comment not found", .platform)
        }
        tenants[tenant].comments.remove(at: index)
        return HTTPResponse(status: 204)
    }

    // MARK: Attachments

    static func attachmentJSON(_ attachment: Attachment) -> JSON {
        ["rrn": .string(attachment.rrn), "creator": attachment.creator.json,
         "created_time": .string(RFC3339.format(attachment.createdTime, millis: true)),
         "file_name": .string(attachment.fileName), "mime_type": .string(attachment.mimeType),
         "size": .int(Int64(attachment.data.count)), "scan_status": "CLEAN"]
    }

    /// `POST /idr/v1/attachments`, multipart with the file in part `filedata` (reference §4).
    mutating func uploadAttachment(_ request: HTTPRequest, _ principal: Principal, now: Date) -> HTTPResponse {
        guard let boundary = MultipartForm.boundary(request.headers["Content-Type"]) else {
            return badRequest("the body must be multipart/form-data with a boundary, the file in part filedata")
        }
        let parts: [FormPart]
        do { parts = try MultipartForm.parts(request.body, boundary: boundary) } catch { return badRequest("multipart body: \(error)") }
        guard let file = parts.first(where: { $0.name == "filedata" }) else { return badRequest("no part named filedata") }
        let tenant = principal.tenant
        guard tenants[tenant].attachments.count < Self.maxAttachments else { return error(409, "Too many attachments in this organization", .platform) }
        let name = file.filename.flatMap { $0.isEmpty ? nil : $0 } ?? "attachment"
        let attachment = Attachment(rrn: collaborationRRN(tenant, "attachment"), fileName: name,
                                    mimeType: file.contentType ?? Self.mimeType(name), data: file.data,
                                    creator: creator(principal), createdTime: now)
        tenants[tenant].attachments.append(attachment)
        return .json(200, Self.attachmentJSON(attachment))
    }

    /// A MIME type from a file name, for uploads that name none (ASSUMED).
    static func mimeType(_ fileName: String) -> String {
        switch (fileName as NSString).pathExtension.lowercased() {
        case "txt", "log": return "text/plain"
        case "json": return "application/json"
        case "csv": return "text/csv"
        case "pdf": return "application/pdf"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        default: return "application/octet-stream"
        }
    }

    /// `GET /idr/v1/attachments?target=&index=&size=`: the organization's attachments, or those
    /// of the comments on one target (ASSUMED filter).
    mutating func listAttachments(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let paging: (index: Int, size: Int)
        switch self.paging(request) {
        case .success(let found): paging = found
        case .failure(let response): return response
        }
        var mine = tenants[tenant].attachments
        if let target = request.queryValue("target"), !target.isEmpty {
            let rrns = Set(tenants[tenant].comments.filter { $0.target == target || $0.rrn == target }.flatMap(\.attachments))
            mine = mine.filter { rrns.contains($0.rrn) }
        }
        return .json(200, Self.page(mine.map(Self.attachmentJSON), index: paging.index, size: paging.size))
    }

    /// `GET /idr/v1/attachments/{rrn}`: the file itself; `…/metadata`: its description.
    mutating func getAttachment(_ match: RouteMatch, tenant: Int, metadata: Bool) -> HTTPResponse {
        guard let attachment = tenants[tenant].attachments.first(where: { $0.rrn == match.param("rrn") }) else {
            return error(404, "Attachment not found", .platform)
        }
        if metadata { return .json(200, Self.attachmentJSON(attachment)) }
        return HTTPResponse(status: 200, headers: [
            "Content-Type": attachment.mimeType,
            "Content-Disposition": "attachment; filename=\"\(attachment.fileName.replacingOccurrences(of: "\"", with: ""))\"",
        ], body: attachment.data)
    }

    mutating func deleteAttachment(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let index = tenants[tenant].attachments.firstIndex(where: { $0.rrn == match.param("rrn") }) else {
            return error(404, "Attachment not found", .platform)
        }
        let rrn = tenants[tenant].attachments.remove(at: index).rrn
        for position in tenants[tenant].comments.indices { tenants[tenant].comments[position].attachments.removeAll { $0 == rrn } }
        return HTTPResponse(status: 204)
    }

    // MARK: Bulk close, product alerts

    /// The alerts of the investigation at `position`: its generated ones side by side (see
    /// `AlertRecipe`), then explicit ones naming its rrn.
    func investigationAlerts(_ tenant: Int, position: Int) -> [Alert] {
        let alerts = tenants[tenant].alerts
        var mine: [Alert] = []
        if let recipe = alerts.recipe, position < recipe.investigations.count,
           recipe.investigations.count == tenants[tenant].investigations.generatedCount {
            mine = (position * recipe.perInvestigation..<(position + 1) * recipe.perInvestigation).map { alerts[$0] }
        }
        let rrn = tenants[tenant].investigations[position].rrn
        return mine + alerts[alerts.generatedCount...].filter { $0.investigationRRN == rrn }
    }

    /// `POST /idr/v1/investigations/bulk_close` with `{source, from, to, alert_type?,
    /// max_investigations_to_close?}` → `{ids, num_closed}` (IDR plugin
    /// close_investigations_in_bulk.json.resp; XSOAR). Closes the open investigations of that
    /// source created in [from, to); reads only inside those bounds. ASSUMED: alert_type matches
    /// the type of the investigation's alerts; at most 10,000 a call (default 1,000).
    mutating func bulkClose(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let body: JSON
        switch objectBody(request) {
        case .success(let found): body = found
        case .failure(let response): return response
        }
        // MANUAL is what clients send for investigations people opened (the IDR plugin's default);
        // ASSUMED the same investigations as v1's USER source.
        guard let source = body["source"]?.stringValue?.uppercased(), ["MANUAL", "USER", "ALERT", "HUNT", "AUTOMATION"].contains(source) else {
            return badRequest("source is required: MANUAL, ALERT, HUNT, AUTOMATION or USER")
        }
        let sources: Set<String> = source == "MANUAL" || source == "USER" ? ["MANUAL", "USER"] : [source]
        guard let fromText = body["from"]?.stringValue, let from = Self.parseTime(fromText),
              let toText = body["to"]?.stringValue, let to = Self.parseTime(toText), from < to
        else { return badRequest("from and to are required, like 2026-01-01T00:00:00Z, from before to") }
        let limit = body["max_investigations_to_close"]?.intValue ?? 1_000
        guard (1...10_000).contains(limit) else { return badRequest("max_investigations_to_close must be between 1 and 10000") }
        let alertType = body["alert_type"]?.stringValue
        let investigations = tenants[tenant].investigations
        var query = TimeOrdered(records: investigations, generatedTime: { investigations.recipe.unsafelyUnwrapped.time(at: $0) },
                                time: \.createdTime)
        query.lower = .init(time: from, inclusive: true)
        query.upper = .init(time: to, inclusive: false)
        query.filter = { sources.contains($0.source) && $0.status != "CLOSED" }
        var positions: [Int] = []
        var offset = 0
        while positions.count < limit {
            let batch = query.pagePositions(offset: offset, limit: 1_000).positions
            if batch.isEmpty { break }
            offset += batch.count
            for position in batch where positions.count < limit {
                if let alertType, !investigationAlerts(tenant, position: position).contains(where: { $0.alertType.equalsIgnoringCase(alertType) }) {
                    continue
                }
                positions.append(position)
            }
        }
        var ids: [String] = []
        for position in positions {
            var item = tenants[tenant].investigations[position]
            item.status = "CLOSED"
            tenants[tenant].investigations[position] = item
            ids.append(item.id)
        }
        return .json(200, ["ids": .array(ids.map(JSON.string)), "num_closed": .int(Int64(ids.count))])
    }

    /// `GET /idr/v1/investigations/{id}/product_alerts`: the alerts other Rapid7 products raised
    /// for it, a bare list (XSOAR test_data/get_investigation_product_alerts.json). ASSUMED: one
    /// investigation in four carries an Insight Agent prevention, fixed by its rrn.
    mutating func productAlerts(_ match: RouteMatch, tenant: Int) -> HTTPResponse {
        guard let index = investigationIndex(tenant, match.param("id")) else { return error(404, "Investigation not found", .platform) }
        let investigation = tenants[tenant].investigations[index]
        let digest = stableHash(investigation.rrn)
        guard digest % 4 == 0 else { return .json(200, []) }
        return .json(200, [[
            "type": "INSIGHT_AGENT",
            "insight_agent_details": [["alert_id": .string(investigation.id), "alert_type": "Endpoint Prevention",
                                       "agent_action_taken": digest % 8 == 0 ? "Block" : "Quarantine"]],
        ]])
    }
}
