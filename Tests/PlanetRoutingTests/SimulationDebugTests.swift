import XCTest
import PlanetCore
@testable import PlanetRouting

final class SimulationDebugTests: XCTestCase {
    func testDebugSteady() {
        var c = SimulationConfig()
        c.nodes = 200; c.degree = 4; c.seed = 1
        let sim = Simulation(config: c)
        sim.start()
        sim.run(seconds: 1)
        _ = sim.runUntilConverged()
        sim.run(seconds: 20)
        var totals: [String: Int] = [:]
        func add() { for i in 0..<sim.nodeCount { for ch in Mirror(reflecting: sim.router(i)!.stats).children { totals[ch.label!, default: 0] += ch.value as! Int } } }
        add(); let before = totals; totals = [:]
        sim.run(seconds: 120)
        add()
        for (k, v) in totals.sorted(by: { $0.key < $1.key }) where v - before[k]! != 0 { print("DBG \(k) \(v - before[k]!)") }
    }
}
