import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetControl

/// `planetctl nodes`, `nodes show` and `nodes find`: options become the finder's admin
/// arguments, bad values are usage errors naming the option, rows lead with address and metric.
final class NodesCommandTests: XCTestCase {
    func parse(_ words: [String]) -> Result<PlanetctlCommand, PlanetctlCommand.UsageError> { PlanetctlCommand.parse(words) }

    func testFindOptionsBecomeFindNodesArguments() throws {
        let c = try parse(["nodes", "find", "--country", "BE", "--free-mru", "8G", "--ipv4", "--sort=rtt", "--gpu", "--limit", "3"]).get()
        XCTAssertEqual(c.request, .findNodes([.init(.country, "BE"), .init(.freeMru, "8G"), .init(.ipv4, "true"), .init(.sort, "rtt"),
                                              .init(.gpu, ""), .init(.limit, "3")]))
        XCTAssertEqual(c.request.line, #"{"request":"findNodes","country":"BE","freeMru":"8G","ipv4":"true","sort":"rtt","gpu":"","limit":"3"}"# + "\n")
        let vendor = try parse(["nodes", "find", "--gpu", "nvidia", "--reachable"]).get()
        XCTAssertEqual(vendor.request, .findNodes([.init(.gpu, "nvidia"), .init(.reachable, "true")]))
        XCTAssertEqual(try parse(["nodes"]).get(), .nodes)
        XCTAssertEqual(try parse(["nodes", "find"]).get(), .nodesFind([]))
        let key = String(repeating: "ab", count: 32)
        XCTAssertEqual(try parse(["nodes", "show", key]).get(), .nodeShow(key))
        XCTAssertEqual(try parse(["nodes", "show", "200:1234::1"]).get().request, .getNode("200:1234::1"))
    }

    func testBadFindInputNamesTheOption() {
        for (words, needle) in [(["--free-mru", "lots"], "--free-mru"), (["--country", "Belgium"], "--country"), (["--colour", "red"], "--colour"),
                                (["--radius", "5"], "--radius"), (["--sort", "speed"], "--sort"), (["--limit"], "--limit"), (["--ipv4=yes"], "--ipv4")] {
            guard case .failure(let e) = parse(["nodes", "find"] + words) else { XCTFail("\(words) accepted"); continue }
            XCTAssertTrue(e.description.contains(needle), "\(words): \(e.description)")
        }
        guard case .failure = parse(["nodes", "show", "not-a-key"]) else { return XCTFail("a bad key was accepted") }
        guard case .failure = parse(["nodes", "list"]) else { return XCTFail("an unknown nodes verb was accepted") }
    }

    func testNodesTableLeadsWithAddressAndMetric() {
        let row = JSONValue.object([
            ("publicKey", .string(String(repeating: "ab", count: 32))), ("address", .string("200:1::1")), ("metric", .number(96)),
            ("country", .string("BE")), ("city", .string("Ghent")), ("farmId", .number(7)),
            ("total", .object([("cru", .number(16))])), ("free", .object([("mru", .number(Double(16 << 30))), ("sru", .number(0)), ("hru", .number(0))])),
            ("gpus", .array([.object([("vendor", .string("nvidia"))])])), ("publicIPv4", .bool(true)), ("publicIPv6", .bool(false)),
            ("ageSeconds", .number(75)),
        ])
        let out = AdminReport.table(for: .nodes, response: .object([("nodes", .array([row]))]))
        let lines = out.split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("ADDRESS  "), String(lines[0]))
        XCTAssertTrue(lines[1].hasPrefix("200:1::1  abababababababab…      96  BE  Ghent"), String(lines[1]))
        XCTAssertTrue(lines[1].contains("16.0 GiB"), String(lines[1]))
        XCTAssertTrue(lines[1].hasSuffix("nvidia  yes   no    1m15s"), String(lines[1]))
        XCTAssertEqual(AdminReport.table(for: .nodesFind([]), response: .object([("nodes", .array([]))])).split(separator: "\n").last, "(no matching nodes)")
        let one = AdminReport.table(for: .nodeShow("x"), response: row)
        XCTAssertTrue(one.contains("metric       96\n"), one)
        XCTAssertTrue(one.contains("location     Ghent, BE\n"), one)
    }

    func testNearAddsTheDistanceColumn() throws {
        func row(_ address: String, _ km: JSONValue) -> JSONValue {
            .object([("address", .string(address)), ("metric", .number(96)), ("distanceKm", km), ("country", .string("BE"))])
        }
        let reply = JSONValue.object([("nodes", .array([row("200:1::1", .number(8.66)), row("200:1::2", .number(1204.4)), row("200:1::3", .null)]))])
        let near = try parse(["nodes", "find", "--near", "50.85,4.35"]).get()
        let lines = AdminReport.table(for: near, response: reply).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("ADDRESS   KEY  METRIC  DISTANCE  CC"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("200:1::1  -        96    8.7 km  BE"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("200:1::2  -        96  1,204 km  BE"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("200:1::3  -        96         -  BE"), lines[3])
        // Sorting by distance (from this node's coordinates) shows it too; other searches don't.
        let sorted = try parse(["nodes", "find", "--sort", "distance"]).get()
        XCTAssertTrue(AdminReport.table(for: sorted, response: reply).hasPrefix("ADDRESS   KEY  METRIC  DISTANCE"))
        for plain in [try parse(["nodes", "find", "--country", "BE"]).get(), .nodes] {
            XCTAssertFalse(AdminReport.table(for: plain, response: reply).contains("DISTANCE"))
        }
        XCTAssertEqual(HumanUnits.kilometres(0.04), "0.0 km")
        XCTAssertEqual(HumanUnits.kilometres(9.96), "10 km")
        XCTAssertEqual(HumanUnits.kilometres(20015.1), "20,015 km")
    }
}
