import XCTest
import PlanetCore
import PlanetAdmin
import PlanetCapacity
@testable import PlanetNode
import PlanetTesting

/// Capacity gossip over real nodes: records reach every node of a mesh over their links,
/// and the finder answers from any node with its own route metrics.
final class CapacityNeighbourTests: XCTestCase {
    let machine = CapacityMeasurement(cpus: 8, memoryBytes: 32 << 30, ssdBytes: 1 << 40, hddBytes: 0, publicIPv4: true, publicIPv6: false, uptimeSeconds: 10)

    func capacity(_ country: String, offerMemory: UInt64, farm: UInt32) -> CapacityConfig {
        var c = CapacityConfig()
        c.enabled = true
        c.country = country
        c.farmId = farm
        c.offer.mru = offerMemory
        c.reserved.mru = 1 << 30
        return c
    }

    func measure(_ h: NodeHarness, _ names: [String]) {
        for n in names {
            h.nodes[n]!.capacityMeasured(machine, unixSeconds: NodeHarness.unixEpoch + h.now.seconds, now: h.now)
            h.collect(n)
        }
    }

    func find(_ node: Node, _ args: [(String, String)], now: Instant) throws -> [JSONValue] {
        let r = adminJSON(node, .findNodes(args.map { AdminRequest.Filter(NodeFilter(rawValue: $0.0)!, $0.1) }), now: now)
        guard case .success(let v) = r else { XCTFail("findNodes failed: \(r)"); return [] }
        return try XCTUnwrap(v["nodes"]?.arrayValue)
    }

    func testRecordsReachEveryNodeAndTheFinderSortsByRouteMetric() throws {
        let h = NodeHarness()
        h.add("a", capacity: capacity("BE", offerMemory: 16 << 30, farm: 1))
        h.add("b", peers: ["a"])  // announces nothing, relays
        h.add("c", peers: ["b"], capacity: capacity("BE", offerMemory: 12 << 30, farm: 2))
        h.add("d", peers: ["c"], capacity: capacity("NL", offerMemory: 30 << 30, farm: 1))
        h.add("e", peers: ["d"], capacity: capacity("BE", offerMemory: 4 << 30, farm: 3))
        measure(h, ["a", "b", "c", "d", "e"])
        h.run(seconds: 10)
        for n in ["a", "b", "c", "d", "e"] {
            XCTAssertEqual(h.nodes[n]!.capacity.directory.count, 4, "node \(n) holds \(h.nodes[n]!.capacity.directory.count) records")
        }
        // Belgium with 8 GiB free (offer − 1 GiB reserve): a and c, not e; from b both are reachable.
        let fromE = try find(h.nodes["e"]!, [("country", "BE"), ("freeMru", "8G"), ("sort", "rtt")], now: h.now)
        XCTAssertEqual(fromE.compactMap { $0["publicKey"]?.stringValue }, [h.nodes["c"]!, h.nodes["a"]!].map(\.identity.publicKey.hex),
                       "nearest (c, two hops) before farthest (a, four hops)")
        let metrics = fromE.compactMap { $0["metric"]?.numberValue }
        XCTAssertEqual(metrics.count, 2)
        XCTAssertLessThan(metrics[0], metrics[1])
        XCTAssertEqual(fromE.first?["address"]?.stringValue, h.nodes["c"]!.address.description)
        // From a the order is the other way round, and a itself is at metric 0.
        let fromA = try find(h.nodes["a"]!, [("country", "BE"), ("freeMru", "8G")], now: h.now)
        XCTAssertEqual(fromA.compactMap { $0["publicKey"]?.stringValue }, [h.nodes["a"]!, h.nodes["c"]!].map(\.identity.publicKey.hex))
        XCTAssertEqual(fromA.first?["metric"]?.numberValue, 0)
        XCTAssertEqual(try find(h.nodes["b"]!, [("farm", "1")], now: h.now).count, 2)
        // getNode by overlay address, getNodes all.
        guard case .success(let one) = adminJSON(h.nodes["b"]!, .getNode(h.nodes["d"]!.address.description), now: h.now) else {
            return XCTFail("getNode failed")
        }
        XCTAssertEqual(one["country"]?.stringValue, "NL")
        XCTAssertEqual(one["free"]?["mru"]?.numberValue, Double(29 << 30))
        guard case .success(let all) = adminJSON(h.nodes["b"]!, .getNodes, now: h.now) else { return XCTFail("getNodes failed") }
        XCTAssertEqual(all["nodes"]?.arrayValue?.count, 4)
        guard case .success(let stats) = adminJSON(h.nodes["b"]!, .getStats, now: h.now) else { return XCTFail("getStats failed") }
        XCTAssertEqual(stats["capacityRecords"]?.numberValue, 4)
        // A bad filter names itself.
        guard case .failure(let e) = adminJSON(h.nodes["b"]!, .findNodes([AdminRequest.Filter(.freeMru, "lots")]), now: h.now) else {
            return XCTFail("a bad size was accepted")
        }
        XCTAssertTrue(e.description.contains("freeMru"), e.description)
    }

    func testALateJoinerGetsTheDirectoryAndAChangeSpreads() throws {
        let h = NodeHarness()
        h.add("a", capacity: capacity("BE", offerMemory: 16 << 30, farm: 1))
        h.add("b", peers: ["a"], capacity: capacity("BE", offerMemory: 8 << 30, farm: 1))
        measure(h, ["a", "b"])
        h.run(seconds: 5)
        let late = h.add("c", peers: ["b"])
        h.run(seconds: 3)
        XCTAssertEqual(late.capacity.directory.count, 2)
        // A VM attaches on a: its used memory grows, and the change reaches c after the debounce.
        h.nodes["a"]!.setDeclaredByVMs(CapacityResources(cru: 2, mru: 4 << 30, sru: 0, hru: 0), now: h.now)
        h.collect("a")
        h.run(seconds: CapacityAnnouncer.debounce + 2)
        let record = try CapacityRecord.decode(XCTUnwrap(late.capacity.directory[h.nodes["a"]!.identity.publicKey]?.bytes))
        XCTAssertEqual(record.used.mru, 5 << 30)
        XCTAssertEqual(record.free.mru, 11 << 30)
    }
}
