import PlanetCore
import PlanetNode
import PlanetYggdrasil

/// The node's second network (Yggdrasil 0.5): the sans-I/O `YggdrasilNode` over the
/// `YggdrasilTransport`'s links, registered with the `Node` as its `ForeignNetwork`.
///
/// Everything runs on the runner's loop thread. The node hands it packets that have no
/// Planetary route (`send`); the transport hands it link events (`handle`); `drain` moves what
/// the stack produced to where it goes — frames to the transport, packets delivered to the node
/// (which applies its own checks and VM policies), packet-too-big answers to the TUN — and the
/// runner calls it in every flush, before it carries out the node's output.
final class YggdrasilGateway: ForeignNetwork {
    let name = "yggdrasil"
    let stack: YggdrasilNode
    let transport: YggdrasilTransport
    unowned let node: Node
    let logger: Logger
    /// Links the router refused (its table full), closed by the transport.
    private(set) var refusedLinks: UInt64 = 0
    /// Links closed because their peer sent a message the router refuses (ironwood does the same).
    private(set) var badMessageCloses: UInt64 = 0
    /// Events of the transport's current read batch are waiting for the runner's flush.
    var needsFlush = false
    /// Links the router took and has not yet seen close.
    private(set) var upLinks: Set<YggdrasilConnectionID> = []
    /// Refuses packets to the other end of a link carried over the overlay (YggdrasilViaChoice.swift).
    private(set) var loopGuard = YggdrasilLoopGuard()
    /// On a Planetary-only node: the dual node it reaches Yggdrasil through (YggdrasilViaDialer.swift).
    var via: YggdrasilViaDialer?
    /// Packets refused because no Yggdrasil link is up (the node answers "no route").
    private(set) var noLinkRefusals: UInt64 = 0

    init(node: Node, transport: YggdrasilTransport, tunMTU: Int, nodeInfo: [(String, JSONValue)] = [], logger: Logger, now: Instant) {
        self.node = node
        self.transport = transport
        self.logger = logger
        stack = YggdrasilNode(identity: node.identity, now: now, unixSeconds: UInt64(max(0, WallClock.unixSeconds())), tunMTU: tunMTU,
                              nodeInfo: YggdrasilProtocol.nodeInfo(extra: nodeInfo))
    }

    /// Refused (the node then answers "no route") when the packet would loop through a link
    /// carried over the overlay, and when no link is up: with none, nothing can be reached, and
    /// a sender is better told so at once than left to time out.
    func send(_ packet: UnsafeRawBufferPointer, now: Instant) -> Bool {
        // Only 200::/7 destinations are Yggdrasil's: refuse the rest before copying anything.
        guard packet.count >= 40, packet[24] & 0xfe == 0x02 else { return false }
        guard loopGuard.admits(packet) else { return false }
        guard !upLinks.isEmpty else { noLinkRefusals += 1; return false }
        return stack.sendPacket(Array(packet), now: now)
    }

    /// The loop guard's addresses: the remote end of every link and the dual node dialled.
    func updateLoopGuard() {
        loopGuard.update(transport.peers.map(\.remote.address) + (via?.carriers ?? []))
    }

    func handle(_ event: YggdrasilTransport.Event, now: Instant) {
        switch event {
        case .established(let id, let key, let priority):
            if !stack.linkUp(id, key: key, priority: priority, now: now) {
                refusedLinks += 1
                transport.close(id, reason: .local("the router's link table is full"))
            } else {
                upLinks.insert(id)
                logger.info("yggdrasil peer up", [("key", key.hex), ("id", "\(id)")])
            }
            updateLoopGuard()
        case .frame(let id, let frame):
            do {
                try stack.receive(frame, from: id, now: now)
            } catch {
                badMessageCloses += 1
                logger.info("yggdrasil peer sent a message the router refuses; closing the link", [("id", "\(id)"), ("error", "\(error)")])
                transport.close(id, reason: .local("a message the router refuses: \(error)"))
            }
        case .closed(let id, let reason):
            logger.info("yggdrasil peer down", [("id", "\(id)"), ("reason", reason.code.reportName)])
            if upLinks.remove(id) != nil { stack.linkDown(id, now: now) }
            updateLoopGuard()
        }
    }

    /// Moves the stack's output on. Delivering to the node can make it send (an ICMPv6 error
    /// with no Planetary route comes back here), so it runs until nothing is left.
    func drain(now: Instant) {
        while !stack.frames.isEmpty || !stack.delivered.isEmpty || !stack.toTUN.isEmpty {
            let frames = stack.frames, delivered = stack.delivered, own = stack.toTUN
            stack.frames.removeAll(keepingCapacity: true)
            stack.delivered.removeAll(keepingCapacity: true)
            stack.toTUN.removeAll(keepingCapacity: true)
            for (id, frame) in frames { _ = transport.send(id, frame) }
            for (key, packet) in delivered { node.receiveForeignPacket(packet, from: key, now: now) }
            for packet in own { node.receiveForeignPacket(packet, from: node.identity.publicKey, now: now) }
        }
    }

    /// A Planetary-only node's stack with no link has nothing to maintain (ironwood's once a
    /// second would wake every such node for nothing): only the dialer's checks and the
    /// transport's dials are due then.
    var nextDeadline: Instant {
        let stackDue = via != nil && upLinks.isEmpty ? Instant.never : stack.nextDeadline
        return min(stackDue, transport.nextDeadline, via?.nextCheck ?? .never)
    }

    func tick(now: Instant) {
        transport.handleDeadline(now: now)
        stack.tick(now: now)
        if let via, now >= via.nextCheck {
            via.check(node: node, transport: transport, linkedKeys: Set(transport.peers.filter { upLinks.contains($0.id) }.compactMap(\.key)), now: now)
            updateLoopGuard()
        }
    }
}
