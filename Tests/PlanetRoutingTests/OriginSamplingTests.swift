import XCTest
import PlanetCore
@testable import PlanetRouting
import PlanetTesting

/// A node that does not originate its own route (`advertisesSelf` false: planetsim's
/// `--origins` sampling) still relays everyone else's, and nobody learns a route to it.
final class OriginSamplingTests: XCTestCase {
    func testSilentNodeRelaysButIsNotRouted() {
        let h = RouterHarness(count: 3)
        var quiet = RouterConfig()
        quiet.advertisesSelf = false
        h.routers[1] = Router(identity: RouterHarness.identity(1), config: quiet, origins: h.origins, now: h.now,
                              random: SplitMix64(seed: 5))
        h.connect(0, 1); h.connect(1, 2)
        h.pump()
        h.advance(130)  // two dumps, and a route request for the silent node's own key
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(1))
        XCTAssertEqual(h.routers[2].nextHop(to: h.key(0)), h.key(1))
        XCTAssertNil(h.routers[0].nextHop(to: h.key(1)))
        XCTAssertNil(h.routers[2].nextHop(to: h.key(1)))
        XCTAssertEqual(h.routers[1].reachableCount, 2)
        XCTAssertEqual(h.routers[0].reachableCount, 1)
    }
}

/// `maxAdvertsPerDrain` lets a runtime pace triggered updates: the rest wait, oldest first.
final class PacedOutputTests: XCTestCase {
    func testTriggeredChangesComeOutInBatches() {
        var c = RouterConfig()
        c.maxAdvertsPerDrain = 2
        let h = RouterHarness(count: 6, config: c)
        for i in 1..<6 { h.connect(i - 1, i) }
        h.pump()
        for r in h.routers { XCTAssertFalse(r.hasPendingOutput) }
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(5)), h.key(1))
        XCTAssertEqual(h.routers[5].reachableCount, 5)
        // Cutting the line in the middle loses 3 origins on each side; router 2 retracts them
        // toward router 1 two per drain.
        h.disconnect(2, 3)
        for (to, m) in h.routers[2].drainOutgoing() where to == h.key(1) { h.routers[1].receive(m, from: h.key(2), now: h.now) }
        XCTAssertTrue(h.routers[2].hasPendingOutput)
        h.pump()
        XCTAssertFalse(h.routers[2].hasPendingOutput)
        XCTAssertNil(h.routers[0].nextHop(to: h.key(5)))
        XCTAssertEqual(h.routers[0].reachableCount, 2)
    }
}

/// Keys and signatures are counted: once no router holds an origin, the directory forgets it.
final class OriginDirectoryTests: XCTestCase {
    func testForgottenOriginsLeaveNothingBehind() {
        let h = RouterHarness(count: 3)
        h.connect(0, 1); h.connect(1, 2)
        h.pump()
        XCTAssertEqual(h.origins.originCount, 3)
        XCTAssertEqual(h.origins.signatureCount, 3)
        h.disconnect(0, 1); h.disconnect(1, 2)
        h.advance(h.routers[0].config.sourceGarbageTime + 10)
        for r in h.routers { XCTAssertEqual(r.originCount, 0) }
        XCTAssertEqual(h.origins.originCount, 0)
        XCTAssertEqual(h.origins.signatureCount, 0)
    }
}
