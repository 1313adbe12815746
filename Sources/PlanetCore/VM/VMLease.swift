/// One VM or container attached to this node: its name, its overlay address inside the node's
/// /64, the interface the node routes it through, who may reach it, and what it declared it
/// takes from the node. Leases are kept in the state directory (`vms.json`) and re-applied when
/// planetd starts, so a VM keeps its address across restarts.
public struct VMLease: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// A tap for a qemu or cloud-hypervisor guest; the hypervisor opens it.
        case tap
        /// A veth pair into an existing network namespace (a container).
        case netns
    }

    public var name: String
    public var address: IPv6Address
    public var kind: Kind
    /// The node side: the tap, or the node's end of the veth pair.
    public var interface: String
    /// The namespace for `.netns`.
    public var netns: String?
    /// The guest's MAC for a tap (what qemu's `-device …,mac=` and cloud-init match on), the
    /// container side's for a veth: derived from the name, so it too is stable.
    public var mac: String
    /// The user that may open the tap (an unprivileged hypervisor), if any.
    public var owner: String?
    public var policy: VMPolicy
    /// What the VM declared it takes from the node (capacity records count it as used).
    public var cpu: Int?
    public var memoryBytes: UInt64?
    public var diskBytes: UInt64?

    public init(name: String, address: IPv6Address, kind: Kind, interface: String, netns: String? = nil, mac: String,
                owner: String? = nil, policy: VMPolicy = .any, cpu: Int? = nil, memoryBytes: UInt64? = nil, diskBytes: UInt64? = nil) {
        self.name = name
        self.address = address
        self.kind = kind
        self.interface = interface
        self.netns = netns
        self.mac = mac
        self.owner = owner
        self.policy = policy
        self.cpu = cpu
        self.memoryBytes = memoryBytes
        self.diskBytes = diskBytes
    }

    /// The interface's name inside the container's namespace.
    public static let containerInterface = "planet0"

    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("name", .string(name)), ("address", .string(address.description)), ("kind", .string(kind.rawValue)),
            ("interface", .string(interface)), ("mac", .string(mac)), ("policy", .array(policy.texts.map { .string($0) })),
        ]
        if let netns { fields.append(("netns", .string(netns))) }
        if let owner { fields.append(("owner", .string(owner))) }
        if let cpu { fields.append(("cpu", .number(Double(cpu)))) }
        if let memoryBytes { fields.append(("memoryBytes", .number(Double(memoryBytes)))) }
        if let diskBytes { fields.append(("diskBytes", .number(Double(diskBytes)))) }
        return .object(fields)
    }

    /// Reads a lease back from `json`; the error names the field.
    public init(json: JSONValue) throws(VMPolicyError) {
        func string(_ k: String) throws(VMPolicyError) -> String {
            guard let s = json[k]?.stringValue else { throw VMPolicyError("lease field '\(k)' is missing or not a string") }
            return s
        }
        func number(_ k: String) throws(VMPolicyError) -> Double? {
            guard let v = json[k] else { return nil }
            guard let n = v.numberValue, n >= 0 else { throw VMPolicyError("lease field '\(k)' is not a non-negative number") }
            return n
        }
        name = try string("name")
        guard let a = IPv6Address(try string("address")) else { throw VMPolicyError("lease field 'address' is not an IPv6 address") }
        address = a
        guard let k = Kind(rawValue: try string("kind")) else { throw VMPolicyError("lease field 'kind' is not tap or netns") }
        kind = k
        interface = try string("interface")
        mac = try string("mac")
        netns = json["netns"]?.stringValue
        owner = json["owner"]?.stringValue
        let texts = (json["policy"]?.arrayValue ?? []).compactMap(\.stringValue)
        switch VMPolicy.parse(texts) {
        case .success(let p): policy = p
        case .failure(let e): throw VMPolicyError("lease field 'policy': \(e.description)")
        }
        cpu = try number("cpu").map { Int($0) }
        memoryBytes = try number("memoryBytes").map { UInt64($0) }
        diskBytes = try number("diskBytes").map { UInt64($0) }
    }
}
