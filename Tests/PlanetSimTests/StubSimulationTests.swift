import XCTest
import PlanetCore
import PlanetRouting
@testable import PlanetSim

/// planetsim with stub nodes (`--stubs`): routers and stubs together, every phase.
final class StubSimulationTests: XCTestCase {
    func config(routers: Int, stubs: Int, stubPeers: Int, seed: UInt64) -> SimulationConfig {
        var c = SimulationConfig()
        c.nodes = routers
        c.stubs = stubs
        c.stubPeers = stubPeers
        c.seed = seed
        c.degree = 4
        c.steadySeconds = 60
        c.settleSeconds = 5
        c.maxPhaseSeconds = 120
        c.sampleSources = 1_000
        c.stubResolves = 4
        return c
    }

    /// 40 routers and 60 stubs with two upstreams each: every router reaches every stub and
    /// every router, every stub reaches everyone through its upstream, no loops, links failing
    /// (stub links among them) heal, and the stubs resolve destinations through their upstream.
    /// A stub holds no routes and its link carries a fraction of a router link's traffic.
    func testStubsAmongRoutersConvergeFailOverAndResolve() {
        for seed in UInt64(1)...3 {
            var c = config(routers: 40, stubs: 60, stubPeers: 2, seed: seed)
            c.failLinks = 12
            let sim = Simulation(config: c)
            let report = sim.runScenario()
            XCTAssertEqual(report.stubs, 60)
            XCTAssertEqual(report.stubLinks, 120)
            XCTAssertNotNil(report.convergedSeconds, "seed \(seed)")
            XCTAssertEqual(report.loopsObserved, 0, "seed \(seed)")
            XCTAssertEqual(report.unreachablePairs, 0, "seed \(seed)")
            XCTAssertTrue(sim.routeCountsMatch(), "seed \(seed): routers hold exactly the origins, stubs included, they can reach")
            XCTAssertGreaterThan(report.stubResolutions.asked, 0)
            XCTAssertEqual(report.stubResolutions.wrong, 0, "seed \(seed)")
            XCTAssertGreaterThan(report.failoverPairs, 0, "seed \(seed): no sampled path crossed a failed link")
            XCTAssertEqual(report.failoverUnrecovered, 0, "seed \(seed)")
            for i in 40..<100 { XCTAssertEqual(sim.router(i)?.originCount, 0, "seed \(seed): stub \(i) holds routes") }
            let stubRate = report.steadyStubLinkRate ?? .infinity, routerRate = report.steadyRouterLinkRate ?? 0
            XCTAssertLessThan(stubRate, routerRate, "seed \(seed): a stub link costs more than a router link")
            XCTAssertLessThan(stubRate, 100, "seed \(seed)")
            XCTAssertLessThan(report.stubMemoryBytesPerNode, report.memoryBytesPerNode, "seed \(seed)")
        }
    }

    /// A stub with one upstream whose link fails is cut off (nothing else can reach it), and
    /// the routers forget it: convergence means their counts match what is reachable.
    func testAStubWithOneUpstreamIsForgottenWhenItsLinkDies() {
        let c = config(routers: 20, stubs: 10, stubPeers: 1, seed: 5)
        let sim = Simulation(config: c)
        sim.start()
        sim.run(seconds: 1)
        XCTAssertNotNil(sim.runUntilConverged())
        XCTAssertEqual(sim.router(0)?.reachableCount, 29, "every router holds every origin, the stubs' included")
        let stubLink = Int32(sim.links.indices.first { sim.isStubLink[$0] }!)
        sim.setLink(stubLink, up: false)
        XCTAssertNotNil(sim.runUntilConverged(maxSeconds: 30))
        XCTAssertTrue(sim.routeCountsMatch())
        XCTAssertEqual(sim.router(0)?.reachableCount, 28, "29 others, one of them cut off")
        XCTAssertEqual(sim.survey().loops, 0)
        XCTAssertEqual(sim.survey().unreachable, 0)
    }
}
