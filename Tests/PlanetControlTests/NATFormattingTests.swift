import XCTest
import PlanetCore
import PlanetAdmin
import PlanetControl

/// planetctl's tables show what NAT traversal did: the node's public endpoints and mapping
/// (`self`), links made by punching (`peers`), and whether a session runs direct or relayed and
/// through which neighbour (`sessions`), plus the punching counters (`stats`).
final class NATFormattingTests: XCTestCase {
    let key = String(repeating: "ab", count: 32)
    let relay = String(repeating: "ef", count: 32)

    func testSelfShowsPublicEndpointsAndMapping() throws {
        let reply = JSONValue.object([
            ("publicKey", .string(key)), ("address", .string("200:1234::1")), ("subnet", .string("300:1234::/64")),
            ("version", .string("0.1.0")), ("uptimeSeconds", .number(5)),
            ("publicEndpoints", .array([.string("198.51.100.7:8470")])), ("natMapping", .string("endpoint-independent")),
            ("localEndpoints", .array([])), ("punching", .bool(true)),
        ])
        XCTAssertEqual(try AdminReport.table(for: .showSelf, response: reply), """
        public key        \(key)
        address           200:1234::1
        subnet            300:1234::/64
        version           0.1.0
        uptime            5s
        public endpoints  198.51.100.7:8470
        nat mapping       endpoint-independent
        local endpoints   none
        hole punching     on

        """)
    }

    func testPeersMarkPunchedLinksAndSessionsTheirPath() throws {
        let peers = JSONValue.object([("peers", .array([
            .object([("publicKey", .string(key)), ("address", .string("200:1234::1")), ("endpoint", .string("198.51.100.7:8470")),
                     ("uri", .null), ("state", .string("up")), ("rttMs", .number(2)), ("rxBytes", .number(0)), ("txBytes", .number(0)),
                     ("uptimeSeconds", .number(3)), ("inbound", .bool(true)), ("cipher", .string("aes-256-gcm")), ("punched", .bool(true))]),
        ]))])
        XCTAssertTrue(try AdminReport.table(for: .peers, response: peers).contains(" in/punched "))
        let sessions = JSONValue.object([("sessions", .array([
            .object([("publicKey", .string(key)), ("address", .string("200:1234::1")), ("rxBytes", .number(0)), ("txBytes", .number(0)),
                     ("uptimeSeconds", .number(1)), ("path", .string("relayed")), ("nextHop", .string(relay))]),
        ]))])
        let table = try AdminReport.table(for: .sessions, response: sessions)
        XCTAssertTrue(table.contains("relayed  efefefefefefefef…"), table)
    }

    func testStatsListPunchCounters() throws {
        let stats = try JSONValueCoder.encode(StatsReply(punch: Counters([("attempts", 3), ("succeeded", 1)])))
        let table = try AdminReport.table(for: .stats, response: stats)
        XCTAssertTrue(table.contains("punch attempts"), table)
        XCTAssertTrue(table.contains("punch succeeded"), table)
    }
}
