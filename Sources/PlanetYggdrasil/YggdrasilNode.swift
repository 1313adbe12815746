import PlanetCore

/// A whole Yggdrasil 0.5 node as one state machine: ironwood's router, its end-to-end sessions
/// and yggdrasil's IPv6 layer, stacked as yggdrasil-go stacks them (core → encrypted → ipv6rwc).
/// Links come and go as the runtime reports them (`linkUp`, `linkDown`, `receive`); packets
/// come from the node's route choice (`sendPacket`); what the stack wants done collects in
/// `frames` (per link, for the transport) and `delivered` (IPv6 packets for this node, each with
/// the key that sent it, for `Node.receiveForeignPacket`). Nothing here does I/O.
///
/// The layers hand each other work through their outputs; `pump` moves it until none is left,
/// so a call returns with everything it caused queued.
public final class YggdrasilNode {
    public let identity: NodeIdentity
    public let router: IronwoodRouter
    public let sessions: IronwoodSessions
    public let ipv6: YggdrasilIPv6

    /// Frames for the transport, in order, by link.
    public var frames: [(IronwoodPeerID, IronwoodFrame)] = []
    /// IPv6 packets for this node (or its /64), with the sender's key: the IPv6 layer has
    /// checked that the source belongs to that key and the destination is ours.
    public var delivered: [(PublicKey, [UInt8])] = []
    /// Packets for the TUN that come from the stack itself (packet too big for a packet of ours).
    public var toTUN: [[UInt8]] = []
    /// Yggdrasil protocol messages (payload type 2): nodeinfo and the debug calls answered.
    public let proto: YggdrasilProtocol
    /// Protocol messages not answered (responses we never asked for, unknown types).
    public var protocolMessagesIgnored: UInt64 { proto.ignored }

    /// `tunMTU`: the TUN's MTU; the IPv6 layer takes the smaller of it and what a session
    /// message can carry, so a packet the TUN accepts always fits a session.
    /// `nodeInfo`: the serialized nodeinfo to answer with (`YggdrasilProtocol.nodeInfo`).
    public init(identity: NodeIdentity, now: Instant, unixSeconds: UInt64, tunMTU: Int,
                nodeInfo: [UInt8] = YggdrasilProtocol.nodeInfo(extra: [])) {
        self.identity = identity
        proto = YggdrasilProtocol(nodeInfo: nodeInfo)
        router = IronwoodRouter(identity: identity, now: now)
        router.setWallClock(unixSeconds: unixSeconds, at: now)
        sessions = IronwoodSessions(identity: identity, now: now, unixSeconds: unixSeconds, networkMTU: router.mtu)
        ipv6 = YggdrasilIPv6(identity: identity, mtu: min(tunMTU, YggdrasilIPv6.maximumMTU(sessionMessageMTU: sessions.messageMTU)))
    }

    /// The runtime reads the wall clock now and then: handshake and notify sequence numbers
    /// are Unix seconds, so they keep growing across restarts.
    public func setWallClock(unixSeconds: UInt64, now: Instant) {
        router.setWallClock(unixSeconds: unixSeconds, at: now)
        sessions.setWallClock(unixSeconds: unixSeconds, now: now)
    }

    // MARK: Links

    /// A link finished its handshake. False: the router will not take it (table full, our own
    /// key); the runtime closes it.
    @discardableResult
    public func linkUp(_ id: IronwoodPeerID, key: PublicKey, priority: UInt8, now: Instant) -> Bool {
        let taken = router.addPeer(id, key: key, priority: priority, now: now)
        pump(now: now)
        return taken
    }

    public func linkDown(_ id: IronwoodPeerID, now: Instant) {
        router.removePeer(id, now: now)
        pump(now: now)
    }

    /// A frame from a link. A throw means the link must close (ironwood closes a link that
    /// sends a malformed or badly signed message).
    public func receive(_ frame: IronwoodFrame, from id: IronwoodPeerID, now: Instant) throws(IronwoodRouterError) {
        defer { pump(now: now) }
        try router.receive(frame, from: id, now: now)
    }

    // MARK: Packets

    /// A packet of this node's with no Planetary route. False when it is not something
    /// Yggdrasil could carry (the IPv6 layer counts why: not our source, not a Yggdrasil
    /// destination).
    public func sendPacket(_ packet: [UInt8], now: Instant) -> Bool {
        guard packet.count >= 40 else { return false }
        // Only 200::/7 destinations are Yggdrasil's (addresses 0x02, subnets 0x03).
        guard packet[24] & 0xfe == 0x02 else { return false }
        handle(ipv6.outbound(packet, now: now), now: now)
        pump(now: now)
        return true
    }

    public func tick(now: Instant) {
        router.tick(now: now)
        sessions.tick(now: now)
        ipv6.tick(now: now)
        pump(now: now)
    }

    public var nextDeadline: Instant {
        var d = router.nextDeadline ?? .never
        if let s = sessions.nextDeadline { d = min(d, s) }
        if let i = ipv6.nextDeadline { d = min(d, i) }
        return d
    }

    /// Every layer's drops, named `ygg-…` for stats and metrics.
    public func dropReport() -> [(String, UInt64)] {
        router.drops.report(prefix: "ygg-") + sessions.drops.report(prefix: "ygg-session-") + ipv6.drops.report(prefix: "ygg-ipv6-")
            + proto.report()
    }

    // MARK: Moving work between the layers

    func handle(_ outputs: [YggdrasilIPv6Output], now: Instant) {
        for out in outputs {
            switch out {
            case .send(let key, let message): sessions.send(to: key, message: message, now: now)
            case .lookup(let partial): router.lookup(partial, now: now)
            case .toTUN(let packet): toTUN.append(packet)
            case .protocolMessage(let key, let body):
                // Answered over the same session, as yggdrasil answers (PacketConn.WriteTo).
                if let reply = proto.answer(body, view: { protocolView }) { sessions.send(to: key, message: reply, now: now) }
            }
        }
    }

    /// What the debug calls report: our key, the tree entries we hold, our peers' keys.
    var protocolView: YggdrasilProtocol.View {
        YggdrasilProtocol.View(key: identity.publicKey, routingEntries: router.treeEntries.count,
                               peers: router.peerStatus.map(\.key), tree: router.treeEntries.map(\.key),
                               messageMTU: sessions.messageMTU)
    }

    func pump(now: Instant) {
        var moved = true
        while moved {
            moved = false
            for out in router.takeOutput() {
                moved = true
                switch out {
                case .frame(let id, let frame): frames.append((id, frame))
                case .deliver(let source, let payload): sessions.receive(from: source, payload: payload, now: now)
                case .pathNotify(let key): handle(ipv6.pathNotify(key: key, now: now), now: now)
                }
            }
            for out in sessions.takeOutput() {
                moved = true
                switch out {
                case .network(let key, let payload): router.send(to: key, payload: payload, now: now)
                case .deliver(let key, let message):
                    for r in ipv6.inbound(from: key, message: message, now: now) {
                        if case .toTUN(let packet) = r { delivered.append((key, packet)) } else { handle([r], now: now) }
                    }
                }
            }
        }
    }
}
