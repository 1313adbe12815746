import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetControl
import PlanetTesting

/// planetctl's tables for the Yggdrasil side: `self` says the root, our coordinates and parent;
/// `routes` adds PROTO and PATH columns when ironwood paths are among the rows (and only then,
/// so a Planetary-only node's table is as it was); `stats` shows the gauges.
final class YggdrasilFormattingTests: XCTestCase {
    static let key = FakeAdminHandler.key
    static let root = String(repeating: "01", count: 32)
    static let parent = FakeAdminHandler.otherKey

    func selfReply(_ y: SelfReply.Yggdrasil?) throws -> JSONValue {
        try JSONValueCoder.encode(SelfReply(publicKey: Self.key, address: "200:1234::1", subnet: "300:1234::/64", version: "0.1.0",
                                            uptimeSeconds: 192, publicEndpoints: nil, natMapping: nil, localEndpoints: nil, punching: nil,
                                            yggdrasil: y))
    }

    func testSelfShowsTheTree() throws {
        let y = SelfReply.Yggdrasil(root: Self.root, rootAddress: "200:fe::1", isRoot: false, coords: [3, 1], parent: Self.parent,
                                    peers: 2, treeEntries: 7, paths: 1, sessions: 0)
        XCTAssertEqual(try AdminReport.table(for: .showSelf, response: selfReply(y)), """
        public key          \(Self.key)
        address             200:1234::1
        subnet              300:1234::/64
        version             0.1.0
        uptime              3m12s
        yggdrasil root      \(Self.root) (200:fe::1)
        yggdrasil coords    [3 1]
        yggdrasil parent    \(Self.parent)
        yggdrasil peers     2
        yggdrasil tree      7 entries
        yggdrasil paths     1
        yggdrasil sessions  0

        """)
        let atRoot = SelfReply.Yggdrasil(root: Self.key, rootAddress: "200:1234::1", isRoot: true, coords: [], parent: Self.key,
                                         peers: 0, treeEntries: 1, paths: 0, sessions: 0)
        let out = try AdminReport.table(for: .showSelf, response: selfReply(atRoot))
        XCTAssertTrue(out.contains("yggdrasil root      \(Self.key) (200:1234::1, this node)\n"), out)
        XCTAssertTrue(out.contains("yggdrasil coords    []\n"), out)
        XCTAssertTrue(out.contains("yggdrasil parent    none (the root)\n"), out)
        XCTAssertTrue(out.contains("yggdrasil tree      1 entry\n"), out)
        // Without the side (or from an older daemon): no yggdrasil lines.
        XCTAssertFalse(try AdminReport.table(for: .showSelf, response: selfReply(nil)).contains("yggdrasil"))
    }

    func testRoutesShowYggdrasilPaths() throws {
        let reply = RoutesReply(routes: [
            .init(prefix: "300:1234::/64", address: "200:1234::1", publicKey: Self.key, nextHop: Self.parent, metric: 96, seqno: 7, protocol: "planetary"),
            .init(prefix: "300:fe::/64", address: "200:fe::1", publicKey: Self.root, nextHop: Self.parent, metric: 2, seqno: 1_765_000_000,
                  protocol: "yggdrasil", path: [3, 1], broken: false, expiresInSeconds: 58),
            .init(prefix: "300:fd::/64", address: "200:fd::1", publicKey: Self.parent, nextHop: nil, metric: 65535, seqno: 9,
                  protocol: "yggdrasil", path: [], broken: true, expiresInSeconds: 3),
        ])
        XCTAssertEqual(try AdminReport.table(for: .routes, response: JSONValueCoder.encode(reply)), """
        PREFIX         ADDRESS      KEY                NEXT HOP           METRIC       SEQNO  PROTO      PATH
        300:1234::/64  200:1234::1  abababababababab…  cdcdcdcdcdcdcdcd…      96           7  planetary  -
        300:fe::/64    200:fe::1    0101010101010101…  cdcdcdcdcdcdcdcd…       2  1765000000  yggdrasil  [3 1], expires in 58s
        300:fd::/64    200:fd::1    cdcdcdcdcdcdcdcd…  -                   65535           9  yggdrasil  [] broken, expires in 3s

        """)
        // Only Planetary routes: the table as before (no PROTO, no PATH).
        let plain = try AdminReport.table(for: .routes, response: JSONValueCoder.encode(RoutesReply(routes: [reply.routes[0]])))
        XCTAssertEqual(plain.split(separator: "\n").first, "PREFIX         ADDRESS      KEY                NEXT HOP           METRIC  SEQNO")
    }

    func testStatsShowTheGauges() throws {
        let stats = StatsReply(yggdrasil: Counters([("protocol-nodeinfo", 1)]),
                               yggdrasilGauges: .init(peers: 1, treeEntries: 2, paths: 3, sessions: 4, isRoot: true))
        let out = try AdminReport.table(for: .stats, response: JSONValueCoder.encode(stats))
        // Key and value, whatever the key column's width.
        let lines = out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        for line in ["yggdrasil peers 1", "yggdrasil tree entries 2", "yggdrasil paths 3", "yggdrasil sessions 4",
                     "yggdrasil root this node", "yggdrasil protocol-nodeinfo 1"] {
            XCTAssertTrue(lines.contains(line), "\(line)\n\(out)")
        }
        XCTAssertFalse(try AdminReport.table(for: .stats, response: JSONValueCoder.encode(StatsReply())).contains("yggdrasil"))
    }
}
