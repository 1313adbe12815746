import PlanetCore
import PlanetLink
import PlanetNode

/// Two nodes, A and B, linked over an in-memory underlay with routes and an end-to-end session
/// between them (set up once). Datagrams are delivered at once; timers run when `settle` says.
final class NodePair: @unchecked Sendable {
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
        let datagrams = a.output.datagrams
        a.output.removeAll()
        for (bytes, _) in datagrams {
            var copy = bytes
            copy.withUnsafeMutableBytes { _ = b.receiveDatagram(inPlace: $0, from: epA, now: clock.now) }
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
            let datagrams = from.output.datagrams
            from.output.removeAll()
            for (bytes, _) in datagrams {
                moved = true
                var copy = bytes
                copy.withUnsafeMutableBytes { _ = to.receiveDatagram(inPlace: $0, from: fromEndpoint, now: clock.now) }
            }
        }
        return moved
    }

    func drop() {
        a.output.removeAll()
        b.output.removeAll()
    }

    static func packet(from source: IPv6Address, to destination: IPv6Address, nextHeader: UInt8, payload: some Collection<UInt8>) -> [UInt8] {
        var p: [UInt8] = [0x60, 0, 0, 0, UInt8(payload.count >> 8 & 0xff), UInt8(payload.count & 0xff), nextHeader, 64]
        p += source.bytes
        p += destination.bytes
        p += payload
        return p
    }

    nonisolated(unsafe) static var shared: NodePair?
    static func get() -> NodePair {
        if let p = shared { return p }
        let p = NodePair()
        shared = p
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
        for event in pair.a.links.drainEvents() {
            guard case .transmit(var bytes, _) = event else { continue }
            bytes.withUnsafeMutableBytes { _ = pair.b.receiveDatagram(inPlace: $0, from: pair.epA, now: pair.clock.now) }
        }
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
