import PlanetCore
import PlanetNode
import PlanetRuntime

/// One generated peer: the project's own `Node` (a stub, its one peer the target) on a UDP
/// socket of its own (its own source address and port, as a separate host would have), with a
/// virtual TUN that is only the generator's `Pinger`. It has no listener others dial, no
/// discovery, no hole punching (pings must go through the target, not around it) and no
/// capacity record (the default: `capacity.enabled` false).
final class VirtualNode {
    let node: Node
    let socket: UDPSocket
    var linkedAt: Instant?

    init(node: Node, socket: UDPSocket) {
        self.node = node
        self.socket = socket
    }

    /// The config every generated node runs: a stub whose upstream is `peer`.
    static func config(peer: PeerURI, identity: NodeIdentity) -> NodeConfig {
        var c = NodeConfig()
        c.privateKey = identity
        c.listen = []
        c.peers = [peer]
        c.multicast = []
        // On: the node delivers to its TUN side only when it has one (the pinger is it); nothing is opened.
        c.tun.enabled = true
        c.webListen = ""
        c.nat.punch = false
        c.routing.stub = .on
        c.logLevel = .error
        return c
    }

    /// Linked when the link layer has its upstream up.
    var isLinked: Bool { !node.links.upPeers.isEmpty }
}
