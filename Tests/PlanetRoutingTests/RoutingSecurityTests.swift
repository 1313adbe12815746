import XCTest
import PlanetCore
import PlanetRouting
import PlanetTesting

/// Checks of the router that no other test proves: remove one and its test here fails
/// (Docs/security.md lists every check and its test). A neighbour's messages go in through
/// `Router.receive`, as the node hands them over.
///
/// The topology is SignedOriginTests': node 1 is a misbehaving neighbour of node 0, and the
/// honest path to origin 3 is 0 - 2 - 3.
final class RoutingSecurityTests: XCTestCase {
    func network(config: RouterConfig = .init()) -> RouterHarness {
        let h = RouterHarness(count: 4, config: config)
        h.routers[3].restoreSelfSeqno(5)
        h.connect(0, 2, cost: 50); h.connect(2, 3, cost: 50)
        h.connect(0, 1, cost: 10)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(2))
        return h
    }

    /// Node 1's message to node 0.
    func inject(_ tlvs: [RoutingTLV], into h: RouterHarness) {
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        for t in tlvs { t.encode(into: &w) }
        h.routers[0].receive(w.bytes, from: h.key(1), now: h.now)
        h.routers[0].verifyBacklog(now: h.now, budget: .max)
    }

    /// Retractions are unsigned, so a neighbour may only withdraw the route it offered itself:
    /// node 1 retracting origin 3 leaves node 0's route through node 2 alone.
    func testARetractionRemovesOnlyTheSendersOwnRoute() {
        let h = network()
        inject([.retraction(origin: h.key(3))], into: h)
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(2))
        XCTAssertEqual(h.routers[0].route(forAddress: h.key(3).address)?.nextHop, h.key(2))
    }

    /// The origin table is bounded: validly signed origins beyond `maxOrigins` are dropped
    /// and counted, so a neighbour announcing many keys can't grow memory without end.
    func testOriginTableIsBounded() {
        var config = RouterConfig()
        config.maxOrigins = 5
        let h = network(config: config)
        let before = h.routers[0].originCount
        XCTAssertLessThanOrEqual(before, 5)
        let fresh = (0..<6).map { _ in NodeIdentity.generate() }
        inject(fresh.map { .update(origin: $0.publicKey, seqno: 1, flags: 0, metric: 0,
                                   signature: OriginSignature.sign($0, seqno: 1, flags: 0)) }, into: h)
        XCTAssertEqual(h.routers[0].originCount, 5)
        XCTAssertEqual(h.routers[0].stats.drops[.originTableFull], UInt64(6 - (5 - before)))
    }

    /// Fair shares of the origin table: node 1 floods signed fake origins far over its share
    /// (10 of 20 with two neighbours); once the table is full each new one evicts node 1's own
    /// oldest entry, node 2's origins stay routed, and a newcomer node 2 relays is stored and
    /// routed at once, taking the room from node 1's oldest. Fails when a full table refuses
    /// new origins again (the newcomer is not routed) or evicts the flood's newest.
    func testAFloodingNeighbourFillsOnlyItsShareOfTheOriginTable() {
        var config = RouterConfig()
        config.maxOrigins = 20
        config.minOriginShare = 1
        let h = network(config: config)
        let r = h.routers[0]
        XCTAssertEqual(r.originShare, 10)
        let before = r.originCount  // 1, 2 and 3
        let fakes = (0..<50).map { _ in NodeIdentity.generate() }
        inject(fakes.map { .update(origin: $0.publicKey, seqno: 1, flags: 0, metric: 0,
                                   signature: OriginSignature.sign($0, seqno: 1, flags: 0)) }, into: h)
        XCTAssertEqual(r.originCount, 20)
        XCTAssertEqual(r.originsHeld(from: h.key(1)), 20 - r.originsHeld(from: h.key(2)))
        XCTAssertEqual(r.stats.drops[.originTableFull], 0)
        XCTAssertEqual(r.stats.drops[.originEvicted], UInt64(50 - (20 - before)))
        XCTAssertNil(r.nextHop(to: fakes[0].publicKey), "the flood's oldest origin was kept")
        XCTAssertEqual(r.nextHop(to: fakes[49].publicKey), h.key(1), "the flood's newest origin was evicted")
        XCTAssertEqual(r.nextHop(to: h.key(3)), h.key(2), "the flood evicted another neighbour's origin")
        // A newcomer relayed by node 2.
        let newcomer = NodeIdentity.generate()
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        RoutingTLV.update(origin: newcomer.publicKey, seqno: 1, flags: 0, metric: 0,
                          signature: OriginSignature.sign(newcomer, seqno: 1, flags: 0)).encode(into: &w)
        r.receive(w.bytes, from: h.key(2), now: h.now)
        r.verifyBacklog(now: h.now, budget: .max)
        XCTAssertEqual(r.nextHop(to: newcomer.publicKey), h.key(2), "a full table refused an honest neighbour's newcomer")
        XCTAssertEqual(r.route(forAddress: newcomer.publicKey.address)?.nextHop, h.key(2))
        XCTAssertEqual(r.originCount, 20)
        XCTAssertEqual(r.stats.drops[.originTableFull], 0)
        // Node 1 leaves: what it brought has no share now and goes first.
        h.routers[0].neighbourDown(h.key(1), now: h.now)
        let later = NodeIdentity.generate()
        w = ByteWriter()
        w.u8(RoutingMessage.version)
        RoutingTLV.update(origin: later.publicKey, seqno: 1, flags: 0, metric: 0,
                          signature: OriginSignature.sign(later, seqno: 1, flags: 0)).encode(into: &w)
        r.receive(w.bytes, from: h.key(2), now: h.now)
        r.verifyBacklog(now: h.now, budget: .max)
        XCTAssertEqual(r.nextHop(to: later.publicKey), h.key(2))
    }

    /// Addresses are looked up by their first 64 bits; the rest must match too, so an address
    /// that only shares an origin's lookup tag is not routed to that origin.
    func testAnAddressSharingOnlyTheLookupTagIsNotRouted() {
        let h = network()
        let address = h.key(3).address
        XCTAssertNotNil(h.routers[0].route(forAddress: address))
        let sameTag = IPv6Address(high: address.high, low: address.low ^ 1)
        XCTAssertEqual(OverlayAddress.lookupTag(for: sameTag), OverlayAddress.lookupTag(for: address))
        XCTAssertNil(h.routers[0].route(forAddress: sameTag))
    }

    /// Seqno requests travel toward the origin only while their hop count lasts.
    func testSeqnoRequestsStopWhenTheirHopCountRunsOut() {
        let h = network()
        let r = h.routers[0]
        inject([.seqnoRequest(origin: h.key(3), seqno: 9, hopCount: 1)], into: h)
        XCTAssertEqual(r.stats.seqnoRequestsForwarded, 0)
        inject([.seqnoRequest(origin: h.key(3), seqno: 9, hopCount: 2)], into: h)
        XCTAssertEqual(r.stats.seqnoRequestsForwarded, 1)
    }

    /// The same seqno request repeated within the dedup time is forwarded once: a neighbour
    /// can't make node 0 amplify its requests.
    func testRepeatedSeqnoRequestsAreForwardedOnce() {
        let h = network()
        let r = h.routers[0]
        for _ in 0..<5 { inject([.seqnoRequest(origin: h.key(3), seqno: 9, hopCount: 10)], into: h) }
        XCTAssertEqual(r.stats.seqnoRequestsForwarded, 1)
        XCTAssertEqual(r.stats.drops[.duplicateRequest], 4)
    }

    /// The table that remembers forwarded seqno requests (for the dedup above) is bounded:
    /// a neighbour asking for ever new seqnos gets no more forwarded than it holds, and the
    /// rest is counted.
    func testTheSeqnoRequestTableIsBounded() {
        var config = RouterConfig()
        config.maxPendingRequests = 4
        let h = network(config: config)
        let r = h.routers[0]
        inject((0..<10).map { .seqnoRequest(origin: h.key(3), seqno: 100 + UInt32($0), hopCount: 10) }, into: h)
        XCTAssertEqual(r.stats.seqnoRequestsForwarded, 4)
        XCTAssertEqual(r.stats.drops[.requestTableFull], 6)
        XCTAssertEqual(r.stats.drops[.duplicateRequest], 0)
    }

    /// Replies a neighbour's requests cause are bounded per neighbour.
    func testRepliesToOneNeighbourAreBounded() {
        var config = RouterConfig()
        config.maxPendingRequests = 4
        let h = network(config: config)
        _ = h.routers[0].drainOutgoing()
        let asked = (0..<10).map { _ in RoutingTLV.routeRequest(origin: NodeIdentity.generate().publicKey) }
        inject(asked, into: h)
        XCTAssertEqual(h.routers[0].stats.drops[.queueFull], 6)
    }

    /// Routes held per origin are bounded (`maxRoutesPerOrigin`): six neighbours offering
    /// one origin leave node 0 with four candidates, the worse offers dropped and counted.
    func testRoutesPerOriginAreBounded() {
        var config = RouterConfig()
        config.maxRoutesPerOrigin = 4
        let h = RouterHarness(count: 8, config: config)
        for i in 1...6 {
            h.connect(0, i, cost: UInt16(10 * i))
            h.connect(i, 7, cost: 10)
        }
        h.pump()
        let route = h.routers[0].routes().first { $0.origin == h.key(7) }
        XCTAssertEqual(route?.candidates.count, 4)
        XCTAssertEqual(route?.nextHop, h.key(1))
        XCTAssertGreaterThan(h.routers[0].stats.drops[.routeSlotsFull], 0)
    }

    /// The neighbour table is bounded.
    func testNeighbourTableIsBounded() {
        var config = RouterConfig()
        config.maxNeighbours = 2
        let h = RouterHarness(count: 4, config: config)
        for i in 1...3 { h.routers[0].neighbourUp(h.key(i), cost: 10, now: h.now) }
        XCTAssertEqual(h.routers[0].neighbourKeys.count, 2)
        XCTAssertEqual(h.routers[0].stats.drops[.neighbourTableFull], 1)
    }
}
