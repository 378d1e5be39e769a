import Foundation
import InsightCore

/// InsightConnect API triggers (seeds/003, reference §7).
extension EmulatorState {
    /// Runs a workflow's API trigger: the body is the trigger's variables, kept as delivered.
    ///
    /// Legacy `…/workflows/{id}/events/execute` answers 200 (the Splunk app treats anything
    /// else as an error); `…/execute/async/workflows/{id}` answers the documented 202.
    /// ASSUMED: both bodies carry a `job_id`; an inactive workflow answers 400.
    mutating func trigger(_ match: RouteMatch, _ request: HTTPRequest, _ principal: Principal, _ context: RequestContext,
                          style: String) -> HTTPResponse
    {
        let tenant = principal.tenant
        guard let workflow = tenants[tenant].workflows.first(where: { $0.id == match.param("id") }) else {
            return error(404, "Workflow not found", .connect)
        }
        guard workflow.active else { return error(400, "Workflow \(workflow.id) is not active", .connect) }
        if !request.body.isEmpty, JSON(data: request.body) == nil {
            return error(400, "The request body is not valid JSON", .connect)
        }
        let jobID = random.uuid()
        let keyID: String? = principal.keyID.hasPrefix("workflow:") ? context.keyID : principal.keyID
        deliveries.append(Delivery(workflowID: workflow.id, jobID: jobID, time: context.now, style: style, keyID: keyID,
                                   body: String(decoding: request.body, as: UTF8.self)))
        return .json(style == "legacy" ? 200 : 202, ["job_id": .string(jobID)])
    }

    /// `GET /connect/v2/workflows?limit=&offset=` with `data.meta {limit, offset, total}`.
    mutating func listWorkflows(_ request: HTTPRequest, tenant: Int) -> HTTPResponse {
        let limit = request.queryValue("limit").map { Int($0) } ?? 30
        let offset = request.queryValue("offset").map { Int($0) } ?? 0
        guard let limit, (0...30).contains(limit) else { return error(400, "limit must be between 0 and 30", .connect) }
        guard let offset, offset >= 0 else { return error(400, "offset must be 0 or more", .connect) }
        let all = tenants[tenant].workflows
        let region = tenants[tenant].region.code
        let organization = tenants[tenant].organizationID
        let page = all.dropFirst(offset).prefix(limit).map { workflow -> JSON in
            ["id": .string(workflow.id), "rrn": .string("rrn:icon:\(region):\(organization):workflow:\(workflow.id)"),
             "name": .string(workflow.name), "state": .string(workflow.active ? "active" : "inactive")]
        }
        return .json(200, ["data": ["workflows": .array(Array(page)),
                                    "meta": ["limit": .int(Int64(limit)), "offset": .int(Int64(offset)), "total": .int(Int64(all.count))]]])
    }
}
