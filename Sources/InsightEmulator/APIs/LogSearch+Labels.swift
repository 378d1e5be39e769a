import Foundation
import InsightCore

/// Labels: the reserved ones every account has, and the ones events carry.
extension EmulatorState {
    /// The reserved labels every account has, serial numbers 1 to 7. Names of 6 and 7 are
    /// recorded (IDR plugin label_006/label_007.json.resp: "Out of order entry", "Out of
    /// events", colour ffab04); the others are ASSUMED.
    static let labels: [String: JSON] = {
        let names = [(1, "Login Failure", "e0e000"), (2, "Error", "ff0000"), (3, "Exception", "ff0000"), (4, "Warning", "ff9933"),
                     (5, "Sign In", "00a9e0"), (6, "Out of order entry", "ffab04"), (7, "Out of events", "ffab04")]
        var table: [String: JSON] = [:]
        for (serial, name, colour) in names {
            let id = String(format: "00000000-0000-0000-0000-%012d", serial)
            table[id] = ["id": .string(id), "sn": .int(Int64(serial)), "name": .string(name), "color": .string(colour), "reserved": true]
        }
        return table
    }()

    /// The label an event carries: the reserved "Login Failure" on a failed result (ASSUMED rule;
    /// the platform labels what its detection rules match, and a failed login is what label 1
    /// is for). Labels travel as `{id, links[Self]}` (the description's event labels), which
    /// clients follow to `/management/labels/{id}`.
    static let failureLabel = String(format: "00000000-0000-0000-0000-%012d", 1)

    static func labels(of event: LogSearchEvent) -> [String] {
        event.message.contains(#""result":"FAILED""#) ? [failureLabel] : []
    }

    /// `"labels":[…]` of an event, written to bytes; `base` is the query base (`…/query`).
    static func writeLabels(_ event: LogSearchEvent, base: String, into bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"labels":["#.utf8)
        for (offset, id) in labels(of: event).enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: #"{"id":"#.utf8)
            JSON.appendString(id, to: &bytes)
            bytes.append(contentsOf: #","links":[{"href":"#.utf8)
            JSON.appendString(labelHref(id, base: base), to: &bytes)
            bytes.append(contentsOf: #","rel":"Self"}]}"#.utf8)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    static func labelHref(_ id: String, base: String) -> String {
        String(base.dropLast("/query".count).replacingOccurrences(of: "/audit", with: "")) + "/management/labels/\(id)"
    }
}
