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

    private mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    /// `count` items spread evenly over the `spreadDays` before `now`, oldest first; one minute
    /// before `now` for the newest, so "the last 28 days" includes it.
    private func times(count: Int, now: Date, spreadDays: Double) -> [Date] {
        let span = spreadDays * 86_400
        return (0..<count).map { index in
            let offset = count == 1 ? 0 : span * Double(count - 1 - index) / Double(count - 1)
            return now.addingTimeInterval(-offset - 60)
        }
    }

    public mutating func investigations(count: Int, region: Region, organizationID: String, now: Date,
                                        spreadDays: Double) -> [Investigation]
    {
        let titles = ["Suspicious Authentication", "Lateral Movement", "Account Created", "Malware Detected",
                      "Brute Force Against Local Account", "Ingress From Disabled Account"]
        return times(count: count, now: now, spreadDays: spreadDays).enumerated().map { index, created in
            Investigation(
                id: random.uuid(),
                rrn: "rrn:investigation:\(region.code):\(organizationID):investigation:\(random.token(length: 12))",
                title: "\(titles[index % titles.count]) #\(index + 1)",
                status: pick(["OPEN", "INVESTIGATING", "WAITING", "CLOSED"]),
                priority: pick(["LOW", "MEDIUM", "HIGH", "CRITICAL"]),
                source: pick(["ALERT", "USER", "HUNT", "AUTOMATION"]),
                disposition: "UNDECIDED", assigneeEmail: nil, assigneeName: nil, createdTime: created)
        }
    }

    /// `perInvestigation` alerts for each investigation, created just before it.
    public mutating func alerts(for investigations: [Investigation], perInvestigation: Int, region: Region,
                                organizationID: String) -> [Alert]
    {
        let types = [("Suspicious Authentication", "A user authenticated from an unusual location"),
                     ("Lateral Movement - Domain Credentials", "Domain credentials used on a new host"),
                     ("Attacker Behavior Analytics", "Known attacker behaviour detected")]
        var alerts: [Alert] = []
        for investigation in investigations {
            for index in 0..<perInvestigation {
                let (type, description) = types[(alerts.count + index) % types.count]
                let created = investigation.createdTime.addingTimeInterval(-Double(perInvestigation - index) * 30)
                alerts.append(Alert(
                    id: random.uuid(),
                    rrn: "rrn:alerts:\(region.code):\(organizationID):alert:1:\(random.token(length: 20))",
                    investigationRRN: investigation.rrn, title: "\(type) on host-\(alerts.count + 1)",
                    alertType: type, alertTypeDescription: description,
                    priority: pick(["LOW", "MEDIUM", "HIGH", "CRITICAL"]), status: "OPEN",
                    createdTime: created, firstEventTime: created.addingTimeInterval(-120),
                    latestEventTime: created.addingTimeInterval(-10),
                    detectionRuleRRN: "rrn:detection:\(region.code):\(organizationID):detection-rule:\(random.token(length: 12))"))
            }
        }
        return alerts
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
    /// (`user`, `action`, `result`, `source_ip`, `bytes`).
    public mutating func logEvents(for logs: [LogSource], perLog: Int, now: Date, spreadDays: Double) -> [String: [LogSearchEvent]] {
        var sequence: Int64 = 2_234_733_321_019_952_220
        var events: [String: [LogSearchEvent]] = [:]
        for log in logs {
            events[log.id] = times(count: perLog, now: now, spreadDays: spreadDays).map { time in
                sequence += Int64(random.next() % 1000) + 1
                let message: JSON = [
                    "user": .string(pick(["alice", "bob", "carol", "svc-backup", "admin"])),
                    "action": .string(pick(["login", "logout", "file_read", "file_write", "vpn_connect"])),
                    "result": .string(pick(["SUCCESS", "SUCCESS", "SUCCESS", "FAILED"])),
                    "source_ip": .string("10.0.\(random.next() % 255).\(random.next() % 255)"),
                    "bytes": .int(Int64(random.next() % 100_000)),
                ]
                return LogSearchEvent(logID: log.id, timestamp: time.unixMillis, sequenceNumber: sequence,
                                message: String(decoding: message.encoded(), as: UTF8.self))
            }
        }
        return events
    }

    /// `count` audit events whose `message` carries every field of Panther's `Rapid7.AuditLog`
    /// schema (seeds/002); `time` and `service_info.event.timestamp` equal the event's timestamp.
    public mutating func auditEvents(logID: String, count: Int, users: [User], organizationID: String, now: Date,
                                     spreadDays: Double) -> [LogSearchEvent]
    {
        let actions = [("LOG_CREATED", "Log Search", "Log created"), ("ACTIVATE_COLLECTOR", "InsightIDR", "Collector activated"),
                       ("COPY_EVENT_SOURCES", "InsightIDR", "Event sources copied"), ("USER_LOGIN", "Platform", "User logged in"),
                       ("API_KEY_CREATED", "Platform", "API key created")]
        var sequence: Int64 = 3_114_733_321_019_952_000
        let people = users.isEmpty ? [User(email: "admin@example.com", firstName: "Ada", lastName: "Admin")] : users
        return times(count: count, now: now, spreadDays: spreadDays).map { time in
            sequence += Int64(random.next() % 1000) + 1
            let (action, product, description) = pick(actions)
            let user = pick(people)
            let viaKey = random.next() % 3 == 0
            let millis = time.unixMillis
            let message: JSON = [
                "action": .string(action),
                "audit_id": .string(random.uuid()),
                "result": .string(pick(["SUCCESS", "SUCCESS", "FAILURE"])),
                "access_method": .string(viaKey ? "API_KEY" : "UI"),
                "product": .string(product),
                "description": .string(description),
                "service_info": [
                    "previousEntry": .null,
                    "event": [
                        "type": .string(action),
                        "correlationId": .string(random.uuid()),
                        "customerId": .string(organizationID),
                        "updatedBy": .string(user.email),
                        "initiatorIdentification": [
                            "email": .string(user.email),
                            "userId": .string(random.uuid()),
                            "apiKeyId": viaKey ? .string(random.uuid()) : .null,
                            "automatedFlowName": .null,
                            "customerId": .string(organizationID),
                        ],
                        "timestamp": .int(millis),
                    ],
                    "type": "AUDIT",
                ],
                "time": .string(Date(timeIntervalSince1970: Double(millis) / 1000).iso8601Millis),
                "request": ["user": ["email": .string(user.email), "name": .string("\(user.firstName) \(user.lastName)")]],
            ]
            return LogSearchEvent(logID: logID, timestamp: millis, sequenceNumber: sequence,
                            message: String(decoding: message.encoded(), as: UTF8.self))
        }
    }

    /// `count` accounts for `/idr/v1/accounts`.
    public mutating func accounts(count: Int, region: Region, organizationID: String) -> [Account] {
        (0..<count).map { index in
            Account(rrn: "rrn:uba:\(region.code):\(organizationID):account:\(random.token(length: 12))",
                    name: "user\(index + 1)", domain: "CORP", disabled: index % 7 == 6)
        }
    }
}
