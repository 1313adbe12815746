import PlanetCore
import PlanetLink
import PlanetNode

/// Two nodes, A and B, linked over an in-memory underlay with routes and an end-to-end session
/// between them (set up once). Datagrams are delivered at once; timers run when `settle` says.
final class NodePair: FuzzWorld, @unchecked Sendable {
    let a: Node
    let b: Node
    let epA = Endpoint(address: IPv6Address("fd00::1")!, port: 8470)
    let epB = Endpoint(address: IPv6Address("fd00::2")!, port: 8470)
    var clock = FuzzClock()

    init() {
        var configA = NodeConfig()
        configA.multicast = []
        configA.peers = [PeerURI(host: "fd00::2", port: 8470)]
        var configB = NodeConfig()
        configB.multicast = []
        a = Node(identity: FuzzIdentity.make(3), config: configA, now: clock.now, random: SplitMix64(seed: 3))
        b = Node(identity: FuzzIdentity.make(4), config: configB, now: clock.now, random: SplitMix64(seed: 4))
        settle(seconds: 3)
        // A session A→B: one packet from A's TUN, answered by nothing, opens it.
        a.receiveTunPacket(NodePair.packet(from: a.address, to: b.address, nextHeader: 59, payload: []), now: clock.now)
        settle(seconds: 2)
        precondition(a.links.isUp(b.identity.publicKey), "fuzz node pair did not link")
        // The session must carry a packet to B's TUN, or `node-tun` never reaches B's checks
        // after decryption and the fuzzer would only be exercising A.
        drop()
        a.receiveTunPacket(NodePair.packet(from: a.address, to: b.address, nextHeader: 59, payload: [1, 2, 3]), now: clock.now)
        for (bytes, _) in a.transmits.drain() {
            var copy = bytes
            copy.withUnsafeMutableBytes { b.receiveDatagram(inPlace: $0, from: epA, now: clock.now); b.transmits.ownBorrowed(from: 0) }
        }
        precondition(!b.output.tunPackets.isEmpty, "fuzz node pair: A's packet did not reach B's TUN over the session")
        drop()
    }

    /// Delivers every queued datagram and runs due timers for `seconds` of virtual time.
    func settle(seconds: Double) {
        let end = clock.now.adding(seconds: seconds)
        while true {
            var moved = deliverQueued()
            let due = min(a.nextDeadline, b.nextDeadline)
            if !moved {
                guard due <= end else { break }
                if due > clock.now { clock.now = due }
                a.tick(now: clock.now)
                b.tick(now: clock.now)
                moved = true
            }
        }
        clock.now = max(clock.now, end)
    }

    /// Hands each node's datagrams to the other; true if any moved. TUN output is dropped.
    @discardableResult
    func deliverQueued() -> Bool {
        var moved = false
        for (from, to, fromEndpoint) in [(a, b, epA), (b, a, epB)] {
            for uri in from.output.resolve {
                if let address = IPv6Address(uri.host) { from.resolved(uri, endpoints: [Endpoint(address: address, port: uri.port)], now: clock.now) }
            }
            for (bytes, _) in from.transmits.drain() {
                moved = true
                var copy = bytes
                // What the receiver queued from `copy` (a relay) is copied out before it goes.
                copy.withUnsafeMutableBytes { to.receiveDatagram(inPlace: $0, from: fromEndpoint, now: clock.now); to.transmits.ownBorrowed(from: 0) }
            }
        }
        return moved
    }

    func drop() {
        a.output.removeAll()
        b.output.removeAll()
        a.transmits.removeAll()
        b.transmits.removeAll()
    }

    static func packet(from source: IPv6Address, to destination: IPv6Address, nextHeader: UInt8, payload: some Collection<UInt8>) -> [UInt8] {
        var p: [UInt8] = [0x60, 0, 0, 0, UInt8(payload.count >> 8 & 0xff), UInt8(payload.count & 0xff), nextHeader, 64]
        p += source.bytes
        p += destination.bytes
        p += payload
        return p
    }
}

enum NodeFuzzTargets {
    /// What a neighbour can send on an authentic link: the input is an inner frame sealed with
    /// the link's keys, so B's frame dispatch sees it (routing frames, overlay packets with
    /// session handshakes, sealed session messages and error reports inside, direct packets).
    static let innerFrame = FuzzTarget("node-frame", "inner frames from an authenticated neighbour: routing, overlay, direct, session, error reports") { input in
        let pair = NodePair.get()
        pair.clock.tick()
        guard pair.a.links.send(frame: input, to: pair.b.identity.publicKey, now: pair.clock.now) else { return }
        for (bytes, _) in pair.a.transmits.drain() {
            var bytes = bytes
            bytes.withUnsafeMutableBytes { pair.b.receiveDatagram(inPlace: $0, from: pair.epA, now: pair.clock.now); pair.b.transmits.ownBorrowed(from: 0) }
        }
        // Signed routing updates wait for B's next ticks to be checked: check them now, so
        // what follows the check is reached (and the backlog cannot grow across inputs).
        pair.b.router.verifyBacklog(now: pair.clock.now, budget: .max)
        pair.drop()
    }

    /// Packets from A's TUN: the raw input (the TUN-side checks), then the input as the payload
    /// of a packet from A to B (first byte the next header), carried over the real session, so
    /// B's checks after end-to-end decryption and its delivery path see it.
    static let tunPacket = FuzzTarget("node-tun", "TUN packets in, and payloads decrypted end to end at the far node") { input in
        let pair = NodePair.get()
        pair.clock.tick()
        pair.a.receiveTunPacket(Array(input), now: pair.clock.now)
        pair.drop()
        let nextHeader = input.first ?? 59
        pair.a.receiveTunPacket(NodePair.packet(from: pair.a.address, to: pair.b.address, nextHeader: nextHeader,
                                                payload: input.dropFirst()), now: pair.clock.now)
        pair.deliverQueued()
        pair.drop()
    }
}

/// Three nodes in a line, A – R – B, with an end-to-end session A→B relayed by R (set up
/// once): A and B have no link of their own and cannot get one (datagrams between them are
/// dropped), so a candidate-endpoints offer from A is acted on at B (probes, an answer), as
/// between two nodes behind NATs.
final class NodeLine: FuzzWorld, @unchecked Sendable {
    let nodes: [Node]
    let endpoints: [Endpoint]
    var clock = FuzzClock()
    var a: Node { nodes[0] }
    var b: Node { nodes[2] }

    init() {
        endpoints = (1...3).map { Endpoint(address: IPv6Address("fd00::1:\($0)")!, port: 8470) }
        var made: [Node] = []
        for i in 0..<3 {
            var config = NodeConfig()
            config.multicast = []
            // A and B dial R; R dials nobody.
            if i != 1 { config.peers = [PeerURI(host: "fd00::1:2", port: 8470)] }
            let node = Node(identity: FuzzIdentity.make(UInt8(20 + i)), config: config, now: clock.now, random: SplitMix64(seed: UInt64(20 + i)))
            // As planetd does at start (capacity gossip needs Unix time).
            node.setWallClock(unixSeconds: 1_800_000_000 + clock.now.seconds, now: clock.now)
            made.append(node)
        }
        nodes = made
        settle(seconds: 3)
        a.receiveTunPacket(NodePair.packet(from: a.address, to: b.address, nextHeader: 59, payload: []), now: clock.now)
        settle(seconds: 2)
        precondition(!a.links.isUp(b.identity.publicKey), "fuzz node line: A and B linked directly")
        let received = b.stats.controlReceived
        precondition(a.sendControlMessage([SessionControlType.endpoints.rawValue, 0], to: b.identity.publicKey, now: clock.now),
                     "fuzz node line: no session A→B to seal control messages with")
        settle(seconds: 0.1)
        // Else the target would only exercise A's sealing, never B's parsers.
        precondition(b.stats.controlReceived > received, "fuzz node line: A's control message did not reach B's handler")
    }

    /// Delivers datagrams between the three by endpoint (others are dropped) and runs due
    /// timers for `seconds` of virtual time.
    func settle(seconds: Double) {
        let end = clock.now.adding(seconds: seconds)
        var stuck = 0
        while true {
            if deliverQueued() { continue }
            let due = nodes.map(\.nextDeadline).min()!
            guard due <= end else { break }
            if due > clock.now { clock.now = due; stuck = 0 } else { stuck += 1 }
            // A deadline that stays due after its tick would spin planetd's loop: a finding.
            precondition(stuck < 10_000, "fuzz node line: a deadline stays due at \(clock.now): "
                         + nodes.map { "links \($0.links.nextDeadline) router \($0.router.nextDeadline) capacity \($0.capacity.nextDeadline)" }.joined(separator: "; "))
            for n in nodes { n.tick(now: clock.now) }
        }
        clock.now = max(clock.now, end)
    }

    @discardableResult
    func deliverQueued() -> Bool {
        var moved = false
        var queue: [(from: Int, bytes: [UInt8], to: Endpoint)] = []
        for (i, from) in nodes.enumerated() {
            for uri in from.output.resolve {
                if let address = IPv6Address(uri.host) { from.resolved(uri, endpoints: [Endpoint(address: address, port: uri.port)], now: clock.now) }
            }
            queue += from.transmits.drain().map { (i, $0.0, $0.1) }
            from.output.removeAll()
        }
        while !queue.isEmpty {
            let (i, bytes, to) = queue.removeFirst()
            // A and B never reach each other directly, as behind two NATs that do not let
            // probes through: punching is tried (and the parsers behind it run) but never
            // succeeds, so every input meets the same relayed session.
            guard let j = endpoints.firstIndex(where: { $0.address == to.address && $0.port == to.port }), i + j != 2 else { continue }
            moved = true
            var copy = bytes
            copy.withUnsafeMutableBytes { raw in
                // R relays in place: what it queues from the slot goes on, as planetd sends it
                // from there, copied before the slot goes.
                nodes[j].receiveDatagram(inPlace: raw, from: endpoints[i], now: clock.now)
                queue += nodes[j].transmits.drain().map { (j, $0.0, $0.1) }
            }
            nodes[j].output.removeAll()
        }
        return moved
    }
}

extension NodeFuzzTargets {
    /// Session control messages (session message 0x07): the input is the plaintext (control
    /// type byte and body), sealed by A with the live session's keys and relayed by R, so B's
    /// control dispatch and the endpoints (0x01) parser and punching logic see it after
    /// end-to-end decryption; B's answers and probes go where they go, and 10 ms of timers run
    /// (so a punch window closes every ~500 inputs and the next offer is acted on again).
    static let sessionControl = FuzzTarget("session-control", "session control messages sealed end to end: control types, the endpoints (hole punching) offers") { input in
        let line = NodeLine.get()
        line.clock.tick()
        // False only while the session is being keyed again (virtual time runs on); the
        // handshake completes in the settle, and the next input is sealed again.
        _ = line.a.sendControlMessage(Array(input), to: line.b.identity.publicKey, now: line.clock.now)
        line.settle(seconds: 0.01)
        for n in line.nodes { n.output.removeAll() }
    }
}
