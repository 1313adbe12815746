import PlanetCore
import PlanetYggdrasil

/// An ironwood router with two links to the same peer key and one to another, as a node
/// with a Yggdrasil peer has it; kept across inputs, so tree entries, blooms, lookups and paths
/// built by earlier inputs meet later ones. Its tables are bounded by `IronwoodRouter.Limits`.
final class IronwoodRouterUnderFuzz: FuzzWorld, @unchecked Sendable {
    let router: IronwoodRouter
    var clock = FuzzClock()
    /// The links and the key each goes to.
    let links: [(IronwoodPeerID, PublicKey)] = [
        (1, YggdrasilLinkFuzzTargets.parentKey.publicKey),
        (2, YggdrasilLinkFuzzTargets.parentKey.publicKey),
        (3, FuzzIdentity.make(24).publicKey),
    ]

    init() {
        var nonce: UInt64 = 0
        router = IronwoodRouter(identity: YggdrasilLinkFuzzTargets.handshakeKey, now: clock.now,
                                nonces: { nonce &+= 1; return nonce })
        router.setWallClock(unixSeconds: 1_796_620_000, at: clock.now)
        for (id, key) in links { router.addPeer(id, key: key, priority: UInt8(id), now: clock.now) }
    }
}

enum IronwoodRouterFuzzTargets {
    /// Ironwood frames (no handshake) into the router, the i-th frame on link i mod 3; a frame
    /// that makes the router throw closes that link, which comes back at once (as a peer
    /// redials). Between inputs a third of a second passes, so maintenance and expiry run too.
    /// The input's own sends: a Traffic frame's payload is also sent by us to its source, so
    /// lookups and buffered packets are exercised.
    static let frames = FuzzTarget("ironwood-router", "ironwood frames into the Yggdrasil router (tree, blooms, lookups, traffic)") { input in
        let w = IronwoodRouterUnderFuzz.get()
        var decoder = IronwoodFrameDecoder()
        decoder.append(Array(input))
        var index = 0
        while let frame = try? decoder.next() {
            let (id, key) = w.links[index % w.links.count]
            index += 1
            do {
                try w.router.receive(frame, from: id, now: w.clock.now)
            } catch {
                w.router.removePeer(id, now: w.clock.now)
                w.router.addPeer(id, key: key, priority: UInt8(id), now: w.clock.now)
            }
            if frame.type == .traffic, let traffic = try? IronwoodTraffic(body: frame.body) {
                w.router.send(to: traffic.source, payload: Array(traffic.payload.prefix(64)), now: w.clock.now)
            }
        }
        w.clock.tick(0.34)
        w.router.tick(now: w.clock.now)
        _ = w.router.takeOutput()
    }
}
