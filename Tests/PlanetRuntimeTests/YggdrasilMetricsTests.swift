import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetRuntime

/// The Yggdrasil side's gauges reach Prometheus as `planetary_yggdrasil_*`, the same numbers
/// `getStats` reports under "yggdrasilGauges"; a node without the side exports none.
final class YggdrasilMetricsTests: XCTestCase {
    static let gauges = StatsReply.YggdrasilGauges(peers: 2, treeEntries: 9, paths: 3, sessions: 1, isRoot: false)

    func testGaugesAreExportedAndRoundTrip() {
        let s = MetricsSnapshot(StatsReply(rxPackets: 1, yggdrasilGauges: Self.gauges))
        XCTAssertEqual(s.yggdrasil, Self.gauges)
        let text = s.prometheusText
        XCTAssertTrue(text.contains("# TYPE planetary_yggdrasil_peers gauge\nplanetary_yggdrasil_peers 2\n"), text)
        XCTAssertTrue(text.contains("# TYPE planetary_yggdrasil_tree_entries gauge\nplanetary_yggdrasil_tree_entries 9\n"))
        XCTAssertTrue(text.contains("# TYPE planetary_yggdrasil_paths gauge\nplanetary_yggdrasil_paths 3\n"))
        XCTAssertTrue(text.contains("# TYPE planetary_yggdrasil_sessions gauge\nplanetary_yggdrasil_sessions 1\n"))
        XCTAssertTrue(text.contains("# TYPE planetary_yggdrasil_is_root gauge\nplanetary_yggdrasil_is_root 0\n"))
        var root = Self.gauges
        root.isRoot = true
        XCTAssertTrue(MetricsSnapshot(StatsReply(yggdrasilGauges: root)).prometheusText.contains("planetary_yggdrasil_is_root 1\n"))
        XCTAssertEqual(MetricsSnapshot(s.reply), s)
        XCTAssertNotEqual(MetricsSnapshot(StatsReply(rxPackets: 1)), s, "the gauges take part in equality")
        // Every sample line is NAME[{labels}] VALUE.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            XCTAssertEqual(line.split(separator: " ").count, 2, String(line))
        }
        // A node without an Yggdrasil side exports no yggdrasil series at all.
        XCTAssertFalse(MetricsSnapshot(StatsReply(rxPackets: 1)).prometheusText.contains("yggdrasil"))
    }

    /// What the metrics page serves, end to end: the provider reads getStats as JSON (as from
    /// another handler) and the gauges survive the trip.
    func testMetricsPageServesTheGauges() throws {
        let stats = StatsReply(rxPackets: 1, yggdrasilGauges: Self.gauges)
        let json = try JSONValueCoder.encode(stats)
        let back = try JSONValueCoder.decode(StatsReply.self, from: json)
        let server = MetricsServer(listen: "127.0.0.1:0", provider: { MetricsSnapshot(back) })
        try server.start()
        defer { server.stop() }
        let s = try XCTUnwrap(RawSocket(tcpPort: server.boundPort))
        s.write("GET /metrics HTTP/1.1\r\n\r\n")
        let reply = s.readToEnd()
        XCTAssertTrue(reply.hasPrefix("HTTP/1.1 200 "), reply)
        XCTAssertTrue(reply.contains("\nplanetary_yggdrasil_paths 3\n"), reply)
        XCTAssertTrue(reply.contains("\nplanetary_yggdrasil_is_root 0\n"), reply)
    }
}
