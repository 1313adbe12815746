import XCTest
import PlanetCore
import PlanetRouting
import PlanetTesting

/// A dump (a new neighbour's whole table, the periodic refresh) leaves only as far as the
/// caller has room (`drainOutgoing(dumpRoom:)`), so on a paced link it does not sit in front of
/// what the neighbour needs now. `test_hostile_peer.sh` once failed on this: a newcomer c
/// joined the hub during a flood of fake origins, the hub's first RTT to c (its loop busy)
/// raised its metric to c, a's route to c turned unfeasible, and the seqno request a sent
/// for c waited at the hub behind c's full table of ~80,000 signed routes (8.5 MB, 8.5 s
/// at 1 MB/s), so a could not reach c for 8–10 s.
final class PacedDumpTests: XCTestCase {
    /// Routers joined by paced links: each link is a FIFO that hands over `perRound` bytes a
    /// round, and a router may add a dump to it while less than `room` waits (what planetd's
    /// `NeighbourPacer` and `Node.neighbourDumpQueueBytes` do in time).
    final class PacedNet {
        let h: RouterHarness
        let perRound: Int
        let room: Int
        var fifos: [[Int]: [[UInt8]]] = [:]

        init(_ h: RouterHarness, perRound: Int, room: Int) { self.h = h; self.perRound = perRound; self.room = room }

        func queued(_ i: Int, _ j: Int) -> Int { fifos[[i, j]]?.reduce(0) { $0 + $1.count } ?? 0 }

        func round() {
            for r in h.routers where r.hasUnverifiedUpdates { r.verifyBacklog(now: h.now, budget: .max) }
            for (i, r) in h.routers.enumerated() {
                for (to, m) in r.drainOutgoing(dumpRoom: { self.room - self.queued(i, self.h.index($0)!) }) {
                    fifos[[i, h.index(to)!], default: []].append(m)
                }
            }
            for (link, fifo) in fifos.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                var sent = 0, n = 0
                while n < fifo.count && sent < perRound {
                    sent += fifo[n].count
                    h.routers[link[1]].receive(fifo[n], from: h.key(link[0]), now: h.now)
                    n += 1
                }
                fifos[link] = Array(fifo.dropFirst(n))
            }
        }
    }

    /// `count` genuinely signed fake origins, announced to `router` by the neighbour `from`,
    /// ten to a message.
    func announceFakeOrigins(_ count: Int, to router: Router, from: PublicKey, now: Instant) {
        let fakes = (0..<count).map { _ in NodeIdentity.generate() }
        for chunk in stride(from: 0, to: fakes.count, by: 10) {
            var w = ByteWriter()
            w.u8(RoutingMessage.version)
            for f in fakes[chunk..<min(chunk + 10, fakes.count)] {
                RoutingTLV.update(origin: f.publicKey, seqno: 1, flags: 0, metric: 0,
                                  signature: OriginSignature.sign(f, seqno: 1, flags: 0)).encode(into: &w)
            }
            router.receive(w.bytes, from: from, now: now)
        }
    }

    /// Router 0 is the hub, 1 floods it with signed fake origins, 2 is a, 3 the newcomer c.
    /// While c is still receiving the hub's table, the hub's cost to c rises (its first RTT
    /// measurement); a's route to c is then unfeasible, a asks for a newer seqno, and the hub
    /// forwards the request to c. It overtakes the rest of c's table, so a reaches c again
    /// within a few rounds, long before the table is through; and the table still arrives
    /// whole. Fails when a dump is handed over in one piece (the request waits ~30 rounds).
    func testASeqnoRequestOvertakesTheTableANewNeighbourIsStillReceiving() {
        let h = RouterHarness(count: 4)
        h.connect(0, 1); h.connect(0, 2)
        h.pump()
        announceFakeOrigins(1000, to: h.routers[0], from: h.key(1), now: h.now)
        h.pump()
        XCTAssertEqual(h.routers[2].originCount, 1002)

        // c joins: its table is ~105 KB, 26 rounds at 4,000 bytes a round.
        let net = PacedNet(h, perRound: 4000, room: 8000)
        h.connect(0, 3)
        for _ in 0..<3 { net.round() }
        XCTAssertEqual(h.routers[2].nextHop(to: h.key(3)), h.key(0), "a has no route to c")
        XCTAssertLessThan(h.routers[3].originCount, 500, "the table was not paced")

        h.routers[0].neighbourCost(h.key(3), cost: 56, now: h.now)
        net.round()
        XCTAssertNil(h.routers[2].nextHop(to: h.key(3)), "a's route stayed feasible: the test no longer shows the request")
        var rounds = 0
        while h.routers[2].nextHop(to: h.key(3)) == nil && rounds < 100 { net.round(); rounds += 1 }
        XCTAssertEqual(h.routers[3].selfSeqno, 1, "c never got the seqno request")
        XCTAssertLessThanOrEqual(rounds, 6, "a reached c again only after \(rounds) rounds: the request waited behind c's table")
        XCTAssertLessThan(h.routers[3].originCount, 1003, "the table was through before the request: the test shows nothing")

        for _ in 0..<100 { net.round() }
        XCTAssertEqual(h.routers[3].originCount, 1003, "c is missing routes of the table")
        XCTAssertEqual(h.routers[2].nextHop(to: h.key(3)), h.key(0))
    }

    /// A dump handed over a slice at a time is written from the table as it is when each slice
    /// goes: an origin retracted while the dump is under way is never offered after its
    /// retraction, and one that moved to a newer seqno is never offered at its old one (a dump
    /// copied out of the table when it started would do both).
    func testADumpUnderWayCarriesTheTableAsItIsNow() {
        let h = RouterHarness(count: 3)
        h.connect(0, 1)
        let fakes = (0..<200).map { _ in NodeIdentity.generate() }
        func announce(_ f: NodeIdentity, seqno: UInt32, metric: UInt16 = 0) {
            var w = ByteWriter()
            w.u8(RoutingMessage.version)
            RoutingTLV.update(origin: f.publicKey, seqno: seqno, flags: 0, metric: metric,
                              signature: OriginSignature.sign(f, seqno: seqno, flags: 0)).encode(into: &w)
            h.routers[0].receive(w.bytes, from: h.key(1), now: h.now)
        }
        for f in fakes { announce(f, seqno: 1) }
        h.pump()
        XCTAssertEqual(h.routers[0].originCount, 201)

        let net = PacedNet(h, perRound: 2000, room: 2000)
        h.connect(0, 2)
        for _ in 0..<2 { net.round() }
        let early = h.routers[2].originCount
        XCTAssertLessThan(early, 150, "the table was not paced")
        // The last origin is withdrawn, the one before it moves on, while their turn in the dump is still to come.
        announce(fakes[199], seqno: 1, metric: RouteMetric.infinity)
        announce(fakes[198], seqno: 2)
        for _ in 0..<100 { net.round() }
        XCTAssertNil(h.routers[2].nextHop(to: fakes[199].publicKey), "a retracted origin was offered after its retraction")
        XCTAssertEqual(h.routers[2].routes().first { $0.origin == fakes[198].publicKey }?.seqno, 2)
        XCTAssertEqual(h.routers[2].reachableCount, 201, "the dump left out routes")
    }
    /// A summary falls due while a new neighbour is still receiving the table: it waits for the
    /// dump's end. Sent mid-dump, it would show every bucket whose routes are still to come as
    /// differing, and the neighbour's range lists would fetch those routes a second time.
    func testASummaryWaitsForTheDumpUnderWay() {
        let h = RouterHarness(count: 3)
        h.connect(0, 1)
        announceFakeOrigins(1000, to: h.routers[0], from: h.key(1), now: h.now)
        h.pump()

        let net = PacedNet(h, perRound: 4000, room: 8000)
        h.connect(0, 2)
        for _ in 0..<3 { net.round() }
        XCTAssertLessThan(h.routers[2].originCount, 500, "the table was not paced")
        // The summary interval passes while most of the table is still to go.
        h.now = h.now.adding(seconds: 70)
        for r in h.routers { r.tick(now: h.now) }
        for _ in 0..<200 { net.round() }
        XCTAssertEqual(h.routers[2].originCount, 1002, "the table did not arrive whole")
        XCTAssertGreaterThan(h.routers[0].stats.summariesSent, 0, "no summary went at all: the test shows nothing")
        XCTAssertEqual(h.routers[2].stats.bucketsDiffering, 0, "a summary reached the neighbour before the table did")
        XCTAssertEqual(h.routers[2].stats.rangeListsSent, 0)
    }
}

