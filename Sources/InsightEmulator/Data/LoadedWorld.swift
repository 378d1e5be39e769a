import Foundation

/// A world a scenario describes, ready to load into a running emulator.
public struct LoadedWorld: Sendable {
    public var name: String
    public var tenants: [Tenant]
    public var faults: [FaultRule]
    public var timeline: [TimelineEvent]
    public var seed: UInt64
    public init(name: String, tenants: [Tenant], faults: [FaultRule], timeline: [TimelineEvent], seed: UInt64) {
        self.name = name
        self.tenants = tenants
        self.faults = faults
        self.timeline = timeline
        self.seed = seed
    }
}

/// Turns scenario text into a world (the driver's loader does); the server's admin API takes one,
/// so that neither depends on the other. The error's description is shown to the caller.
public typealias ScenarioLoading = @Sendable (_ yaml: String, _ start: Date) throws -> LoadedWorld
