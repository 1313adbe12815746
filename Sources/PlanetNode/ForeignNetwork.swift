import PlanetCore

/// A second network this node belongs to with the same key and address (Yggdrasil 0.5,
/// PlanetYggdrasil), registered with `Node.attach(foreign:)`.
///
/// The route choice is the node's and is made once per packet (Node+Send.swift, `route`):
/// Planetary when the route table has a route to the destination, this network otherwise. So
/// nothing is sent twice. Nothing loops between the two either: what this network delivers
/// (`Node.receiveForeignPacket`) must be for this node or one of its VMs and goes to the TUN,
/// never back out; and a packet Planetary relays is never handed here (a relay only forwards
/// on Planetary routes, Node+Relay.swift).
public protocol ForeignNetwork: AnyObject {
    /// For `planetctl stats` and logs ("yggdrasil").
    var name: String { get }
    /// Takes a checked packet of this node's (its own, a VM's, an ICMPv6 error it owes) that
    /// has no Planetary route. False when this network has no way there either (not a
    /// destination it could reach: the node then answers "no route" as before).
    func send(_ packet: UnsafeRawBufferPointer, now: Instant) -> Bool
}
