import XCTest
import PlanetCore
@testable import PlanetRouting
import PlanetTesting

final class FeasibilityTests: XCTestCase {
    func entry(fd: (UInt32, UInt16)?) -> OriginEntry {
        var e = OriginEntry(origin: 0, seqno: 10, signature: 0)
        if let fd { e.hasFeasibilityDistance = true; e.fdSeqno = fd.0; e.fdMetric = fd.1 }
        return e
    }

    func testNoDistanceAcceptsAnything() {
        XCTAssertTrue(entry(fd: nil).isFeasible(seqno: 0, metric: 5000))
    }

    func testSameSeqnoNeedsStrictlySmallerMetric() {
        let e = entry(fd: (10, 100))
        XCTAssertTrue(e.isFeasible(seqno: 10, metric: 99))
        XCTAssertFalse(e.isFeasible(seqno: 10, metric: 100))
        XCTAssertFalse(e.isFeasible(seqno: 10, metric: 101))
    }

    func testNewerSeqnoAlwaysFeasibleOlderNever() {
        let e = entry(fd: (10, 100))
        XCTAssertTrue(e.isFeasible(seqno: 11, metric: 60000))
        XCTAssertFalse(e.isFeasible(seqno: 9, metric: 1))
    }

    func testFeasibilityAcrossWrap() {
        let e = entry(fd: (0xFFFF_FFFF, 100))
        XCTAssertTrue(e.isFeasible(seqno: 0, metric: 500))
        XCTAssertFalse(e.isFeasible(seqno: 0xFFFF_FFFE, metric: 1))
    }

    func testRetractionAlwaysFeasible() {
        XCTAssertTrue(entry(fd: (10, 100)).isFeasible(seqno: 3, metric: RouteMetric.infinity))
    }

    /// A neighbour offering a route whose metric is not below our distance is ignored even
    /// when it is cheaper than what we have left: that is what prevents loops.
    func testUnfeasibleRouteIsNotSelectedAndStarvationAsksForSeqno() {
        // 0 - 1 - 3 costs 40; 0 - 2 - 3 costs 145 and 2 advertises 45, not below 0's 40.
        let h = RouterHarness(count: 4)
        h.connect(0, 1, cost: 20); h.connect(1, 3, cost: 20)
        h.connect(0, 2, cost: 100); h.connect(2, 3, cost: 45)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(1))
        // 2 advertises 45 for 3 (our distance is 40): unfeasible until a new seqno arrives.
        let info = h.routers[0].routes().first { $0.origin == h.key(3) }!
        XCTAssertEqual(info.candidates.first { $0.neighbour == h.key(2) }?.feasible, false)
        let requestsBefore = h.routers[0].stats.seqnoRequestsSent
        h.routers[0].neighbourDown(h.key(1), now: h.now)
        XCTAssertGreaterThan(h.routers[0].stats.seqnoRequestsSent, requestsBefore)
        h.links.remove([0, 1])
        h.routers[1].neighbourDown(h.key(0), now: h.now)
        h.pump()
        // The request reached 3, which bumped its seqno; the long route is now selected.
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(2))
        XCTAssertEqual(h.routers[3].selfSeqno, 1)
    }
}
