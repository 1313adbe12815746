import XCTest
import PlanetCore
@testable import PlanetRouting
import PlanetTesting

final class RouteSelectionTests: XCTestCase {
    /// 0 reaches 3 through 1 (20+20) or 2 (20+30).
    func diamond() -> RouterHarness {
        let h = RouterHarness(count: 4)
        h.connect(0, 1, cost: 20); h.connect(1, 3, cost: 20)
        h.connect(0, 2, cost: 20); h.connect(2, 3, cost: 30)
        h.pump()
        return h
    }

    func testPicksCheapestPath() {
        let h = diamond()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(1))
        XCTAssertEqual(h.routers[0].metric(to: h.key(3)), 40)
    }

    func testSmallCostChangesAreIgnored() {
        let h = diamond()
        h.routers[0].neighbourCost(h.key(1), cost: 23, now: h.now)
        XCTAssertEqual(h.routers[0].metric(to: h.key(3)), 40, "a 3-unit wobble must not move the metric")
        h.routers[0].neighbourCost(h.key(1), cost: 30, now: h.now)
        XCTAssertEqual(h.routers[0].metric(to: h.key(3)), 50)
    }

    func testSwitchNeedsToBeatHysteresis() {
        let h = diamond()
        // Via 1 now costs 65, via 2 costs 50: better, but by less than the hysteresis (16).
        h.routers[0].neighbourCost(h.key(1), cost: 45, now: h.now)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(1))
        // Via 1 costs 80 now: 50 + 16 < 80, switch.
        h.routers[0].neighbourCost(h.key(1), cost: 60, now: h.now)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(2))
    }

    func testRetractionRemovesRoute() {
        let h = RouterHarness(count: 3)
        h.connect(0, 1); h.connect(1, 2)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(1))
        h.disconnect(1, 2)
        h.pump()
        XCTAssertNil(h.routers[0].nextHop(to: h.key(2)))
        // The origin stays known (its feasibility distance protects against loops) but unselected.
        let info = h.routers[0].routes().first { $0.origin == h.key(2) }
        XCTAssertNotNil(info)
        XCTAssertNil(info?.nextHop)
        XCTAssertNotNil(info?.feasibilityDistance)
    }

    func testRoutesExpireWithoutRefresh() {
        let h = RouterHarness(count: 2)
        h.connect(0, 1)
        h.pump()
        XCTAssertNotNil(h.routers[0].nextHop(to: h.key(1)))
        // The link silently stops carrying anything; the node is never told.
        h.links.removeAll()
        h.advance(h.routers[0].config.routeHoldTime - 20)
        XCTAssertNotNil(h.routers[0].nextHop(to: h.key(1)))
        h.advance(40)
        XCTAssertNil(h.routers[0].nextHop(to: h.key(1)))
        // And the origin is forgotten after the garbage time.
        h.advance(h.routers[0].config.sourceGarbageTime + 10)
        XCTAssertEqual(h.routers[0].originCount, 0)
    }

    func testPeriodicRefreshKeepsRoutes() {
        let h = RouterHarness(count: 3)
        h.connect(0, 1); h.connect(1, 2)
        h.pump()
        h.advance(1000)
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(1))
        XCTAssertEqual(h.routers[0].stats.drops[.unverifiedRefresh], 0)
    }

    func testAddressLookup() {
        let h = RouterHarness(count: 3)
        h.connect(0, 1); h.connect(1, 2)
        h.pump()
        let r = h.routers[0]
        let dest = h.key(2)
        XCTAssertEqual(r.route(forAddress: dest.address)?.destination, dest)
        XCTAssertEqual(r.route(forAddress: dest.address)?.nextHop, h.key(1))
        var inSubnet = dest.subnet.address
        inSubnet.low = 0x1234
        XCTAssertEqual(r.route(forAddress: inSubnet)?.destination, dest)
        // Same lookup tag, different interface bits: not this node's address.
        var wrong = dest.address
        wrong.low ^= 1
        XCTAssertNil(r.route(forAddress: wrong))
        XCTAssertNil(r.route(forAddress: h.key(0).address), "own address is delivered locally, not routed")
        XCTAssertNil(r.route(forAddress: IPv6Address("fd00::1")!))
    }

    func testOriginTableIsBounded() {
        var config = RouterConfig()
        config.maxOrigins = 2
        let h = RouterHarness(count: 5, config: config)
        for i in 1..<5 { h.connect(i - 1, i) }
        h.pump()
        XCTAssertTrue(h.routers.allSatisfy { $0.originCount <= 2 })
        XCTAssertEqual(h.routers[2].originCount, 2)
        XCTAssertGreaterThan(h.routers[2].stats.drops[.originTableFull], 0)
    }

    func testMessagesRespectSizeLimit() {
        let h = RouterHarness(count: 40)
        for i in 1..<40 { h.connect(0, i) }
        var largest = 0
        h.pump(intercept: { _, _, m in largest = max(largest, m.count); return m })
        XCTAssertLessThanOrEqual(largest, h.routers[0].config.maxMessageBytes)
        XCTAssertGreaterThan(largest, 600, "updates are batched")
        XCTAssertEqual(h.routers[1].reachableCount, 39)
    }
}
