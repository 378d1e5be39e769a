import Foundation
import InsightCore

/// The standard log sets of an InsightIDR organization (their names are what clients look logs
/// up by: the IDR plugin's "Could not find log set with name: Asset Authentication"), each with
/// events shaped like that set's. Field names follow the recorded events where there are some
/// (Asset Authentication: the IDR plugin's log_id5.json.resp; Ingress Authentication: the alert
/// evidence of test_get_alert_evidence_minimum.json.resp; DNS Query: InsightIDR4Py's README);
/// the other sets' fields are ASSUMED from IDR's documentation of them.
public enum IDRLogSet: String, CaseIterable, Sendable {
    case assetAuthentication = "Asset Authentication"
    case adAdminActivity = "Active Directory Admin Activity"
    case ingressAuthentication = "Ingress Authentication"
    case firewallActivity = "Firewall Activity"
    case dnsQuery = "DNS Query"
    case webProxy = "Web Proxy"
    case endpointActivity = "Endpoint Activity"

    public var description: String {
        switch self {
        case .assetAuthentication: return "Authentications to assets: domain controller logons, local logons and their results"
        case .adAdminActivity: return "Changes to Active Directory: accounts created, enabled, reset and added to groups"
        case .ingressAuthentication: return "Authentications from outside the network: VPN, cloud services and single sign-on"
        case .firewallActivity: return "Connections allowed and denied by the firewalls"
        case .dnsQuery: return "DNS queries made by assets"
        case .webProxy: return "Web requests through the proxies"
        case .endpointActivity: return "Process starts and other activity reported by the Insight Agent"
        }
    }

    /// The event sources a set's logs are named after.
    var logNames: [String] {
        switch self {
        case .assetAuthentication: return ["Domain Controllers", "Windows Servers"]
        case .adAdminActivity: return ["Domain Controller Admin Events"]
        case .ingressAuthentication: return ["Office 365", "VPN Gateway", "Okta"]
        case .firewallActivity: return ["Edge Firewall", "Datacenter Firewall"]
        case .dnsQuery: return ["Microsoft DNS"]
        case .webProxy: return ["Web Proxy"]
        case .endpointActivity: return ["Insight Agent"]
        }
    }

    static let people = ["alice", "bob", "carol", "dave", "erin", "svc-backup", "administrator"]
    static let domains = [("rapid7.com", "com"), ("example.org", "org"), ("update.microsoft.com", "com"),
                          ("cdn.example.net", "net"), ("regulationprivilegescan.top", "top"), ("intranet.corp.example", "example")]

    /// One event's message: a JSON object with sorted keys, its `timestamp` the event's.
    func message(_ random: inout SeededRandom, millis: Int64) -> String {
        let time = JSON.string(Date(timeIntervalSince1970: Double(millis) / 1000).iso8601Millis)
        let user = pick(Self.people, &random)
        let host = "host-\(random.next() % 900 + 100)"
        let inside = "10.4.\(random.next() % 32).\(random.next() % 250 + 1)"
        let outside = "203.0.113.\(random.next() % 250 + 1)"
        let ok = random.next() % 5 != 0
        let message: JSON
        switch self {
        case .assetAuthentication:
            let network = random.next() % 3 != 0
            message = [
                "timestamp": time, "destination_account": .string(user), "destination_domain": "CORP",
                "destination_asset": .string(host), "destination_asset_address": .string(inside),
                "source_asset_address": .string("10.4.\(random.next() % 32).\(random.next() % 250 + 1)"),
                "logon_type": .string(network ? "NETWORK" : "INTERACTIVE"), "result": .string(ok ? "SUCCESS" : "FAILED_BAD_PASSWORD"),
                "service": .string(network ? "ntlmssp" : "kerberos"),
                "source_json": ["computerName": .string("\(host).corp.example"), "eventCode": .int(ok ? 4624 : 4625)],
            ]
        case .adAdminActivity:
            let (action, code) = pick([("ACCOUNT_CREATED", 4720), ("PASSWORD_RESET", 4724), ("ACCOUNT_ENABLED", 4722), ("GROUP_MEMBER_ADDED", 4728)], &random)
            message = [
                "timestamp": time, "source_account": "administrator", "target_account": .string(user), "domain": "CORP",
                "action": .string(action), "result": "SUCCESS", "source_json": ["eventCode": .int(Int64(code)), "computerName": "dc01.corp.example"],
            ]
        case .ingressAuthentication:
            let (city, country) = pick([("Boston", "US"), ("Belfast", "GB"), ("Toronto", "CA"), ("Sydney", "AU")], &random)
            message = [
                "timestamp": time, "user": .string(user), "account": .string("\(user)@corp.example"),
                "result": .string(ok ? "SUCCESS" : "FAILED_BAD_LOGIN"), "source_ip": .string(outside),
                "service": .string(pick(["o365", "vpn", "okta"], &random)), "geoip_city": .string(city), "geoip_country_code": .string(country),
            ]
        case .firewallActivity:
            message = [
                "timestamp": time, "source_address": .string(inside), "source_port": .int(Int64(random.next() % 40_000 + 1024)),
                "destination_address": .string(outside), "destination_port": .int(Int64(pick([443, 80, 22, 3389, 53], &random))),
                "protocol": .string(pick(["TCP", "TCP", "UDP"], &random)), "connection_status": .string(ok ? "ACCEPT" : "DENY"),
                "outgoing_bytes": .int(Int64(random.next() % 50_000)), "incoming_bytes": .int(Int64(random.next() % 500_000)),
                "device": "fw-edge-01",
            ]
        case .dnsQuery:
            let (domain, suffix) = pick(Self.domains, &random)
            message = [
                "timestamp": time, "asset": .string("\(host).corp.example"), "source_address": .string(inside),
                "query": .string(domain), "public_suffix": .string(suffix),
                "top_private_domain": .string(domain.split(separator: ".").suffix(2).joined(separator: ".")),
                "query_type": .string(pick(["A", "A", "AAAA", "MX", "TXT"], &random)),
            ]
        case .webProxy:
            let (domain, _) = pick(Self.domains, &random)
            message = [
                "timestamp": time, "user": .string(user), "source_ip": .string(inside),
                "url": .string("https://\(domain)/\(pick(["", "login", "download/setup.exe", "api/v1/items"], &random))"),
                "http_method": .string(pick(["GET", "GET", "POST"], &random)), "http_status": .int(ok ? 200 : 403),
                "outgoing_bytes": .int(Int64(random.next() % 5_000)), "incoming_bytes": .int(Int64(random.next() % 900_000)),
                "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            ]
        case .endpointActivity:
            let (name, command) = pick([("powershell.exe", "powershell.exe -NoProfile -EncodedCommand SQBFAFgA"),
                                        ("cmd.exe", "cmd.exe /c whoami"), ("chrome.exe", "chrome.exe --type=renderer"),
                                        ("svchost.exe", "svchost.exe -k netsvcs")], &random)
            message = [
                "timestamp": time, "asset": .string("\(host).corp.example"), "user": .string(user),
                "process": ["name": .string(name), "cmd_line": .string(command), "exe_path": .string("C:\\Windows\\System32\\\(name)"),
                            "hash": ["sha256": .string(String(format: "%016llx%016llx%016llx%016llx", random.next(), random.next(), random.next(), random.next()))]],
                "parent_process": ["name": .string(pick(["explorer.exe", "services.exe", "winword.exe"], &random))],
            ]
        }
        return String(decoding: message.encoded(), as: UTF8.self)
    }
}

/// A saved Log Search query (`GET /query/saved_queries[/{id}]`; IDR plugin
/// get_all_saved_queries.json.resp).
public struct SavedQuery: Sendable, Hashable {
    public var id: String
    public var name: String
    public var statement: String
    public var timeRange: String
    public var logs: [String]

    var json: JSON {
        // ASSUMED: a saved relative range has no from/to of its own (the recording's are placeholders).
        ["id": .string(id), "name": .string(name), "logs": .array(logs.map(JSON.string)),
         "leql": ["statement": .string(statement), "during": ["from": .null, "to": .null, "time_range": .string(timeRange)]]]
    }
}

extension Tenant {
    /// Three saved queries over the organization's logs, fixed by its id: failures today, the
    /// busiest users this week, and yesterday's count (ASSUMED examples).
    func savedQueries() -> [SavedQuery] {
        guard !logSources.isEmpty else { return [] }
        var random = SeededRandom(seed: 0, label: "\(organizationID)/saved-queries")
        let logs = logSources.map(\.id)
        return [
            SavedQuery(id: random.uuid(), name: "Failures today", statement: "where(result!=SUCCESS)", timeRange: "today", logs: logs),
            SavedQuery(id: random.uuid(), name: "Busiest users this week", statement: "groupby(user) limit(10)", timeRange: "last 7 days", logs: logs),
            SavedQuery(id: random.uuid(), name: "Events yesterday", statement: "calculate(count)", timeRange: "yesterday", logs: logs),
        ]
    }
}
