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
        case .alertPatch: return patchAlert(match, request, tenant: tenant)
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
        case .threatDelete: return deleteThreat(match, tenant: tenant)
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
        case .queryLogsGet: return startQuery(.keys(match.param("keys")), request, tenant: tenant, context: context, audit: false)
        case .queryLogsPost: return startQuery(.body, request, tenant: tenant, context: context, audit: false)
        case .queryLogset: return startQuery(.logset(match.param("id")), request, tenant: tenant, context: context, audit: false)
        case .queryLogsetsByName:
            // The union of the named log sets' logs (the description: `logset_name` repeated; an
            // unknown name is a 404).
            let names = request.query.filter { $0.name == "logset_name" }.compactMap(\.value)
            guard !names.isEmpty else { return .json(400, ["message": "logset_name is required: the name of a log set (repeat it for several)"]) }
            let logs = tenants[tenant].logSources
            if let unknown = names.first(where: { name in !logs.contains { $0.logsetName == name } }) {
                return .json(404, ["message": .string("Log set '\(unknown)' not found")])
            }
            let keys = logs.filter { names.contains($0.logsetName) }.map(\.id).joined(separator: ":")
            return startQuery(.keys(keys), request, tenant: tenant, context: context, audit: false)
        case .savedQueryRun: return runSavedQuery(match, request, tenant: tenant, context: context)
        case .queryContext(let audit): return queryContext(match, request, tenant: tenant, audit: audit)
        case .queryPoll: return pollQuery(match.param("id"), request, tenant: tenant, context: context, audit: false)
        case .managed(let kind, let verb): return manage(kind, verb, match, request, tenant: tenant, now: context.now)
        case .actionTargets(let modify): return actionTargets(match, request, tenant: tenant, modify: modify)
        case .auditLogsList: return listAuditLogs(tenant: tenant)
        case .auditLogGet: return getAuditLog(match, tenant: tenant)
        case .auditQueryGet: return startQuery(.keys(match.param("keys")), request, tenant: tenant, context: context, audit: true)
        case .auditQueryPost: return startQuery(.body, request, tenant: tenant, context: context, audit: true)
        case .auditPoll: return pollQuery(match.param("id"), request, tenant: tenant, context: context, audit: true)
        }
    }
}
