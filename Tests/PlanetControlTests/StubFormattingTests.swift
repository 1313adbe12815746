import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetControl
import PlanetTesting

/// `planetctl self` says whether the node is a stub and through which upstream; JSON carries
/// the same as `routing`.
final class StubFormattingTests: XCTestCase {
    func reply(_ r: SelfReply.Routing?) throws -> JSONValue {
        try JSONValueCoder.encode(SelfReply(publicKey: FakeAdminHandler.key, address: "200:1234::1", subnet: "300:1234::/64", version: "0.1.0",
                                            uptimeSeconds: 5, publicEndpoints: nil, natMapping: nil, localEndpoints: nil, punching: nil,
                                            routing: r))
    }

    func testSelfShowsStubAndUpstream() throws {
        let up = FakeAdminHandler.otherKey
        let json = try reply(.init(stub: true, upstream: up, resolvedOrigins: 3))
        XCTAssertEqual(json["routing"]?["stub"], .bool(true))
        XCTAssertEqual(json["routing"]?["upstream"], .string(up))
        XCTAssertEqual(json["routing"]?["resolvedOrigins"], .number(3))
        let table = try AdminReport.table(for: .showSelf, response: json)
        XCTAssertTrue(table.contains("routing     stub, upstream \(up) (3 origins resolved)\n"), table)
        let full = try AdminReport.table(for: .showSelf, response: reply(.init(stub: false, upstream: nil, resolvedOrigins: 0)))
        XCTAssertTrue(full.contains("routing     full router\n"), full)
        // A daemon from before it: no row.
        XCTAssertFalse(try AdminReport.table(for: .showSelf, response: reply(nil)).contains("routing"))
    }

    /// `planetctl stats` lists the router's counters as `routing NAME` rows, from the same JSON.
    func testStatsShowsRoutingCounters() throws {
        let json = try JSONValueCoder.encode(StatsReply(routing: Counters([("originQueriesAnswered", 1234), ("summariesSent", 5)])))
        XCTAssertEqual(json["routing"]?["originQueriesAnswered"], .number(1234))
        let table = try AdminReport.table(for: .stats, response: json)
        XCTAssertTrue(table.contains("routing originQueriesAnswered  1,234\n"), table)
        XCTAssertTrue(table.contains("routing summariesSent"), table)
        XCTAssertFalse(try AdminReport.table(for: .stats, response: JSONValueCoder.encode(StatsReply())).contains("routing "))
    }
}
