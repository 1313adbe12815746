import XCTest
import PlanetCore
@testable import PlanetSim

/// planetsim's capacity mode on a small mesh: the same gossip code gets every record
/// everywhere, a change to every node, and the steady traffic matches its model
/// (re-announcements × what one costs per link, plus one summary a minute each way).
final class CapacitySimulationTests: XCTestCase {
    func testEveryRecordEverywhereAndAChangeReachesAll() throws {
        var c = CapacitySimulation.Config()
        c.nodes = 80
        c.seed = 3
        c.steadySeconds = 120
        c.announcers = 40
        let r = CapacitySimulation(config: c).run()
        XCTAssertEqual(r.announcers, 40)
        let cold = try XCTUnwrap(r.coldStartSeconds, "not every node held every record")
        XCTAssertLessThan(cold, 10)
        let change = try XCTUnwrap(r.change100Seconds, "the change did not reach every node")
        XCTAssertLessThanOrEqual(try XCTUnwrap(r.change99Seconds), change)
        XCTAssertEqual(r.rejections, r.rejectionsByReason["stale"] ?? 0, "an honest mesh refused records for other reasons: \(r.rejectionsByReason)")
        // Each distinct record verified once in the whole run: 40 at start, 1 changed, the rest re-announced.
        XCTAssertGreaterThanOrEqual(r.verifications, 41)
        let steady = try XCTUnwrap(r.steadyBytesPerLinkPerSecond)
        let summaries = 2 * Double(3 * 3 + 256 * 12 + 3 * CapacitySimulation.perMessageOverhead) / 60
        let model = r.steadyRecordsPerSecond * r.changeBytesPerLink + summaries
        XCTAssertEqual(steady, model, accuracy: model * 0.5, "steady \(steady) B/s against a model of \(model)")
        XCTAssertGreaterThan(r.memoryBytesPerNode, 40 * r.recordBytes)
        // The directory's own cost per record, the record aside: reserved for 40 entries of
        // 16 bytes (the allocator may round up to its size class, not to 64 as doubling
        // would), a 64-slot index of 8 bytes, 256 buckets of 16 bytes.
        XCTAssertLessThanOrEqual(r.directoryBytesPerEntry, Double(48 * 16 + 64 * 8 + 256 * 16) / 40)
        XCTAssertGreaterThan(r.peakMessagesInFlight, 0)
    }
}
