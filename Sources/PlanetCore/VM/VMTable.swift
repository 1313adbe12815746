/// The VMs a node hosts, by name, and the rules for their addresses: pure, so address
/// derivation, collisions and reserved addresses are decided (and unit-tested) without a host.
///
/// A VM's address is the node's /64 and an interface id derived from its name (the first 8
/// bytes of SHA-512 over a domain string and the name), so the same name gets the same address
/// on every start and on every node that recomputes it, without a counter to persist. The
/// subnet's `::` (the subnet-router anycast address, RFC 4291) and `::1` (the gateway address
/// the grid has always used, kept free so a guest configured the old way can't collide with a
/// tenant) are reserved; an address another lease holds is refused, never silently shifted:
/// a VM's address is what its owner publishes, so it must not depend on who attached first.
public struct VMTable: Sendable {
    public let subnet: IPv6Prefix
    public private(set) var byName: [String: VMLease] = [:]

    public init(subnet: IPv6Prefix) {
        precondition(subnet.length == 64, "a node's VM subnet is its /64")
        self.subnet = subnet
    }

    /// Leases in name order.
    public var leases: [VMLease] { byName.values.sorted { $0.name < $1.name } }

    public func lease(named name: String) -> VMLease? { byName[name] }
    public func lease(for address: IPv6Address) -> VMLease? { byName.values.first { $0.address == address } }

    /// The link-local gateway every VM routes the overlay through: the node's side of each VM's
    /// own interface. The same on every interface, so a guest's config never names its node.
    public static let gateway = IPv6Address("fe80::1")!

    static let addressDomain = Array("planetary-vm-address-v1:".utf8)
    static let macDomain = Array("planetary-vm-mac-v1:".utf8)

    /// The address `name` gets unless the operator names one.
    public static func derivedAddress(name: String, in subnet: IPv6Prefix) -> IPv6Address {
        let h = Sodium.sha512(addressDomain + Array(name.utf8))
        var low: UInt64 = 0
        for b in h.prefix(8) { low = low << 8 | UInt64(b) }
        return IPv6Address(high: subnet.address.high, low: low)
    }

    /// A locally administered unicast MAC from the name (`02:` then 5 hash bytes).
    public static func mac(for name: String) -> String {
        let h = Sodium.sha512(macDomain + Array(name.utf8))
        return ([0x02] + h.prefix(5)).map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined(separator: ":")
    }

    /// The node-side interface of a container's veth: `pv` and 10 hex digits of the name's hash
    /// (interface names are at most 15 bytes, VM names up to 32).
    public static func vethName(for name: String) -> String {
        "pv" + Hex.encode(Sodium.sha512(macDomain + Array(name.utf8)).suffix(5))
    }

    /// Names: 1-32 of a-z A-Z 0-9 . _ -, starting with a letter or digit (they become file
    /// keys, interface hints and cloud-init ids).
    public static func checkName(_ name: String) -> VMTableError? {
        let ok = name.utf8.count >= 1 && name.utf8.count <= 32 && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x2e || c == 0x5f
        } && name.utf8.first.map { $0 != 0x2d && $0 != 0x2e && $0 != 0x5f } == true
        return ok ? nil : VMTableError(argument: "name", "'\(name)' must be 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit")
    }

    public var reserved: [IPv6Address] { [subnet.address, IPv6Address(high: subnet.address.high, low: 1)] }

    /// Why `address` cannot be given to the VM `name` (nil: it can). `argument` names where it
    /// came from, for the error line.
    public func refusal(of address: IPv6Address, for name: String, argument: String) -> VMTableError? {
        guard subnet.contains(address) else {
            return VMTableError(argument: argument, "\(address) is outside this node's subnet \(subnet)")
        }
        if reserved.contains(address) {
            return VMTableError(argument: argument, "\(address) is reserved (the subnet's :: and ::1)")
        }
        if let other = lease(for: address), other.name != name {
            return VMTableError(argument: argument, "\(address) is taken by VM '\(other.name)'")
        }
        return nil
    }

    /// The address for a new lease: `requested`, or the one derived from the name.
    public func address(for name: String, requested: IPv6Address?) -> Result<IPv6Address, VMTableError> {
        let a = requested ?? VMTable.derivedAddress(name: name, in: subnet)
        if let e = refusal(of: a, for: name, argument: requested == nil ? "name" : "address") {
            if requested == nil { return .failure(VMTableError(argument: "name", "the address derived from '\(name)' cannot be used: \(e.reason); pick one with --address")) }
            return .failure(e)
        }
        return .success(a)
    }

    /// Adds a lease after the same checks; a name or interface already in use is refused.
    public mutating func add(_ lease: VMLease) -> VMTableError? {
        if let e = VMTable.checkName(lease.name) { return e }
        if byName[lease.name] != nil { return VMTableError(argument: "name", "a VM named '\(lease.name)' is already attached") }
        if let other = byName.values.first(where: { $0.interface == lease.interface }) {
            return VMTableError(argument: "interface", "\(lease.interface) is already the interface of VM '\(other.name)'")
        }
        if let e = refusal(of: lease.address, for: lease.name, argument: "address") { return e }
        byName[lease.name] = lease
        return nil
    }

    @discardableResult
    public mutating func remove(named name: String) -> VMLease? { byName.removeValue(forKey: name) }

    public mutating func setPolicy(_ policy: VMPolicy, named name: String) -> Bool {
        guard byName[name] != nil else { return false }
        byName[name]!.policy = policy
        return true
    }

    /// What the VMs declared they take from the node, summed, for the capacity records: a VM
    /// that declared nothing adds nothing.
    public var declaredTotals: (cpu: Int, memoryBytes: UInt64, diskBytes: UInt64) {
        byName.values.reduce((0, 0, 0)) { t, l in (t.0 + (l.cpu ?? 0), t.1 + (l.memoryBytes ?? 0), t.2 + (l.diskBytes ?? 0)) }
    }

    /// The leases as stored in `vms.json`.
    public var json: JSONValue { .object([("vms", .array(leases.map(\.json)))]) }

    /// Reads `vms.json`; a lease that no longer fits (another subnet, a clash) is an error
    /// naming it, so planetd reports it instead of guessing.
    public init(subnet: IPv6Prefix, json: JSONValue) throws(VMTableError) {
        self.init(subnet: subnet)
        guard let list = json["vms"]?.arrayValue else { throw VMTableError(argument: "vms", "the lease file has no \"vms\" list") }
        for (i, item) in list.enumerated() {
            let lease: VMLease
            do { lease = try VMLease(json: item) } catch { throw VMTableError(argument: "vms[\(i)]", error.description) }
            if let e = add(lease) { throw VMTableError(argument: "vms[\(i)] (\(lease.name))", e.reason) }
        }
    }
}

/// A refused VM change: the argument it is about and why, for a one-line error.
public struct VMTableError: Error, Equatable, Sendable, CustomStringConvertible {
    public let argument: String
    public let reason: String
    public init(argument: String, _ reason: String) {
        self.argument = argument
        self.reason = reason
    }
    public var description: String { "\(argument): \(reason)" }
}
