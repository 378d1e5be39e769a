import Foundation
import InsightCore

/// Seeded generators for tenant data: the same seed gives the same investigations, alerts,
/// logs, audit events and workflows on every machine.
public struct DataGenerator: Sendable {
    private var random: SeededRandom

    public init(seed: UInt64, label: String) {
        random = SeededRandom(seed: seed, label: label)
    }

    public mutating func uuid() -> String { random.uuid() }

    /// `count` investigations spread over the `spreadDays` before `now`, oldest first, made on demand.
    public mutating func investigations(count: Int, region: Region, organizationID: String, now: Date,
                                        spreadDays: Double) -> Investigations
    {
        Investigations(recipe: InvestigationRecipe(count: count, key: random.next(), region: region, organizationID: organizationID,
                                                   now: now, spreadDays: spreadDays))
    }

    /// `perInvestigation` alerts for each investigation, created just before it. Generated
    /// investigations get generated alerts; explicit ones get explicit alerts.
    public mutating func alerts(for investigations: Investigations, perInvestigation: Int, region: Region,
                                organizationID: String) -> Alerts
    {
        let key = random.next()
        if perInvestigation == 0 { return [] }
        if let recipe = investigations.recipe, investigations.explicit.isEmpty, investigations.edits.isEmpty {
            return Alerts(recipe: AlertRecipe(investigations: recipe, perInvestigation: perInvestigation, key: key))
        }
        var alerts: [Alert] = []
        for (position, investigation) in investigations.enumerated() {
            let single = InvestigationRecipe(count: 1, key: key, region: region, organizationID: organizationID,
                                             now: investigation.createdTime.addingTimeInterval(60), spreadDays: 0)
            let recipe = AlertRecipe(investigations: single, perInvestigation: perInvestigation, key: key ^ UInt64(position))
            for index in 0..<perInvestigation {
                var alert = recipe.record(at: index)
                alert.investigationRRN = investigation.rrn
                alerts.append(alert)
            }
        }
        return Alerts(alerts)
    }

    /// `count` Log Search logs in one logset.
    public mutating func logSources(count: Int) -> [LogSource] {
        let names = ["Active Directory", "Firewall", "DNS", "DHCP", "Endpoint Agent", "VPN", "Web Proxy"]
        let logsetID = random.uuid()
        return (0..<count).map { index in
            LogSource(id: random.uuid(), name: "\(names[index % names.count]) \(index + 1)",
                      logsetID: logsetID, logsetName: "Security Logs")
        }
    }

    /// `perLog` events per log, JSON messages with fields LEQL can match
    /// (`user`, `action`, `result`, `source_ip`, `bytes`), made on demand. Each log's sequence
    /// numbers have a range of their own.
    /// Each log's events: shaped like its IDR log set's when it is in one, else generic security events.
    public mutating func logEvents(for logs: [LogSource], perLog: Int, now: Date, spreadDays: Double) -> [String: LogEvents] {
        var events: [String: LogEvents] = [:]
        for (ordinal, log) in logs.enumerated() {
            events[log.id] = LogEvents(recipe: EventRecipe(
                count: perLog, key: random.next(), logID: log.id, now: now, spreadDays: spreadDays,
                sequenceBase: 2_234_733_321_019_952_220 + Int64(ordinal) << 40,
                kind: IDRLogSet(rawValue: log.logsetName).map(EventRecipe.Kind.idr) ?? .security))
        }
        return events
    }

    /// `count` logs in IDR's standard log sets, one log set each in turn ("Asset Authentication",
    /// "Active Directory Admin Activity", …), named after their event sources.
    public mutating func idrLogSources(count: Int) -> [LogSource] {
        let sets = IDRLogSet.allCases
        let logsetIDs = sets.map { _ in random.uuid() }
        return (0..<count).map { index in
            let set = sets[index % sets.count]
            let round = index / sets.count
            let base = set.logNames[round % set.logNames.count]
            let name = round < set.logNames.count ? base : "\(base) \(round / set.logNames.count + 1)"
            return LogSource(id: random.uuid(), name: name, logsetID: logsetIDs[index % sets.count], logsetName: set.rawValue)
        }
    }

    /// `count` audit events whose `message` carries every field of Panther's `Rapid7.AuditLog`
    /// schema (seeds/002); `time` and `service_info.event.timestamp` equal the event's timestamp.
    public mutating func auditEvents(logID: String, count: Int, users: [User], organizationID: String, now: Date,
                                     spreadDays: Double) -> LogEvents
    {
        let people = users.isEmpty ? [User(email: "admin@example.com", firstName: "Ada", lastName: "Admin")] : users
        return LogEvents(recipe: EventRecipe(
            count: count, key: random.next(), logID: logID, now: now, spreadDays: spreadDays,
            sequenceBase: 3_114_733_321_019_952_000, kind: .audit(people: people, organizationID: organizationID)))
    }

    /// `count` accounts for `/idr/v1/accounts`.
    public mutating func accounts(count: Int, region: Region, organizationID: String) -> [Account] {
        (0..<count).map { index in
            Account(rrn: "rrn:uba:\(region.code):\(organizationID):account:\(random.token(length: 12))",
                    name: "user\(index + 1)", domain: "CORP", disabled: index % 7 == 6)
        }
    }
}
