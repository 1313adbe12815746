/// Which local packet device a packet came in on, or is to leave by. The node's TUN is
/// `.tun`; devices the runtime adds for the VMs and containers a node hosts get ids of their
/// own, so the data plane can hold each to its own rules (a VM may only send from its own
/// address; its owner decides who may reach it) instead of trusting whatever the kernel routed
/// into one TUN. The id is the runtime's handle, not a kernel ifindex: it is stable for the
/// life of the attachment and means nothing outside this node.
public struct PacketInterface: Hashable, Sendable, CustomStringConvertible {
    public let id: UInt32

    public init(id: UInt32) { self.id = id }

    /// The node's own TUN (its overlay address and the routes to 200::/7 and 300::/8).
    public static let tun = PacketInterface(id: 0)

    public var description: String { id == 0 ? "tun" : "if\(id)" }
}
