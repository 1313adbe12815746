import XCTest
import PlanetCore
@testable import PlanetYggdrasil

final class YggdrasilIPv6Tests: XCTestCase {
    let me = NodeIdentity.generate()
    let peer = NodeIdentity.generate()
    let stranger = NodeIdentity.generate()
    let t0 = Instant(seconds: 50)

    func address(_ id: NodeIdentity) -> [UInt8] { OverlayAddress.addressBytes(for: id.publicKey) }
    /// An address in `id`'s /64 with host part `host`.
    func subnetAddress(_ id: NodeIdentity, host: UInt8 = 7) -> [UInt8] {
        var a = address(id)
        a[0] = 0x03
        for i in 8..<16 { a[i] = 0 }
        a[15] = host
        return a
    }

    /// A UDP packet of `length` bytes in all.
    func packet(from source: [UInt8], to destination: [UInt8], length: Int = 60) -> [UInt8] {
        let payload = length - 40
        var p: [UInt8] = [0x60, 0, 0, 0, UInt8(payload >> 8), UInt8(truncatingIfNeeded: payload), 17, 64]
        p += source + destination
        p += (0..<payload).map { UInt8(truncatingIfNeeded: $0) }
        return p
    }

    func layer(mtu: Int = 1500, config: YggdrasilIPv6Config = YggdrasilIPv6Config()) -> YggdrasilIPv6 {
        YggdrasilIPv6(identity: me, mtu: mtu, config: config)
    }

    /// An unknown address: the packet waits (the latest only) and the router is asked for the
    /// partial key; a notify for another key sends nothing, the right key's sends the latest
    /// packet, and later packets go straight out.
    func testAddressLookupBufferAndFlush() {
        let l = layer()
        let p1 = packet(from: address(me), to: address(peer))
        let p2 = packet(from: address(me), to: address(peer), length: 80)
        let partial = YggdrasilBloomKey.partialKey(fromAddressBytes: address(peer))
        XCTAssertEqual(l.outbound(p1, now: t0), [.lookup(partial)])
        XCTAssertEqual(l.outbound(p2, now: t0), [.lookup(partial)])
        XCTAssertEqual(l.drops[.bufferReplaced], 1)
        XCTAssertEqual(l.waitingCount, 1)
        XCTAssertEqual(l.pathNotify(key: stranger.publicKey, now: t0), [])
        XCTAssertEqual(l.pathNotify(key: peer.publicKey, now: t0), [.send(to: peer.publicKey, message: [1] + p2)])
        XCTAssertEqual(l.waitingCount, 0)
        XCTAssertEqual(l.pathNotify(key: peer.publicKey, now: t0), [])
        XCTAssertEqual(l.outbound(p1, now: t0), [.send(to: peer.publicKey, message: [1] + p1)])
        // The partial key is the peer's key as far as its address knows it.
        XCTAssertEqual(Array(partial.bytes.prefix(12)), Array(peer.publicKey.bytes.prefix(12)))
    }

    /// A destination in someone's /64: the lookup asks for exactly the entry yggdrasil puts in
    /// bloom filters (the /64's partial key), and the notify for the key flushes it; from our
    /// own /64 as source too.
    func testSubnetLookupBufferAndFlush() {
        let l = layer()
        let p = packet(from: subnetAddress(me, host: 9), to: subnetAddress(peer))
        XCTAssertEqual(l.outbound(p, now: t0), [.lookup(YggdrasilBloomKey.transform(peer.publicKey))])
        XCTAssertEqual(l.pathNotify(key: peer.publicKey, now: t0), [.send(to: peer.publicKey, message: [1] + p)])
        let q = packet(from: address(me), to: subnetAddress(peer, host: 200))
        XCTAssertEqual(l.outbound(q, now: t0), [.send(to: peer.publicKey, message: [1] + q)])
        // An address and a /64 of the same key waiting at once both go on its notify.
        let other = NodeIdentity.generate()
        let r = packet(from: address(me), to: address(other)), s = packet(from: address(me), to: subnetAddress(other))
        _ = l.outbound(r, now: t0)
        _ = l.outbound(s, now: t0)
        XCTAssertEqual(l.pathNotify(key: other.publicKey, now: t0),
                       [.send(to: other.publicKey, message: [1] + r), .send(to: other.publicKey, message: [1] + s)])
    }

    /// From the TUN: only our own sources, only Yggdrasil destinations, only IPv6.
    func testOutboundChecks() {
        let l = layer()
        XCTAssertEqual(l.outbound(packet(from: address(stranger), to: address(peer)), now: t0), [])
        XCTAssertEqual(l.drops[.sourceNotOurs], 1)
        var linkLocal = [UInt8](repeating: 0, count: 16)
        linkLocal[0] = 0xfe; linkLocal[1] = 0x80
        XCTAssertEqual(l.outbound(packet(from: address(me), to: linkLocal), now: t0), [])
        XCTAssertEqual(l.drops[.destinationNotYggdrasil], 1)
        var v4 = packet(from: address(me), to: address(peer))
        v4[0] = 0x45
        XCTAssertEqual(l.outbound(v4, now: t0), [])
        XCTAssertEqual(l.outbound(Array(packet(from: address(me), to: address(peer)).prefix(39)), now: t0), [])
        XCTAssertEqual(l.drops[.notIPv6], 2)
        XCTAssertEqual(l.waitingCount, 0)
    }

    /// The security check: a packet's source must be the sending key's address or in its /64.
    /// A peer that writes someone else's address as the source is refused (this test fails
    /// when the check is removed).
    func testInboundSourceMustBelongToSender() {
        let l = layer()
        let spoofed = packet(from: address(stranger), to: address(me))
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [1] + spoofed, now: t0), [])
        XCTAssertEqual(l.drops[.sourceNotSender], 1)
        let spoofedSubnet = packet(from: subnetAddress(stranger), to: address(me))
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [1] + spoofedSubnet, now: t0), [])
        XCTAssertEqual(l.drops[.sourceNotSender], 2)
        // The stranger's own packet, from the stranger's key, is fine: so is the peer's own.
        XCTAssertEqual(l.inbound(from: stranger.publicKey, message: [1] + spoofed, now: t0), [.toTUN(spoofed)])
        let honest = packet(from: address(peer), to: address(me))
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [1] + honest, now: t0), [.toTUN(honest)])
        let fromVM = packet(from: subnetAddress(peer, host: 77), to: subnetAddress(me))
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [1] + fromVM, now: t0), [.toTUN(fromVM)])
        XCTAssertEqual(l.drops.total, 2)
        // Senders are learnt: packets to them go without a lookup.
        let reply = packet(from: address(me), to: address(peer))
        XCTAssertEqual(l.outbound(reply, now: t0), [.send(to: peer.publicKey, message: [1] + reply)])
    }

    /// A packet must be for our address or our /64 (this test fails when the check is removed).
    func testInboundDestinationMustBeOurs() {
        let l = layer()
        let elsewhere = packet(from: address(peer), to: address(stranger))
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [1] + elsewhere, now: t0), [])
        let elsewhereSubnet = packet(from: address(peer), to: subnetAddress(stranger))
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [1] + elsewhereSubnet, now: t0), [])
        XCTAssertEqual(l.drops[.destinationNotOurs], 2)
        XCTAssertEqual(l.knownKeys, [], "a refused packet teaches nothing")
        let mine = packet(from: address(peer), to: subnetAddress(me, host: 3))
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [1] + mine, now: t0), [.toTUN(mine)])
    }

    /// Type 2 goes to whoever answers protocol messages; 0, unknown types and empty messages
    /// are ignored; a non-IPv6 type-1 message is dropped.
    func testInboundTypes() {
        let l = layer()
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [2, 1], now: t0), [.protocolMessage(from: peer.publicKey, body: [1])])
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [0, 1, 2], now: t0), [])
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [], now: t0), [])
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [7], now: t0), [])
        XCTAssertEqual(l.drops[.unknownType], 3)
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [1, 0x45, 0, 0], now: t0), [])
        XCTAssertEqual(l.drops[.notIPv6], 1)
    }

    func checkPacketTooBig(_ ptb: [UInt8], from source: [UInt8], to destination: [UInt8], mtu: Int, about original: [UInt8]) {
        XCTAssertEqual(ptb.count, 40 + 8 + 512)
        XCTAssertEqual(ptb[0], 0x60)
        XCTAssertEqual(Int(ptb[4]) << 8 | Int(ptb[5]), 8 + 512)
        XCTAssertEqual(ptb[6], 58)
        XCTAssertEqual(ptb[7], 255)
        XCTAssertEqual(Array(ptb[8..<24]), source)
        XCTAssertEqual(Array(ptb[24..<40]), destination)
        XCTAssertEqual(ptb[40], 2)
        XCTAssertEqual(ptb[41], 0)
        XCTAssertEqual(ptb[44..<48].reduce(0) { $0 << 8 | Int($1) }, mtu)
        XCTAssertEqual(Array(ptb[48...]), Array(original.prefix(512)))
        // The checksum sums to zero over the pseudo-header and the message.
        let sum = ptb.withUnsafeBytes { raw in
            InternetChecksum.sum(raw.baseAddress! + 40, ptb.count - 40,
                                 initial: InternetChecksum.pseudoHeaderSum(ipv6: raw.baseAddress!, proto: 58, length: ptb.count - 40))
        }
        XCTAssertEqual(InternetChecksum.fold(sum), 0xffff)
    }

    /// From the network, larger than our MTU: a packet-too-big back to its source, from its
    /// destination, through the network as ipv6rwc sends it (to a known key at once).
    func testInboundTooBigAnsweredOverTheNetwork() throws {
        let l = layer(mtu: 1400)
        _ = l.pathNotify(key: peer.publicKey, now: t0)
        let big = packet(from: address(peer), to: address(me), length: 1401)
        let out = l.inbound(from: peer.publicKey, message: [1] + big, now: t0)
        XCTAssertEqual(l.drops[.tooBig], 1)
        guard case .send(let to, let message)? = out.first, out.count == 1 else { return XCTFail("\(out)") }
        XCTAssertEqual(to, peer.publicKey)
        XCTAssertEqual(message[0], 1)
        checkPacketTooBig(Array(message.dropFirst()), from: address(me), to: address(peer), mtu: 1400, about: big)
        XCTAssertEqual(l.inbound(from: peer.publicKey, message: [1] + packet(from: address(peer), to: address(me), length: 1400), now: t0).count, 1)
    }

    /// From the TUN, larger than the MTU (planetd's TUN may allow more than Yggdrasil does): a
    /// packet-too-big to the TUN, from our address.
    func testOutboundTooBigAnsweredToTUN() {
        let l = layer(mtu: 1280)
        let big = packet(from: subnetAddress(me, host: 5), to: address(peer), length: 1281)
        let out = l.outbound(big, now: t0)
        guard case .toTUN(let ptb)? = out.first, out.count == 1 else { return XCTFail("\(out)") }
        checkPacketTooBig(ptb, from: address(me), to: subnetAddress(me, host: 5), mtu: 1280, about: big)
        XCTAssertEqual(l.waitingCount, 0)
        // Never an error about an ICMPv6 error.
        var icmpError = big
        icmpError[6] = 58
        icmpError[40] = 1
        XCTAssertEqual(l.outbound(icmpError, now: t0), [])
        XCTAssertEqual(l.drops[.tooBig], 2)
        // The MTU is never below IPv6's minimum.
        XCTAssertEqual(YggdrasilIPv6(identity: me, mtu: 500).mtu, 1280)
        XCTAssertEqual(YggdrasilIPv6.maximumMTU(sessionMessageMTU: 1_000_000), 65535)
    }

    /// Keys are forgotten two minutes after their last use; packets wait two minutes at most.
    func testExpiry() throws {
        let l = layer()
        _ = l.pathNotify(key: peer.publicKey, now: t0)
        _ = l.outbound(packet(from: address(me), to: address(stranger)), now: t0)
        let later = t0.adding(seconds: 60)
        XCTAssertEqual(l.outbound(packet(from: address(me), to: address(peer)), now: later).count, 1)
        l.tick(now: t0.adding(seconds: 121))
        XCTAssertEqual(l.drops[.bufferExpired], 1)
        XCTAssertEqual(l.knownKeys, [peer.publicKey], "used a minute ago")
        l.tick(now: t0.adding(seconds: 181))
        XCTAssertEqual(l.knownKeys, [])
        XCTAssertNil(l.nextDeadline)
        let p = packet(from: address(me), to: address(peer))
        XCTAssertEqual(l.outbound(p, now: t0.adding(seconds: 182)), [.lookup(YggdrasilBloomKey.partialKey(fromAddressBytes: address(peer)))])
    }

    /// The cache (fed by every sender) and the waiting packets are bounded.
    func testBounds() {
        var config = YggdrasilIPv6Config()
        config.maxKeys = 2
        config.maxBuffers = 3
        let l = layer(config: config)
        var now = t0
        var senders: [NodeIdentity] = []
        for _ in 0..<4 {
            let s = NodeIdentity.generate()
            senders.append(s)
            XCTAssertEqual(l.inbound(from: s.publicKey, message: [1] + packet(from: address(s), to: address(me)), now: now).count, 1)
            now = now.adding(seconds: 1)
        }
        XCTAssertEqual(l.knownKeys.count, 2)
        XCTAssertEqual(Set(l.knownKeys), Set(senders.suffix(2).map(\.publicKey)))
        XCTAssertEqual(l.drops[.cacheFull], 2)
        for i in 0..<5 {
            let d = NodeIdentity.generate()
            _ = l.outbound(packet(from: address(me), to: i % 2 == 0 ? address(d) : subnetAddress(d)), now: now)
            now = now.adding(seconds: 1)
        }
        XCTAssertEqual(l.waitingCount, 3)
        XCTAssertEqual(l.drops[.bufferFull], 2)
    }
}
