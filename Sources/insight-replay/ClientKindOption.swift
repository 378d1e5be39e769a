import ArgumentParser
import InsightDriver

extension Run {
    /// `siem`, `audit,notifier`, `all`: the kinds `--kind` names.
    static func kinds(_ text: String) throws -> Set<ClientKind> {
        var kinds = Set<ClientKind>()
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            if word == "all" {
                kinds.formUnion(ClientKind.allCases)
            } else if let kind = ClientKind(rawValue: word) {
                kinds.insert(kind)
            } else {
                throw ValidationError("--kind: '\(word)' is not a kind of client; use siem, audit, notifier (comma separated) or all")
            }
        }
        guard !kinds.isEmpty else { throw ValidationError("--kind: name siem, audit, notifier or all") }
        return kinds
    }
}
