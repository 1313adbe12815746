/// What the runtime measured of the machine (Sources/PlanetRuntime/System/CapacityProbe.swift):
/// the raw material of the node's record, before the operator's offer and reserve apply.
public struct CapacityMeasurement: Equatable, Sendable {
    public var cpus: UInt64
    public var memoryBytes: UInt64
    public var ssdBytes: UInt64
    public var hddBytes: UInt64
    public var gpus: [CapacityGPU]
    /// A global unicast address of that family on some interface (not private, ULA, CGNAT,
    /// link-local or loopback).
    public var publicIPv4: Bool
    public var publicIPv6: Bool
    public var uptimeSeconds: UInt64

    public init(cpus: UInt64 = 0, memoryBytes: UInt64 = 0, ssdBytes: UInt64 = 0, hddBytes: UInt64 = 0, gpus: [CapacityGPU] = [],
                publicIPv4: Bool = false, publicIPv6: Bool = false, uptimeSeconds: UInt64 = 0) {
        self.cpus = cpus; self.memoryBytes = memoryBytes; self.ssdBytes = ssdBytes; self.hddBytes = hddBytes; self.gpus = gpus
        self.publicIPv4 = publicIPv4; self.publicIPv6 = publicIPv6; self.uptimeSeconds = uptimeSeconds
    }

    public var resources: CapacityResources { CapacityResources(cru: cpus, mru: memoryBytes, sru: ssdBytes, hru: hddBytes) }
}
