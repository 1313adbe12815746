import PlanetCore
import PlanetLink

/// Two link layers, A and B, linked in memory once; the targets then throw bytes at B.
final class LinkPair: FuzzWorld, @unchecked Sendable {
    let a: LinkLayer
    let b: LinkLayer
    let epA = Endpoint(ipv4: 10, 0, 0, 1, port: 7001)
    let epB = Endpoint(ipv4: 10, 0, 0, 2, port: 7002)
    let stranger = Endpoint(ipv4: 10, 9, 9, 9, port: 9999)
    var clock = FuzzClock()

    init() {
        a = LinkLayer(identity: FuzzIdentity.make(1), rng: SplitMix64(seed: 1), now: clock.now)
        b = LinkLayer(identity: FuzzIdentity.make(2), rng: SplitMix64(seed: 2), now: clock.now)
        a.addPeer(uri: PeerURI(host: "10.0.0.2", port: 7002, pinnedKey: b.identity.publicKey), now: clock.now)
        for _ in 0..<20 {
            var moved = false
            for (bytes, _) in a.transmits.drain() { b.receive(datagram: bytes, from: epA, now: clock.now); moved = true }
            for (bytes, _) in b.transmits.drain() { a.receive(datagram: bytes, from: epB, now: clock.now); moved = true }
            if !moved { break }
        }
        precondition(a.isUp(b.identity.publicKey) && b.isUp(a.identity.publicKey), "fuzz link pair did not link")
    }

    /// Drops whatever the layers queued, so state from one input does not pile up as events.
    func drain() {
        _ = a.drainEvents()
        _ = b.drainEvents()
        a.transmits.removeAll()
        b.transmits.removeAll()
    }

    /// `frame` sealed by A on the live link: the datagram B would receive.
    func sealed(_ frame: UnsafeRawBufferPointer) -> [UInt8]? {
        guard a.send(frame: frame, to: b.identity.publicKey, now: clock.now) else { return nil }
        return a.transmits.drain().first?.bytes
    }
}

enum LinkFuzzTargets {
    /// Every link frame before authentication: handshake init, response and finish, beacons,
    /// cookie replies, transport headers; from the linked peer's endpoint and a stranger's,
    /// by both receive paths (owned array and in place).
    static let datagram = FuzzTarget("link-datagram", "link frames and handshake messages as received from the underlay") { input in
        let pair = LinkPair.get()
        pair.clock.tick()
        pair.b.receive(datagram: Array(input), from: pair.stranger, now: pair.clock.now)
        var copy = Array(input)
        copy.withUnsafeMutableBytes { _ = pair.b.receive(inPlace: $0, from: pair.epA, now: pair.clock.now); pair.b.transmits.removeAll() }
        pair.drain()
    }

    /// What a linked neighbour can send after decryption: the input is sealed by A with the
    /// link's real keys, so B's inner-frame parser (keepalive, ping, pong, upper frames) sees
    /// it as authentic.
    static let innerFrame = FuzzTarget("link-inner", "decrypted link inner frames from an authenticated peer") { input in
        let pair = LinkPair.get()
        pair.clock.tick()
        guard var datagram = pair.sealed(input) else { pair.drain(); return }
        datagram.withUnsafeMutableBytes { _ = pair.b.receive(inPlace: $0, from: pair.epA, now: pair.clock.now); pair.b.transmits.removeAll() }
        pair.drain()
    }
}
