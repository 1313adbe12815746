import XCTest
import PlanetCore
@testable import PlanetRouting
import PlanetTesting

final class RouterBasicsTests: XCTestCase {
    func testTwoNodesLearnEachOther() {
        let h = RouterHarness(count: 2)
        h.connect(0, 1)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(1)), h.key(1), "\(h.routers[0].stats) \(h.routers[1].stats)")
        XCTAssertEqual(h.routers[1].nextHop(to: h.key(0)), h.key(0))
    }
}

final class RouterSteadyStateTests: XCTestCase {
    func testSteadyStateIsQuiet() {
        let h = RouterHarness(count: 4)
        h.connect(0, 1); h.connect(1, 2); h.connect(2, 3); h.connect(3, 0)
        h.pump()
        h.advance(10)
        let before = h.routers.map(\.stats.bytesSent).reduce(0, +)
        h.advance(600)
        let after = h.routers.map(\.stats.bytesSent).reduce(0, +)
        // 4 nodes x 2 neighbours x ~10 dumps of 4 routes: a few kB, not a storm.
        XCTAssertLessThan(after - before, 20_000, "\(h.routers[0].stats)")
    }
}
