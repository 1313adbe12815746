#if canImport(Glibc)
import Glibc
#endif
import PlanetCapacity
import PlanetCore
import PlanetLink
import PlanetNode
import PlanetRouting

/// `planethostile flood`: links to one node and sends it what no honest node would, one
/// misbehaviour per run (Tests/Integration/test_hostile_peer.sh). It needs no node of its own,
/// so it can send anything a link carries.
final class Flood {
    static let modes = ["malformed", "origins", "retract", "replay", "sessions", "records"]

    let link: HostileLink
    let target: PublicKey
    private(set) var sent = 0
    private var rng = SplitMix64(seed: 15)

    /// Links to `peer`; exits 1 if the link is not up within 10 s.
    init(link: HostileLink, peer: Peer) {
        self.link = link
        link.dial(peer)
        var up: PublicKey?
        let deadline = link.now().adding(seconds: 10)
        while up == nil, link.now() < deadline {
            link.pump(0.05) { if case .linkUp(let key, _, _) = $0 { up = key } }
        }
        guard let up else { die(1, "no link to \(peer.text) within 10 s") }
        target = up
    }

    /// Sends `count` of `mode`'s frames, then runs the link a second so they leave.
    func run(_ mode: String, count: Int) {
        switch mode {
        case "malformed":
            let types: [UInt8] = [0x00, 0x01, 0x02, 0x10, 0x11, 0x20, 0x21, 0x22, 0x30, 0xff]
            for i in 0..<count {
                let length = Int(rng.next() % 300)
                frame([types[i % types.count]] + randomBytes(length))
            }
        case "origins":
            var batch: [RoutingTLV] = []
            for _ in 0..<count {
                let fake = NodeIdentity.generate()
                batch.append(.update(origin: fake.publicKey, seqno: 1, flags: 0, metric: 10,
                                     signature: OriginSignature.sign(fake, seqno: 1, flags: 0)))
                if batch.count == 1000 { routing(batch); batch.removeAll() }
            }
            routing(batch)
        case "retract":
            var batch: [RoutingTLV] = []
            for i in 0..<count {
                let key = PublicKey(randomBytes(32)) ?? link.identity.publicKey
                batch.append(i % 2 == 0 ? .retraction(origin: key) : .refresh(origin: key, seqno: UInt32.max, metric: 0))
            }
            routing(batch)
        case "replay":
            let fake = NodeIdentity.generate()
            let update = RoutingTLV.update(origin: fake.publicKey, seqno: 7, flags: 0, metric: 10,
                                           signature: OriginSignature.sign(fake, seqno: 7, flags: 0))
            for _ in 0..<count { routing([update]) }
        case "sessions":
            for i in 0..<count {
                let hs = HandshakeInitiator(local: link.identity, localIndex: UInt32(i + 1), expectedPeer: target, domain: "planetary-session-v1")
                let message = [SessionMessageType.handshakeInit.rawValue] + hs.initMessage()
                frame(OverlayPacket.make(hopLimit: 64, destination: target.address, source: link.identity.address, message: message))
            }
        case "records":
            records(count)
        default:
            die(2, "unknown MODE '\(mode)'")
        }
        link.pump(1)
    }

    /// One inner frame to the target on the link; the link keeps running between sends.
    private func frame(_ bytes: [UInt8]) {
        if link.send(frame: bytes, to: target) { sent += 1 }
        if sent % 64 == 0 { link.pump(0.001) } else { link.flush() }
    }

    /// Routing TLVs packed into messages that fit a link frame (the routing inner frame 0x10).
    private func routing(_ tlvs: [RoutingTLV]) {
        var w = ByteWriter(capacity: 1400)
        w.u8(RoutingMessage.version)
        for tlv in tlvs {
            if w.bytes.count + tlv.encodedSize > 1200 {
                frame([InnerFrameType.routing.rawValue] + w.bytes)
                w = ByteWriter(capacity: 1400)
                w.u8(RoutingMessage.version)
            }
            tlv.encode(into: &w)
        }
        if w.bytes.count > 1 { frame([InnerFrameType.routing.rawValue] + w.bytes) }
    }

    /// 100 re-announcements of one key (far faster than its rate limit), then `count`
    /// genuinely signed records for fresh keys. Records carry Unix times; each is valid for an
    /// hour from now, so the receiver's rules (issue time, expiry, lifetime) pass and only its
    /// bounds and rate limits stand in the way.
    private func records(_ count: Int) {
        let unix = UInt64(link.unixNow())
        var batch: [[UInt8]] = []
        var size = 2
        func add(_ record: [UInt8]) {
            if !batch.isEmpty && (size + 2 + record.count > CapacityMessage.maxBytes || batch.count == 255) {
                self.frame([InnerFrameType.capacity.rawValue] + CapacityMessage.records(batch).encoded())
                batch.removeAll()
                size = 2
            }
            batch.append(record)
            size += 2 + record.count
        }
        // The re-announcements first, while the directory still has room for their key.
        let churner = NodeIdentity.generate()
        for seqno in 1...100 {
            add(CapacityRecord(key: churner.publicKey, seqno: UInt64(seqno), issuedAt: unix, expiresAt: unix + 3600).signed(by: churner))
        }
        for _ in 0..<count {
            let fake = NodeIdentity.generate()
            add(CapacityRecord(key: fake.publicKey, seqno: 1, issuedAt: unix, expiresAt: unix + 3600,
                               total: CapacityResources(cru: 64, mru: 1 << 40, sru: 0, hru: 0), country: "ZZ").signed(by: fake))
        }
        if !batch.isEmpty { frame([InnerFrameType.capacity.rawValue] + CapacityMessage.records(batch).encoded()) }
    }

    private func randomBytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
}
