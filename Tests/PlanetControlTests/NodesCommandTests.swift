import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetControl

/// `planetctl nodes`, `nodes show` and `nodes find`: options become the finder's admin
/// arguments, bad values are usage errors naming the option, rows lead with address and metric.
final class NodesCommandTests: XCTestCase {
    func parse(_ words: [String]) -> Result<PlanetctlCommand, PlanetctlCommand.UsageError> { PlanetctlCommand.parse(words) }

    func testFindOptionsBecomeFindNodesArguments() throws {
        let c = try parse(["nodes", "find", "--country", "BE", "--free-mru", "8G", "--ipv4", "--sort=metric", "--gpu", "--limit", "3"]).get()
        XCTAssertEqual(c.request, .findNodes([.init(.country, "BE"), .init(.freeMru, "8G"), .init(.ipv4, "true"), .init(.sort, "metric"),
                                              .init(.gpu, ""), .init(.limit, "3")]))
        XCTAssertEqual(c.request.line, #"{"request":"findNodes","country":"BE","freeMru":"8G","ipv4":"true","sort":"metric","gpu":"","limit":"3"}"# + "\n")
        let vendor = try parse(["nodes", "find", "--gpu", "nvidia", "--reachable"]).get()
        XCTAssertEqual(vendor.request, .findNodes([.init(.gpu, "nvidia"), .init(.reachable, "true")]))
        XCTAssertEqual(try parse(["nodes"]).get(), .nodes)
        XCTAssertEqual(try parse(["nodes", "find"]).get(), .nodesFind([]))
        let key = String(repeating: "ab", count: 32)
        XCTAssertEqual(try parse(["nodes", "show", key]).get(), .nodeShow(key))
        XCTAssertEqual(try parse(["nodes", "show", "200:1234::1"]).get().request, .getNode("200:1234::1"))
    }

    func testBadFindInputNamesTheOption() throws {
        for (words, needle) in [(["--free-mru", "lots"], "--free-mru"), (["--country", "Belgium"], "--country"), (["--colour", "red"], "--colour"),
                                (["--radius", "5"], "--radius"), (["--sort", "speed"], "--sort"), (["--limit"], "--limit"), (["--ipv4=yes"], "--ipv4")] {
            guard case .failure(let e) = parse(["nodes", "find"] + words) else { XCTFail("\(words) accepted"); continue }
            XCTAssertTrue(e.description.contains(needle), "\(words): \(e.description)")
        }
        guard case .failure = parse(["nodes", "show", "not-a-key"]) else { return XCTFail("a bad key was accepted") }
        guard case .failure = parse(["nodes", "list"]) else { return XCTFail("an unknown nodes verb was accepted") }
    }

    func testNodesTableLeadsWithAddressAndMetric() throws {
        func resources(_ cru: UInt64, _ mru: UInt64) -> NodeRecordReply.Resources { .init(cru: cru, mru: mru, sru: 0, hru: 0) }
        let record = NodeRecordReply(
            publicKey: String(repeating: "ab", count: 32), address: "200:1::1", metric: 96, distanceKm: nil, ageSeconds: 75,
            expiresInSeconds: 3600, seqno: 3, country: "BE", city: "Ghent", latitude: nil, longitude: nil, farmId: 7, farmName: "",
            total: resources(16, 32 << 30), used: resources(0, 16 << 30), free: resources(16, 16 << 30),
            gpus: [.init(vendor: "nvidia", vendorId: 0x10de, deviceId: 1, name: "")], publicIPv4: true, publicIPv6: false, tags: [],
            version: "0.1.0", uptimeSeconds: 60)
        let row = try JSONValueCoder.encode(record)
        let out = try AdminReport.table(for: .nodes, response: .object([("nodes", .array([row])), ("held", .number(1))]))
        let lines = out.split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("ADDRESS  "), String(lines[0]))
        XCTAssertTrue(lines[1].hasPrefix("200:1::1  abababababababab…      96  BE  Ghent"), String(lines[1]))
        XCTAssertTrue(lines[1].contains("16.0 GiB"), String(lines[1]))
        XCTAssertTrue(lines[1].hasSuffix("nvidia  yes   no    1m15s"), String(lines[1]))
        XCTAssertEqual(try AdminReport.table(for: .nodesFind([]), response: .object([("nodes", .array([])), ("held", .number(0))])).split(separator: "\n").last, "(no matching nodes)")
        let one = try AdminReport.table(for: .nodeShow("x"), response: row)
        XCTAssertTrue(one.contains("metric       96\n"), one)
        XCTAssertTrue(one.contains("location     Ghent, BE\n"), one)
    }

    func testNearAddsTheDistanceColumn() throws {
        func row(_ address: String, _ km: Double?) -> NodeRecordReply {
            let none = NodeRecordReply.Resources(cru: 0, mru: 0, sru: 0, hru: 0)
            return NodeRecordReply(publicKey: "", address: address, metric: 96, distanceKm: km, ageSeconds: 0, expiresInSeconds: 0, seqno: 1,
                                   country: "BE", city: "", latitude: nil, longitude: nil, farmId: 0, farmName: "", total: none, used: none,
                                   free: none, gpus: [], publicIPv4: false, publicIPv6: false, tags: [], version: "", uptimeSeconds: 0)
        }
        let reply = try JSONValueCoder.encode(NodesReply(nodes: [row("200:1::1", 8.66), row("200:1::2", 1204.4), row("200:1::3", nil)], held: 3))
        let near = try parse(["nodes", "find", "--near", "50.85,4.35"]).get()
        let lines = try AdminReport.table(for: near, response: reply).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("ADDRESS   KEY  METRIC  DISTANCE  CC"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("200:1::1  -        96    8.7 km  BE"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("200:1::2  -        96  1,204 km  BE"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("200:1::3  -        96         -  BE"), lines[3])
        // Sorting by distance (from this node's coordinates) shows it too; other searches don't.
        let sorted = try parse(["nodes", "find", "--sort", "distance"]).get()
        XCTAssertTrue(try AdminReport.table(for: sorted, response: reply).hasPrefix("ADDRESS   KEY  METRIC  DISTANCE"))
        for plain in [try parse(["nodes", "find", "--country", "BE"]).get(), .nodes] {
            XCTAssertFalse(try AdminReport.table(for: plain, response: reply).contains("DISTANCE"))
        }
        XCTAssertEqual(HumanUnits.kilometres(0.04), "0.0 km")
        XCTAssertEqual(HumanUnits.kilometres(9.96), "10 km")
        XCTAssertEqual(HumanUnits.kilometres(20015.1), "20,015 km")
    }
}
