import Foundation
import InsightCore

/// Seeded generators for tenant data: the same seed gives the same investigations and logs.
public struct DataGenerator: Sendable {
    private var random: SeededRandom

    public init(seed: UInt64, label: String) {
        random = SeededRandom(seed: seed, label: label)
    }

    public mutating func uuid() -> String { random.uuid() }

    /// `count` investigations created evenly over the `spreadDays` before `now`, newest last.
    public mutating func investigations(count: Int, region: Region, organizationID: String, now: Date,
                                        spreadDays: Double) -> [Investigation]
    {
        let statuses = ["OPEN", "INVESTIGATING", "WAITING", "CLOSED"]
        let priorities = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
        let sources = ["ALERT", "USER", "HUNT", "AUTOMATION"]
        let titles = ["Suspicious Authentication", "Lateral Movement", "Account Created", "Malware Detected",
                      "Brute Force Against Local Account", "Ingress From Disabled Account"]
        let span = spreadDays * 86_400
        return (0..<count).map { index in
            let offset = count == 1 ? 0 : span * Double(count - 1 - index) / Double(count - 1)
            let created = now.addingTimeInterval(-offset - 60)
            let suffix = random.token(length: 12)
            return Investigation(
                id: random.uuid(),
                rrn: "rrn:investigation:\(region.code):\(organizationID):investigation:\(suffix)",
                title: "\(titles[index % titles.count]) #\(index + 1)",
                status: statuses[Int(random.next() % 4)],
                priority: priorities[Int(random.next() % 4)],
                source: sources[Int(random.next() % 4)],
                disposition: "UNDECIDED",
                assigneeEmail: nil, assigneeName: nil,
                createdTime: created)
        }
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
}
