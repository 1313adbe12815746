/// Which local packet device a packet came in on, or is to leave by. The node's TUN is
/// `.tun`; a device the runtime adds gets an id of its own. VMs do not use this today: the
/// kernel routes each VM's own interface through the TUN, with the source check at the kernel's
/// edge and the inbound policy in the node (Docs/architecture.md, "VMs on the overlay"); the
/// seam stays for a device planetd would read itself (a userspace VM path). The id is the
/// runtime's handle, not a kernel ifindex: it means nothing outside this node.
public struct PacketInterface: Hashable, Sendable, CustomStringConvertible {
    public let id: UInt32

    public init(id: UInt32) { self.id = id }

    /// The node's own TUN (its overlay address and the routes to 200::/7 and 300::/8).
    public static let tun = PacketInterface(id: 0)

    public var description: String { id == 0 ? "tun" : "if\(id)" }
}
