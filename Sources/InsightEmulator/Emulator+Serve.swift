import Foundation
import InsightCore

extension EmulatorState {
    /// Dispatches an authenticated, authorized request to its handler.
    mutating func serve(_ match: RouteMatch, _ request: HTTPRequest, _ principal: Principal, _ context: inout RequestContext) -> HTTPResponse {
        let tenant = principal.tenant
        switch match.route.endpoint {
        case .validate: return Self.authorized
        case .investigationsList(let version): return listInvestigations(request, tenant: tenant, now: context.now, version: version)
        case .investigationCreate: return createInvestigation(request, tenant: tenant, now: context.now)
        case .investigationSearch: return searchInvestigations(request, tenant: tenant)
        case .investigationGet: return getInvestigation(match, tenant: tenant)
        case .investigationPatch: return patchInvestigation(match, request, tenant: tenant)
        case .investigationSetField(let field): return setInvestigationField(field, match, tenant: tenant)
        case .investigationAssign: return assignInvestigation(match, request, tenant: tenant)
        case .investigationAlerts: return investigationAlerts(match, request, tenant: tenant)
        case .alertSearch: return searchAlerts(request, tenant: tenant, now: context.now)
        case .alertGet: return getAlert(match, tenant: tenant)
        case .alertActors: return alertActors(match, request, tenant: tenant)
        case .alertEvidences: return alertEvidences(match, request, tenant: tenant)
        case .idrUser: return idrUser(match, tenant: tenant)
        case .userSearch: return searchUsers(request, tenant: tenant)
        case .assetGet: return getAsset(match, tenant: tenant)
        case .assetSearch: return searchAssets(request, tenant: tenant)
        case .commentsList: return listComments(request, tenant: tenant)
        case .commentCreate: return createComment(request, principal, now: context.now)
        case .commentDelete: return deleteComment(match, tenant: tenant)
        case .attachmentsList: return listAttachments(request, tenant: tenant)
        case .attachmentUpload: return uploadAttachment(request, principal, now: context.now)
        case .attachmentGet: return getAttachment(match, tenant: tenant, metadata: false)
        case .attachmentMetadata: return getAttachment(match, tenant: tenant, metadata: true)
        case .attachmentDelete: return deleteAttachment(match, tenant: tenant)
        case .threatCreate: return createThreat(request, tenant: tenant)
        case .threatIndicators(let replace): return threatIndicators(match, request, tenant: tenant, replace: replace)
        case .bulkClose: return bulkClose(request, tenant: tenant)
        case .productAlerts: return productAlerts(match, tenant: tenant)
        case .accountGet: return getAccount(match, tenant: tenant)
        case .accountSearch: return searchAccounts(request, tenant: tenant)
        case .accountUsers: return accountUsers(request, tenant: tenant)
        case .triggerLegacy: return trigger(match, request, principal, context, style: "legacy")
        case .triggerAsync: return trigger(match, request, principal, context, style: "async")
        case .workflowsList: return listWorkflows(request, tenant: tenant)
        case .logsList: return .json(200, ["logs": .array(tenants[tenant].logSources.map { Self.logJSON($0, region: tenants[tenant].region) })])
        case .logGet: return getLog(match, tenant: tenant)
        case .logsetsList: return listLogsets(tenant: tenant)
        case .logsetGet: return getLogset(match, tenant: tenant)
        case .labelGet: return getLabel(match)
        case .queryLogsGet: return startQuery(.keys(match.param("keys")), request, tenant: tenant, context: context, audit: false)
        case .queryLogsPost: return startQuery(.body, request, tenant: tenant, context: context, audit: false)
        case .queryLogset: return startQuery(.logset(match.param("id")), request, tenant: tenant, context: context, audit: false)
        case .savedQueries: return .json(200, ["saved_queries": .array(tenants[tenant].savedQueries().map(\.json))])
        case .savedQuery:
            guard let found = tenants[tenant].savedQueries().first(where: { $0.id == match.param("id") }) else {
                return .json(404, ["message": "HTTP 404 Not Found"])  // get_a_saved_query_404.json.resp
            }
            return .json(200, ["saved_query": found.json])
        case .queryPoll: return pollQuery(match.param("id"), request, tenant: tenant, context: context, audit: false)
        case .auditLogsList: return listAuditLogs(tenant: tenant)
        case .auditLogGet: return getAuditLog(match, tenant: tenant)
        case .auditQueryGet: return startQuery(.keys(match.param("keys")), request, tenant: tenant, context: context, audit: true)
        case .auditQueryPost: return startQuery(.body, request, tenant: tenant, context: context, audit: true)
        case .auditPoll: return pollQuery(match.param("id"), request, tenant: tenant, context: context, audit: true)
        }
    }
}
