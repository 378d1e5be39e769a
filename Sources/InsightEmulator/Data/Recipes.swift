import Foundation
import InsightCore

/// A keyed bijection on 48-bit numbers: generated ids and rrns carry their record's index in a
/// form that looks random and decodes in constant time, so `GET …/{id}` needs no index of ids.
struct IndexCipher: Sendable {
    static let mask: UInt64 = (1 << 48) - 1
    private static let multipliers: (UInt64, UInt64) = (0x5DEE_CE66D, 0x2545_F491_4F6C_DD1D)
    private static let inverses = (inverse(multipliers.0), inverse(multipliers.1))
    private let keys: (UInt64, UInt64)

    init(key: UInt64) {
        var random = SeededRandom(seed: key)
        keys = (random.next() & Self.mask, random.next() & Self.mask)
    }

    /// The multiplicative inverse of an odd number modulo 2^64 (Newton's iteration), hence modulo 2^48.
    private static func inverse(_ value: UInt64) -> UInt64 {
        var x = value
        for _ in 0..<6 { x = x &* (2 &- value &* x) }
        return x
    }

    func encode(_ index: Int) -> UInt64 {
        var x = (UInt64(index) ^ keys.0) & Self.mask
        x = (x &* Self.multipliers.0) & Self.mask
        x ^= x >> 24
        x = (x &* Self.multipliers.1) & Self.mask
        return x ^ keys.1
    }

    func decode(_ value: UInt64) -> Int? {
        guard value <= Self.mask else { return nil }
        var x = value ^ keys.1
        x = (x &* Self.inverses.1) & Self.mask
        x ^= x >> 24
        x = (x &* Self.inverses.0) & Self.mask
        return Int(x ^ keys.0)
    }
}

/// Text forms of generated identifiers, made without Foundation formatting (they are made per record).
enum GeneratedID {
    static let hexDigits = Array("0123456789abcdef".utf8)
    /// The rrn alphabet (`B85TT6JKNSG0`): digits and upper-case letters without I, L, O, U.
    static let tokenAlphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    static let tokenValues: [UInt8: UInt64] = Dictionary(uniqueKeysWithValues: tokenAlphabet.enumerated().map { ($1, UInt64($0)) })

    /// A version-4 UUID whose last 12 hex digits are `tail` (48 bits).
    static func uuid(random high: UInt64, _ middle: UInt64, tail: UInt64) -> String {
        let low = (middle << 48) | (tail & IndexCipher.mask)
        var bytes = [UInt8](repeating: UInt8(ascii: "-"), count: 36)
        var position = 0
        for (word, shifts) in [(high, 0..<16), (low, 0..<16)] {
            for nibble in shifts {
                if position == 8 || position == 13 || position == 18 || position == 23 { position += 1 }
                var value = Int((word >> (60 - 4 * UInt64(nibble))) & 0xF)
                if position == 14 { value = 4 }                       // version 4
                if position == 19 { value = 8 | (value & 0x3) }       // RFC 4122 variant
                bytes[position] = hexDigits[value]
                position += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The 48-bit tail of a UUID, if the text is one.
    static func uuidTail(_ text: String) -> UInt64? {
        guard text.utf8.count == 36 else { return nil }
        return UInt64(String(text.suffix(12)), radix: 16)
    }

    /// `length` random rrn characters followed by `value` in 10 characters (50 bits).
    static func token(random: inout SeededRandom, length: Int, value: UInt64?) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length + 10)
        for _ in 0..<length { bytes.append(tokenAlphabet[Int(random.next() & 31)]) }
        if let value {
            for shift in stride(from: 45, through: 0, by: -5) { bytes.append(tokenAlphabet[Int((value >> UInt64(shift)) & 31)]) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The index an id (a UUID) or an rrn (with this prefix) carries, if the record made at that
    /// index really has it (`isMade`): a near miss decodes to some index but is not found.
    static func index(_ identifier: String, rrnPrefix: String, cipher: IndexCipher, count: Int, isMade: (Int) -> Bool) -> Int? {
        let value = identifier.hasPrefix(rrnPrefix) ? identifier.split(separator: ":").last.flatMap(tokenValue) : uuidTail(identifier)
        guard let value, let index = cipher.decode(value), index < count, isMade(index) else { return nil }
        return index
    }

    /// The value carried by the last 10 characters of a token.
    static func tokenValue(_ text: Substring) -> UInt64? {
        let tail = text.utf8.suffix(10)
        guard tail.count == 10 else { return nil }
        var value: UInt64 = 0
        for byte in tail {
            guard let digit = tokenValues[byte] else { return nil }
            value = value << 5 | digit
        }
        return value
    }
}

/// When the `index`-th of `count` items falls: spread evenly over the `span` seconds before
/// `now`, oldest first, the newest one minute before `now` (so "the last 28 days" includes it).
struct Spread: Sendable {
    let count: Int
    let now: Date
    let span: Double

    func time(_ index: Int) -> Date {
        let offset = count == 1 ? 0 : span * Double(count - 1 - index) / Double(count - 1)
        return now.addingTimeInterval(-offset - 60)
    }

    /// Seconds between neighbours (infinite for a single item).
    var spacing: Double { count > 1 ? span / Double(count - 1) : .infinity }
}

/// The record generator's per-record stream: the same key and index give the same record.
func recordRandom(_ key: UInt64, _ index: Int) -> SeededRandom {
    SeededRandom(seed: key ^ (UInt64(index) &* 0xD6E8_FEB8_6659_FD93))
}

func pick<T>(_ items: [T], _ random: inout SeededRandom) -> T { items[Int(random.next() % UInt64(items.count))] }

/// Investigations made on demand (`Records<InvestigationRecipe>`).
public struct InvestigationRecipe: RecordRecipe {
    public let count: Int
    let key: UInt64
    let cipher: IndexCipher
    let region: Region
    let organizationID: String
    let spread: Spread

    static let titles = ["Suspicious Authentication", "Lateral Movement", "Account Created", "Malware Detected",
                         "Brute Force Against Local Account", "Ingress From Disabled Account"]

    init(count: Int, key: UInt64, region: Region, organizationID: String, now: Date, spreadDays: Double) {
        self.count = count
        self.key = key
        cipher = IndexCipher(key: key)
        self.region = region
        self.organizationID = organizationID
        spread = Spread(count: count, now: now, span: spreadDays * 86_400)
    }

    public func time(at index: Int) -> Date { spread.time(index) }

    func rrn(at index: Int) -> String {
        var random = recordRandom(key ^ 0x5151, index)
        return "rrn:investigation:\(region.code):\(organizationID):investigation:"
            + GeneratedID.token(random: &random, length: 2, value: cipher.encode(index))
    }

    public func record(at index: Int) -> Investigation {
        var random = recordRandom(key, index)
        let id = GeneratedID.uuid(random: random.next(), random.next(), tail: cipher.encode(index))
        return Investigation(
            id: id, rrn: rrn(at: index),
            title: "\(Self.titles[index % Self.titles.count]) #\(index + 1)",
            status: pick(["OPEN", "INVESTIGATING", "WAITING", "CLOSED"], &random),
            priority: pick(["LOW", "MEDIUM", "HIGH", "CRITICAL"], &random),
            source: pick(["ALERT", "USER", "HUNT", "AUTOMATION"], &random),
            disposition: "UNDECIDED", assigneeEmail: nil, assigneeName: nil, createdTime: time(at: index))
    }

    /// By id (UUID) or rrn.
    public func index(of identifier: String) -> Int? {
        GeneratedID.index(identifier, rrnPrefix: "rrn:investigation:", cipher: cipher, count: count) { index in
            let made = record(at: index)
            return made.id == identifier || made.rrn == identifier
        }
    }
}

/// Alerts made on demand: `perInvestigation` for each investigation of a generated block,
/// created just before it, so alert `k` belongs to investigation `k / perInvestigation` and
/// alerts are oldest first like their investigations.
public struct AlertRecipe: RecordRecipe {
    public let investigations: InvestigationRecipe
    public let perInvestigation: Int
    let key: UInt64
    let cipher: IndexCipher
    /// Seconds between an investigation's alerts: 30, or less where investigations are closer
    /// together, so that alerts stay in time order.
    let step: Double

    static let types = [("Suspicious Authentication", "A user authenticated from an unusual location"),
                        ("Lateral Movement - Domain Credentials", "Domain credentials used on a new host"),
                        ("Attacker Behavior Analytics", "Known attacker behaviour detected")]

    init(investigations: InvestigationRecipe, perInvestigation: Int, key: UInt64) {
        self.investigations = investigations
        self.perInvestigation = perInvestigation
        self.key = key
        cipher = IndexCipher(key: key)
        step = min(30, investigations.spread.spacing / Double(max(1, perInvestigation)))
    }

    public var count: Int { investigations.count * perInvestigation }

    public func time(at index: Int) -> Date {
        let (owner, number) = index.quotientAndRemainder(dividingBy: perInvestigation)
        return investigations.time(at: owner).addingTimeInterval(-Double(perInvestigation - number) * step)
    }

    public func record(at index: Int) -> Alert {
        let (owner, number) = index.quotientAndRemainder(dividingBy: perInvestigation)
        var random = recordRandom(key, index)
        let (type, description) = Self.types[(index + number) % Self.types.count]
        let created = time(at: index)
        let region = investigations.region.code, organization = investigations.organizationID
        return Alert(
            id: GeneratedID.uuid(random: random.next(), random.next(), tail: cipher.encode(index)),
            // The alerts service writes the first US region as us1 (rrn:alerts:us1:…, IDR plugin
            // unit_test/payloads/test_get_alert_information.json.resp).
            rrn: "rrn:alerts:\(region == "us" ? "us1" : region):\(organization):alert:1:" + GeneratedID.token(random: &random, length: 10, value: cipher.encode(index)),
            investigationRRN: investigations.rrn(at: owner), title: "\(type) on host-\(index + 1)",
            alertType: type, alertTypeDescription: description,
            priority: pick(["LOW", "MEDIUM", "HIGH", "CRITICAL"], &random), status: "OPEN",
            createdTime: created, firstEventTime: created.addingTimeInterval(-120),
            latestEventTime: created.addingTimeInterval(-10),
            detectionRuleRRN: "rrn:detection:\(region):\(organization):detection-rule:" + GeneratedID.token(random: &random, length: 12, value: nil))
    }

    /// By id (UUID) or rrn.
    public func index(of identifier: String) -> Int? {
        GeneratedID.index(identifier, rrnPrefix: "rrn:alerts:", cipher: cipher, count: count) { index in
            let made = record(at: index)
            return made.id == identifier || made.rrn == identifier
        }
    }
}

/// Log Search events made on demand, for one log: a security log's events or the audit log's.
/// Sequence numbers rise with the index, so index order is `(timestamp, sequence_number)` order.
public struct EventRecipe: RecordRecipe {
    public enum Kind: Sendable {
        /// JSON messages with fields LEQL can match (`user`, `action`, `result`, `source_ip`, `bytes`).
        case security
        /// Every field of Panther's `Rapid7.AuditLog` schema (seeds/002).
        case audit(people: [User], organizationID: String)
        /// Events shaped like those of one of IDR's standard log sets.
        case idr(IDRLogSet)
    }

    public let count: Int
    public let logID: String
    let key: UInt64
    let spread: Spread
    let sequenceBase: Int64
    let kind: Kind

    init(count: Int, key: UInt64, logID: String, now: Date, spreadDays: Double, sequenceBase: Int64, kind: Kind) {
        self.count = count
        self.key = key
        self.logID = logID
        spread = Spread(count: count, now: now, span: spreadDays * 86_400)
        self.sequenceBase = sequenceBase
        self.kind = kind
    }

    public func timestamp(at index: Int) -> Int64 { spread.time(index).unixMillis }

    public func sequenceNumber(at index: Int) -> Int64 {
        var random = recordRandom(key ^ 0x5E9, index)
        return sequenceBase + Int64(index) * 1000 + Int64(random.next() % 1000) + 1
    }

    /// The index of the event with this sequence number, if this block made it.
    public func index(ofSequence sequence: Int64) -> Int? {
        guard sequence > sequenceBase else { return nil }
        let index = (sequence - sequenceBase - 1) / 1000
        guard index < count, sequenceNumber(at: Int(index)) == sequence else { return nil }
        return Int(index)
    }

    public func index(of identifier: String) -> Int? { Int64(identifier).flatMap(index(ofSequence:)) }

    public func record(at index: Int) -> LogSearchEvent {
        var random = recordRandom(key, index)
        let millis = timestamp(at: index)
        let message: String
        switch kind {
        case .security: message = Self.securityMessage(&random)
        case .audit(let people, let organizationID): message = Self.auditMessage(&random, millis: millis, people: people, organizationID: organizationID)
        case .idr(let set): message = set.message(&random, millis: millis)
        }
        return LogSearchEvent(logID: logID, timestamp: millis, sequenceNumber: sequenceNumber(at: index), message: message)
    }

    static func securityMessage(_ random: inout SeededRandom) -> String {
        let user = pick(["alice", "bob", "carol", "svc-backup", "admin"], &random)
        let action = pick(["login", "logout", "file_read", "file_write", "vpn_connect"], &random)
        let result = pick(["SUCCESS", "SUCCESS", "SUCCESS", "FAILED"], &random)
        let address = "10.0.\(random.next() % 255).\(random.next() % 255)"
        let bytes = random.next() % 100_000
        // Sorted keys, as the canonical JSON encoder writes them; no value needs escaping.
        return #"{"action":"\#(action)","bytes":\#(bytes),"result":"\#(result)","source_ip":"\#(address)","user":"\#(user)"}"#
    }

    static let auditActions = [("LOG_CREATED", "Log Search", "Log created"), ("ACTIVATE_COLLECTOR", "InsightIDR", "Collector activated"),
                               ("COPY_EVENT_SOURCES", "InsightIDR", "Event sources copied"), ("USER_LOGIN", "Platform", "User logged in"),
                               ("API_KEY_CREATED", "Platform", "API key created")]

    static func auditMessage(_ random: inout SeededRandom, millis: Int64, people: [User], organizationID: String) -> String {
        let (action, product, description) = pick(auditActions, &random)
        let user = pick(people, &random)
        let viaKey = random.next() % 3 == 0
        let message: JSON = [
            "action": .string(action),
            "audit_id": .string(random.uuid()),
            "result": .string(pick(["SUCCESS", "SUCCESS", "FAILURE"], &random)),
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
        return String(decoding: message.encoded(), as: UTF8.self)
    }
}

public typealias Investigations = Records<InvestigationRecipe>
public typealias Alerts = Records<AlertRecipe>
public typealias LogEvents = Records<EventRecipe>
