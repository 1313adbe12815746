import XCTest
import PlanetCore
import PlanetRouting
@testable import PlanetSim

/// planetsim's `--origins` sampling: only some nodes originate a route (the others run with
/// `advertisesSelf` false, see OriginSamplingTests), and what is measured covers those origins.
final class OriginSamplingSimulationTests: XCTestCase {
    func testSimulationWithSampledOrigins() {
        var c = SimulationConfig()
        c.nodes = 60
        c.origins = 8
        c.seed = 4
        c.steadySeconds = 5
        c.settleSeconds = 0
        c.failLinks = 4
        c.crash = 2
        let sim = Simulation(config: c)
        let report = sim.runScenario()
        XCTAssertEqual(report.origins, 8)
        XCTAssertNotNil(report.convergedSeconds)
        XCTAssertEqual(report.loopsObserved, 0)
        XCTAssertEqual(report.unreachablePairs, 0)
        XCTAssertTrue(report.phases.allSatisfy { $0.seconds != nil }, "\(report.phases.map { ($0.name, $0.seconds) })")
        // Every alive node holds routes to the origins only: 8, or 7 for an origin itself.
        XCTAssertLessThanOrEqual(report.routesPerNode, 8)
        XCTAssertGreaterThan(report.routesPerNode, 7)
        // Sources walk to the 8 origins (7 from an origin), not to all 59 other nodes.
        XCTAssertLessThanOrEqual(report.phases[0].survey.pairs, c.sampleSources * 8)
    }
}
