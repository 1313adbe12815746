import XCTest
import PlanetCore
@testable import PlanetRouting
import PlanetTesting

final class MalformedInputTests: XCTestCase {
    func testEveryTLVRoundTrips() {
        let k = RouterHarness.identity(1).publicKey
        let tlvs: [RoutingTLV] = [
            .update(origin: k, seqno: 0xDEAD_BEEF, flags: 3, metric: 77, signature: Array(0..<64)),
            .refresh(origin: k, seqno: 1, metric: 2), .retraction(origin: k),
            .routeRequest(origin: k), .routeRequest(origin: nil),
            .seqnoRequest(origin: k, seqno: 9, hopCount: 64),
        ]
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        for t in tlvs { t.encode(into: &w) }
        XCTAssertEqual(w.bytes.count, 1 + tlvs.reduce(0) { $0 + $1.encodedSize })
        var unknown = 0
        XCTAssertEqual(try RoutingMessage.decode(w.bytes, unknown: &unknown).get(), tlvs)
        // Unknown TLV types are skipped, not fatal.
        XCTAssertEqual(try RoutingMessage.decode(w.bytes + [0x7f, 2, 0, 0], unknown: &unknown).get(), tlvs)
        XCTAssertEqual(unknown, 1)
    }

    func testBrokenMessagesAreRejected() {
        var unknown = 0
        XCTAssertEqual(RoutingMessage.decode([], unknown: &unknown), .failure(.empty))
        XCTAssertEqual(RoutingMessage.decode([2], unknown: &unknown), .failure(.badVersion))
        XCTAssertEqual(RoutingMessage.decode([1, 3], unknown: &unknown), .failure(.truncated))
        XCTAssertEqual(RoutingMessage.decode([1, 3, 5, 0, 0, 0, 0, 0], unknown: &unknown), .failure(.badLength))
    }

    func testRandomAndMutatedInputNeverCrashes() {
        let h = RouterHarness(count: 3)
        h.connect(0, 1); h.connect(1, 2)
        var valid: [[UInt8]] = []
        h.pump(intercept: { _, _, m in valid.append(m); return m })
        var rng = SplitMix64(seed: 42)
        let r = h.routers[0]
        for i in 0..<20_000 {
            var m: [UInt8]
            if i % 2 == 0 {
                m = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if !m.isEmpty && i % 4 == 0 { m[0] = RoutingMessage.version }
            } else {
                m = valid[Int(rng.next() % UInt64(valid.count))]
                switch rng.next() % 3 {
                case 0: m = Array(m.prefix(Int(rng.next() % UInt64(m.count + 1))))
                case 1: if !m.isEmpty { m[Int(rng.next() % UInt64(m.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
                default: m += (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                }
            }
            r.receive(m, from: h.key(1), now: h.now)
            r.verifyBacklog(now: h.now, budget: .max)
            _ = r.drainOutgoing()
        }
        XCTAssertGreaterThan(r.stats.drops[.malformed], 1000)
        XCTAssertGreaterThan(r.stats.drops[.badSignature], 0)
        // Still routes correctly afterwards (replayed retractions may have removed the route
        // until the next dump: a neighbour may always withdraw what it offers).
        h.pump()
        h.advance(h.routers[0].config.dumpInterval * 1.2)
        XCTAssertEqual(r.nextHop(to: h.key(2)), h.key(1))
    }

    func testMessagesFromStrangersAreDropped() {
        let h = RouterHarness(count: 2)
        h.routers[0].receive([1], from: h.key(1), now: h.now)
        XCTAssertEqual(h.routers[0].stats.drops[.fromNonNeighbour], 1)
    }
}
