import XCTest
import PlanetCore
@testable import PlanetNode
import PlanetRouting
import PlanetTesting

/// A neighbour sending many genuinely signed fake origins must not stall the relay's data:
/// the datagrams carrying the flood cost no signature checks, packets through the relay are
/// forwarded while the flood waits, and each turn of the loop (a tick) checks one slice.
final class OriginFloodTests: XCTestCase {
    /// Delivers what is in flight now, without firing any node's deadline (one "turn" of reads).
    func deliverInFlight(_ h: NodeHarness) {
        let ready = h.inFlight
        h.inFlight = []
        for d in ready {
            guard let name = h.names[d.to], let node = h.nodes[name] else { continue }
            h.deliver(d, to: name, node: node)
            h.collect(name)
        }
    }

    func testAFloodOfSignedOriginsLeavesDataFlowingBetweenSlices() throws {
        let h = NodeHarness()
        h.add("b")
        h.add("r", peers: ["b"])
        h.add("a", peers: ["r"])
        h.add("x", peers: ["r"])
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!, r = h.nodes["r"]!, x = h.nodes["x"]!
        h.sendFromTun("a", echoPacket(from: a.address, to: b.address, seq: 1))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b").count, 1, "no session a → b before the flood")
        let routesBefore = r.router.originCount

        // x floods r over its real link with 1,000 signed updates for fresh keys.
        let count = 1000
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        func flush() {
            _ = x.links.send(frame: [InnerFrameType.routing.rawValue] + w.bytes, to: r.identity.publicKey, now: h.now)
            w = ByteWriter()
            w.u8(RoutingMessage.version)
        }
        for i in 0..<count {
            let pair = Sodium.signKeypair(seed: [0x5a, UInt8(i & 0xff), UInt8(i >> 8)] + [UInt8](repeating: 3, count: 29))
            let fake = NodeIdentity(secretKey: pair.secret, publicKey: PublicKey(pair.publicKey)!)
            let tlv = RoutingTLV.update(origin: fake.publicKey, seqno: 1, flags: 0, metric: 10,
                                        signature: OriginSignature.sign(fake, seqno: 1, flags: 0))
            if w.bytes.count + tlv.encodedSize > 1200 { flush() }
            tlv.encode(into: &w)
        }
        flush()
        x.pump(now: h.now)
        h.collect("x")

        let verified = r.router.stats.signaturesVerified
        deliverInFlight(h)
        XCTAssertEqual(r.router.stats.signaturesVerified, verified, "r checked signatures while reading the flood's datagrams")
        XCTAssertEqual(r.router.unverifiedUpdates(from: x.identity.publicKey), count)
        XCTAssertLessThanOrEqual(r.nextDeadline, h.now, "r must be due at once to work off the backlog")

        // a's next packet crosses r before r has checked any of the flood.
        let packet = echoPacket(from: a.address, to: b.address, seq: 2)
        h.sendFromTun("a", packet)
        deliverInFlight(h)
        deliverInFlight(h)
        XCTAssertEqual(h.takeTun("b"), [packet], "the packet waited behind the flood")
        XCTAssertEqual(r.router.unverifiedUpdates(from: x.identity.publicKey), count)

        // One turn of r's loop checks one slice, no more.
        r.tick(now: h.now)
        XCTAssertEqual(r.router.stats.signaturesVerified, verified + r.router.config.verificationsPerTurn)

        // Left to itself, r works the backlog off and holds the origins.
        h.run(seconds: 2)
        XCTAssertFalse(r.router.hasUnverifiedUpdates)
        XCTAssertEqual(r.router.originCount, routesBefore + count)
        h.sendFromTun("a", echoPacket(from: a.address, to: b.address, seq: 3))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b").count, 1, "a → b broken after the flood")
    }
}
