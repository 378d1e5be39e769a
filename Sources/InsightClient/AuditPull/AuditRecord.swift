import Foundation
import InsightCore

/// One audit event decoded against Panther's `Rapid7.AuditLog` schema (seeds/002).
public struct AuditRecord: Sendable, Hashable {
    public struct Initiator: Sendable, Hashable {
        public var email: String?
        public var userID: String?
        public var apiKeyID: String?
        public var automatedFlowName: String?
        public var customerID: String?
    }

    // Required by the schema.
    public var action: String
    public var auditID: String
    /// `time`, RFC 3339.
    public var time: Date
    // Optional.
    public var result: String?
    public var accessMethod: String?
    public var product: String?
    public var description: String?
    public var previousEntry: JSON?
    public var eventType: String?
    public var correlationID: String?
    public var customerID: String?
    public var updatedBy: String?
    public var initiator: Initiator?
    /// `service_info.event.timestamp`, unix milliseconds.
    public var eventTimestamp: Date?
    public var serviceInfoType: String?
    public var requestUserEmail: String?
    public var requestUserName: String?
    /// Where it sits in the log, for checkpoints.
    public var logTimestamp: Int64
    public var sequenceNumber: Int64
}

extension AuditRecord {
    /// The `Rapid7.AuditLog` schema's field paths (seeds/002), in its order.
    public static let schemaFields = [
        "action", "audit_id", "time", "result", "access_method", "product", "description", "service_info.previousEntry",
        "service_info.event.type", "service_info.event.correlationId", "service_info.event.customerId", "service_info.event.updatedBy",
        "service_info.event.initiatorIdentification.email", "service_info.event.initiatorIdentification.userId",
        "service_info.event.initiatorIdentification.apiKeyId", "service_info.event.initiatorIdentification.automatedFlowName",
        "service_info.event.initiatorIdentification.customerId", "service_info.event.timestamp", "service_info.type",
        "request.user.email", "request.user.name",
    ]

    /// The schema fields this record carries (decoded, not null).
    public var presentFields: Set<String> {
        let values: [String: Bool] = [
            "action": true, "audit_id": true, "time": true, "result": result != nil, "access_method": accessMethod != nil,
            "product": product != nil, "description": description != nil, "service_info.previousEntry": previousEntry != nil,
            "service_info.event.type": eventType != nil, "service_info.event.correlationId": correlationID != nil,
            "service_info.event.customerId": customerID != nil, "service_info.event.updatedBy": updatedBy != nil,
            "service_info.event.initiatorIdentification.email": initiator?.email != nil,
            "service_info.event.initiatorIdentification.userId": initiator?.userID != nil,
            "service_info.event.initiatorIdentification.apiKeyId": initiator?.apiKeyID != nil,
            "service_info.event.initiatorIdentification.automatedFlowName": initiator?.automatedFlowName != nil,
            "service_info.event.initiatorIdentification.customerId": initiator?.customerID != nil,
            "service_info.event.timestamp": eventTimestamp != nil, "service_info.type": serviceInfoType != nil,
            "request.user.email": requestUserEmail != nil, "request.user.name": requestUserName != nil,
        ]
        return Set(values.filter(\.value).keys)
    }
}

extension AuditRecord {
    /// An audit log's event decoded as a puller must: the record, or why the schema refuses it.
    public static func decode(timestamp: Int64, sequenceNumber: Int64, message: String) -> Decoded {
        AuditDecoder.decode(["timestamp": .int(timestamp), "sequence_number": .int(sequenceNumber), "message": .string(message)])
    }
}

extension AuditRecord {
    /// An audit event decoded against the schema: the record, or why the schema refuses it.
    public enum Decoded: Sendable, Hashable {
        case record(AuditRecord)
        case rejected(RejectedRecord)
    }
}

/// A record that could not be decoded, with the reason; never dropped silently.
public struct RejectedRecord: Sendable, Hashable {
    public let sequenceNumber: Int64
    public let timestamp: Int64
    public let reason: String
}

enum AuditDecoder {
    /// Decodes one Log Search event carrying an audit message.
    static func decode(_ event: JSON) -> AuditRecord.Decoded {
        let sequence = Int64(event["sequence_number"]?.intValue ?? event["sequence_number_str"]?.stringValue.flatMap { Int($0) } ?? -1)
        let stamp = Int64(event["timestamp"]?.intValue ?? -1)
        func reject(_ reason: String) -> AuditRecord.Decoded {
            .rejected(RejectedRecord(sequenceNumber: sequence, timestamp: stamp, reason: reason))
        }
        guard sequence >= 0, stamp >= 0 else { return reject("the event has no timestamp or sequence_number") }
        guard let text = event["message"]?.stringValue else { return reject("message is not a string") }
        guard let message = JSON(data: Data(text.utf8)), case .object = message else {
            return reject("message is not a JSON object")
        }
        /// An optional string field's text; `fits` is false when it holds neither a string nor null.
        func string(_ value: JSON?) -> (text: String?, fits: Bool) {
            switch value {
            case nil, .null?: return (nil, true)
            case .string(let text)?: return (text, true)
            default: return (nil, false)
            }
        }
        for name in ["action", "audit_id", "time"] {
            guard case .string(let value)? = message[name], !value.isEmpty else {
                return reject(message[name] == nil ? "missing required field \(name)" : "required field \(name) is not a non-empty string")
            }
        }
        guard let time = RFC3339.parse(message["time"]!.stringValue!) else {
            return reject("time '\(message["time"]!.stringValue!)' is not an RFC 3339 timestamp")
        }
        let serviceEvent = message["service_info"]?["event"]
        var eventTimestamp: Date?
        if let value = serviceEvent?["timestamp"], value != .null {
            guard let millis = value.intValue else { return reject("service_info.event.timestamp is not unix milliseconds") }
            eventTimestamp = Date(timeIntervalSince1970: Double(millis) / 1000)
        }
        var record = AuditRecord(action: message["action"]!.stringValue!, auditID: message["audit_id"]!.stringValue!, time: time,
                                 logTimestamp: stamp, sequenceNumber: sequence)
        let optionals: [(WritableKeyPath<AuditRecord, String?>, JSON?, String)] = [
            (\.result, message["result"], "result"), (\.accessMethod, message["access_method"], "access_method"),
            (\.product, message["product"], "product"), (\.description, message["description"], "description"),
            (\.eventType, serviceEvent?["type"], "service_info.event.type"),
            (\.correlationID, serviceEvent?["correlationId"], "service_info.event.correlationId"),
            (\.customerID, serviceEvent?["customerId"], "service_info.event.customerId"),
            (\.updatedBy, serviceEvent?["updatedBy"], "service_info.event.updatedBy"),
            (\.serviceInfoType, message["service_info"]?["type"], "service_info.type"),
            (\.requestUserEmail, message["request"]?["user"]?["email"], "request.user.email"),
            (\.requestUserName, message["request"]?["user"]?["name"], "request.user.name"),
        ]
        for (path, value, name) in optionals {
            let (text, fits) = string(value)
            guard fits else { return reject("\(name) is not a string") }
            record[keyPath: path] = text
        }
        if let initiator = serviceEvent?["initiatorIdentification"], initiator != .null {
            var found = AuditRecord.Initiator()
            let fields: [(WritableKeyPath<AuditRecord.Initiator, String?>, String)] = [
                (\.email, "email"), (\.userID, "userId"), (\.apiKeyID, "apiKeyId"),
                (\.automatedFlowName, "automatedFlowName"), (\.customerID, "customerId"),
            ]
            for (path, name) in fields {
                let (text, fits) = string(initiator[name])
                guard fits else { return reject("service_info.event.initiatorIdentification.\(name) is not a string") }
                found[keyPath: path] = text
            }
            record.initiator = found
        }
        record.previousEntry = message["service_info"]?["previousEntry"]
        record.eventTimestamp = eventTimestamp
        return .record(record)
    }
}
