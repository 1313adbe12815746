import XCTest
import PlanetCore
@testable import PlanetNode
import PlanetTesting

final class NodeMeshTests: XCTestCase {
    func echo(from s: IPv6Address, to d: IPv6Address, seq: UInt16 = 1, payload: Int = 32, hopLimit: UInt8 = 64) -> [UInt8] {
        var body: [UInt8] = [ICMPv6.echoRequest, 0, 0, 0, 0x12, 0x34, UInt8(seq >> 8), UInt8(seq & 0xff)]
        body.append(contentsOf: (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        return ICMPv6.packet(from: s, to: d, icmp: body, hopLimit: hopLimit)
    }

    func line4() -> NodeHarness {
        let h = NodeHarness()
        h.add("b")
        h.add("r2", peers: ["b"])
        h.add("r1", peers: ["r2"])
        h.add("a", peers: ["r1"])
        return h
    }

    func testLineOfFourRoutesEndToEnd() throws {
        let h = line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        XCTAssertEqual(a.links.upPeers.count, 1)
        let route = try XCTUnwrap(a.router.route(forAddress: b.address), "a has no route to b: \(a.router.routes())")
        XCTAssertEqual(route.destination, b.identity.publicKey)
        XCTAssertEqual(route.nextHop, h.nodes["r1"]!.identity.publicKey)
        let packet = echo(from: a.address, to: b.address)
        h.sendFromTun("a", packet)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [packet], "b did not receive a's packet intact")
        XCTAssertEqual(a.sessions.session(b.identity.publicKey)?.isEstablished, true)
    }
}

extension NodeMeshTests {
    /// b restarts with the same key and loses its session keys; a's traffic must get through
    /// again on its own (a notices its data goes unanswered and handshakes again).
    func testSessionRecoversAfterPeerRestart() throws {
        let h = line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!
        var b = h.nodes["b"]!
        h.sendFromTun("a", echo(from: a.address, to: b.address))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b").count, 1)
        // Restart b: same identity, fresh state.
        let identity = b.identity
        var config = b.config
        config.peers = []
        b = Node(identity: identity, config: config, now: h.now, random: SplitMix64(seed: 99))
        h.nodes["b"] = b
        h.run(seconds: 30)
        var delivered = 0
        for i in 0..<30 {
            h.sendFromTun("a", echo(from: a.address, to: b.address, seq: UInt16(i)))
            h.run(seconds: 1)
            delivered += h.takeTun("b").count
            if delivered > 0 { break }
        }
        XCTAssertGreaterThan(delivered, 0, "a's packets never reached the restarted b")
    }

    /// One-way traffic must not make the sender handshake again and again: the receiver's
    /// empty keepalives answer it.
    func testOneWayTrafficKeepsOneSession() throws {
        let h = line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        for i in 0..<200 {
            // UDP-like: no reply from b's side (we drop what reaches b's TUN).
            h.sendFromTun("a", echo(from: a.address, to: b.address, seq: UInt16(i)))
            h.run(seconds: 0.1)
        }
        XCTAssertEqual(h.takeTun("b").count, 200)
        XCTAssertEqual(a.stats.sessionsEstablished, 1, "a handshook again during a one-way flow")
    }
}

extension NodeMeshTests {
    /// a–r1–b and a–r2–b. The relay a's packets use goes silent; a's route (and so its route
    /// cache) must move to the other relay by itself, with the session kept.
    func testDiamondFailsOverToTheOtherRelay() throws {
        let h = NodeHarness()
        h.add("b")
        h.add("r1", peers: ["b"])
        h.add("r2", peers: ["b"])
        h.add("a", peers: ["r1", "r2"])
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        for i in 0..<20 { h.sendFromTun("a", echo(from: a.address, to: b.address, seq: UInt16(i))) }
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b").count, 20)
        XCTAssertGreaterThan(a.routeCache.hits, 0, "a run of packets to one address should reuse the route")
        let before = try XCTUnwrap(a.router.route(forAddress: b.address)).nextHop
        let used = try XCTUnwrap(h.nodes.first { $0.value.identity.publicKey == before }?.key)
        h.cut.insert(["a", used])
        var delivered = 0
        for i in 0..<60 where delivered == 0 {
            h.sendFromTun("a", echo(from: a.address, to: b.address, seq: UInt16(100 + i)))
            h.run(seconds: 1)
            delivered += h.takeTun("b").count
        }
        XCTAssertGreaterThan(delivered, 0, "a's packets never took the other relay")
        let after = try XCTUnwrap(a.router.route(forAddress: b.address)).nextHop
        XCTAssertNotEqual(after, before)
        XCTAssertEqual(a.sessions.session(b.identity.publicKey)?.isEstablished, true)
    }
}

extension NodeMeshTests {
    /// A relay set to a smaller MTU than the source forwards no larger packet: the source gets
    /// an ICMPv6 packet too big from the relay's address, with the relay's MTU, and a packet
    /// that fits still passes.
    func testARelayWithASmallerMTUAnswersPacketTooBig() throws {
        let h = NodeHarness()
        h.add("b")
        h.add("r", peers: ["b"], mtu: 1280)
        h.add("a", peers: ["r"])
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!, r = h.nodes["r"]!
        let big = ICMPv6.packet(from: a.address, to: b.address, icmp: [ICMPv6.echoRequest, 0, 0, 0, 0, 1, 0, 1] + [UInt8](repeating: 7, count: 1300))
        h.sendFromTun("a", big)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [], "a packet larger than r's MTU went through r")
        XCTAssertEqual(r.stats.dropped(.pathTooBig), 1)
        let tooBig = h.takeTun("a").filter { $0.count > 48 && $0[6] == 58 && $0[40] == 2 }
        XCTAssertEqual(tooBig.count, 1, "no packet too big came back to a")
        let answer = try XCTUnwrap(tooBig.first)
        XCTAssertEqual(IPv6Header(answer)?.source, r.address)
        XCTAssertEqual(Int(answer[44]) << 24 | Int(answer[45]) << 16 | Int(answer[46]) << 8 | Int(answer[47]), 1280)
        let fits = ICMPv6.packet(from: a.address, to: b.address, icmp: [ICMPv6.echoRequest, 0, 0, 0, 0, 1, 0, 2] + [UInt8](repeating: 7, count: 1000))
        h.sendFromTun("a", fits)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [fits])
    }

    /// A TCP segment whose checksum field holds only the pseudo-header sum.
    func partialTCP(from s: IPv6Address, to d: IPv6Address) -> [UInt8] {
        let payload = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 3) }
        var p: [UInt8] = [0x60, 0, 0, 0, UInt8((20 + payload.count) >> 8), UInt8((20 + payload.count) & 0xff), 6, 64]
        s.append(to: &p); d.append(to: &p)
        p += [0x10, 0x00, 0x20, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x10, 0x02, 0x00, 0, 0, 0, 0] + payload
        // The kernel's CHECKSUM_PARTIAL layout: the field holds the folded pseudo-header sum.
        let pseudo = p.withUnsafeBytes { InternetChecksum.fold(InternetChecksum.pseudoHeaderSum(ipv6: $0.baseAddress!, proto: 6, length: 20 + payload.count)) }
        p[56] = UInt8(pseudo >> 8); p[57] = UInt8(pseudo & 0xff)
        return p
    }

    /// The checksum-partial mark crosses the overlay with the packet, over a direct frame and
    /// through relays, and a packet that claims it without the layout is dropped.
    func testChecksumPartialMarkTravelsWithThePacket() throws {
        let h = line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!, r1 = h.nodes["r1"]!
        let relayed = partialTCP(from: a.address, to: b.address)
        a.receiveTunPacket(relayed, checksumPartial: true, now: h.now)
        h.collect("a")
        h.run(seconds: 1)
        a.receiveTunPacket(relayed, checksumPartial: true, now: h.now)   // the first may have waited for the session
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b").last, relayed)
        let direct = partialTCP(from: a.address, to: r1.address)
        a.receiveTunPacket(direct, checksumPartial: true, now: h.now)
        a.receiveTunPacket(direct, checksumPartial: false, now: h.now)
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("r1"), [direct, direct])
        // Marks in order: the partial one, then the same bytes sent as complete.
        h.sendFromTun("a", direct)
        a.receiveTunPacket(direct, checksumPartial: true, now: h.now)
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(h.tunPartial["r1"], [false, true])
        XCTAssertEqual(h.takeTun("r1").count, 2)
        // ICMPv6 has no partial layout: marked so, it is refused at the receiving node.
        let before = r1.stats.dropped(.overlayMalformed)
        a.receiveTunPacket(echo(from: a.address, to: r1.address), checksumPartial: true, now: h.now)
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("r1"), [])
        XCTAssertEqual(r1.stats.dropped(.overlayMalformed), before + 1)
    }
}
