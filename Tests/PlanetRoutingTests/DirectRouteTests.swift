import XCTest
import PlanetCore
@testable import PlanetRouting
import PlanetTesting

/// The origin's own link (a route whose next hop is the origin) replaces a relayed route as
/// soon as it is cheaper, without the switch hysteresis: a hole-punched link comes up with
/// about the relayed path's round trip and must still carry the pair's traffic.
final class DirectRouteTests: XCTestCase {
    /// 0 and 2 reach each other through 1 (20 + 20).
    func relayed() -> RouterHarness {
        let h = RouterHarness(count: 3)
        h.connect(0, 1, cost: 20); h.connect(1, 2, cost: 20)
        h.pump()
        return h
    }

    func testANewDirectLinkWinsByLessThanTheHysteresis() {
        let h = relayed()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(1))
        // Direct costs 30 against 40 relayed: 10 better, under the 16 of switchHysteresis.
        h.connect(0, 2, cost: 30)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(2), "the direct link lost to the relay")
        XCTAssertEqual(h.routers[2].nextHop(to: h.key(0)), h.key(0))
        XCTAssertEqual(h.routers[0].metric(to: h.key(2)), 30)
    }

    func testADirectLinkNoCheaperThanTheRelayDoesNotWin() {
        let h = relayed()
        h.connect(0, 2, cost: 45)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(1), "a dearer direct link took the route")
    }

    /// The exemption is one way: once direct, a relayed route still has to beat the hysteresis,
    /// so the pair does not flap between the two.
    func testTheRelayMustBeatTheHysteresisToTakeItBack() {
        let h = relayed()
        h.connect(0, 2, cost: 30)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(2))
        // Relayed now 40 vs direct 50: cheaper by 10, under the hysteresis: stay direct.
        h.routers[0].neighbourCost(h.key(2), cost: 50, now: h.now)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(2), "flapped back to the relay")
        // Direct 70: the relay (40) beats it by more than 16.
        h.routers[0].neighbourCost(h.key(2), cost: 70, now: h.now)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(1))
    }

    /// A relayed route to a third node is not exempt: between two relays the hysteresis holds.
    func testBetweenTwoRelaysTheHysteresisStillHolds() {
        let h = RouterHarness(count: 4)
        h.connect(0, 1, cost: 20); h.connect(1, 3, cost: 20)
        h.pump()
        h.connect(0, 2, cost: 15); h.connect(2, 3, cost: 15)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(1), "switched relays for a 10-unit gain")
    }
}
