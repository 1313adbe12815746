/// A VM as `vmAttach`, `vmShow` and `vmPolicy` answer it and `vmList` lists it (Docs/cli.md).
/// `owner`, `problem` and `warnings` are there only when they apply.
public struct VMReply: AdminResponse, Equatable {
    public var name: String
    public var address: String
    public var interface: String
    public var kind: String
    public var netns: String?
    public var mac: String
    public var gateway: String
    public var policy: [String]
    public var state: String
    public var rxBytes: UInt64
    public var txBytes: UInt64
    public var rxPackets: UInt64
    public var txPackets: UInt64
    public var refusedPackets: UInt64
    public var spoofedPackets: UInt64
    public var repairs: UInt64?
    public var cpu: Int?
    public var memoryBytes: UInt64?
    public var diskBytes: UInt64?
    public var owner: String?
    public var problem: String?
    /// `vmAttach --force` only: one per resource the VM declares beyond what is free.
    public var warnings: [String]?

    public init(name: String, address: String, interface: String, kind: String, netns: String?, mac: String, gateway: String,
                policy: [String], state: String, rxBytes: UInt64 = 0, txBytes: UInt64 = 0, rxPackets: UInt64 = 0, txPackets: UInt64 = 0,
                refusedPackets: UInt64 = 0, spoofedPackets: UInt64 = 0, repairs: UInt64? = 0, cpu: Int? = nil, memoryBytes: UInt64? = nil,
                diskBytes: UInt64? = nil, owner: String? = nil, problem: String? = nil, warnings: [String]? = nil) {
        self.name = name; self.address = address; self.interface = interface; self.kind = kind; self.netns = netns; self.mac = mac
        self.gateway = gateway; self.policy = policy; self.state = state; self.rxBytes = rxBytes; self.txBytes = txBytes
        self.rxPackets = rxPackets; self.txPackets = txPackets; self.refusedPackets = refusedPackets; self.spoofedPackets = spoofedPackets
        self.repairs = repairs; self.cpu = cpu; self.memoryBytes = memoryBytes; self.diskBytes = diskBytes; self.owner = owner
        self.problem = problem; self.warnings = warnings
    }

    enum CodingKeys: String, CodingKey {
        case name, address, interface, kind, netns, mac, gateway, policy, state, rxBytes, txBytes, rxPackets, txPackets
        case refusedPackets, spoofedPackets, repairs, cpu, memoryBytes, diskBytes, owner, problem, warnings
    }

    // Written by hand only to leave out what does not apply (the synthesized form writes null).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(address, forKey: .address)
        try c.encode(interface, forKey: .interface)
        try c.encode(kind, forKey: .kind)
        try c.encodeIfPresent(netns, forKey: .netns)
        try c.encode(mac, forKey: .mac)
        try c.encode(gateway, forKey: .gateway)
        try c.encode(policy, forKey: .policy)
        try c.encode(state, forKey: .state)
        try c.encode(rxBytes, forKey: .rxBytes)
        try c.encode(txBytes, forKey: .txBytes)
        try c.encode(rxPackets, forKey: .rxPackets)
        try c.encode(txPackets, forKey: .txPackets)
        try c.encode(refusedPackets, forKey: .refusedPackets)
        try c.encode(spoofedPackets, forKey: .spoofedPackets)
        try c.encodeIfPresent(repairs, forKey: .repairs)
        try c.encodeIfPresent(cpu, forKey: .cpu)
        try c.encodeIfPresent(memoryBytes, forKey: .memoryBytes)
        try c.encodeIfPresent(diskBytes, forKey: .diskBytes)
        if let owner { try c.encode(owner, forKey: .owner) }
        if let problem { try c.encode(problem, forKey: .problem) }
        if let warnings { try c.encode(warnings, forKey: .warnings) }
    }
}

/// `vmList` → `{"vms": [VM, ...]}`, in name order.
public struct VMListReply: AdminResponse, Equatable {
    public var vms: [VMReply]
    public init(vms: [VMReply]) { self.vms = vms }
}

/// `vmDetach` → the name and the address it had.
public struct VMDetachReply: AdminResponse, Equatable {
    public var name: String
    public var address: String
    public init(name: String, address: String) { self.name = name; self.address = address }
}

/// `vmCloudInit` → the NoCloud network-config (version 2) for the guest.
public struct VMCloudInitReply: AdminResponse, Equatable {
    public var name: String
    public var networkConfig: String
    public init(name: String, networkConfig: String) { self.name = name; self.networkConfig = networkConfig }
}
