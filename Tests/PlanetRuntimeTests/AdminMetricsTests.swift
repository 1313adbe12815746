import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetRuntime
import PlanetTesting

final class AdminMetricsTests: XCTestCase {
    static var snapshot: MetricsSnapshot {
        var s = MetricsSnapshot()
        s.rxPackets = 10
        s.txPackets = 20
        s.rxBytes = 1000
        s.txBytes = 2000
        s.drops = [("badMac", 3), ("odd\"reason", 1)]
        s.peersUp = 2
        s.routes = 5
        s.sessions = 1
        s.handshakesCompleted = 4
        s.handshakesFailed = 1
        s.capacityRecords = 6
        s.drops.append(("capacity-bad-signature", 2))
        return s
    }

    func testPrometheusText() {
        let text = Self.snapshot.prometheusText
        XCTAssertTrue(text.hasPrefix("# HELP planetary_rx_packets_total Packets received from peers.\n# TYPE planetary_rx_packets_total counter\nplanetary_rx_packets_total 10\n"))
        XCTAssertTrue(text.contains("planetary_drops_total{reason=\"badMac\"} 3\n"))
        XCTAssertTrue(text.contains("planetary_drops_total{reason=\"odd\\\"reason\"} 1\n"))
        XCTAssertTrue(text.contains("# TYPE planetary_peers_up gauge\nplanetary_peers_up 2\n"))
        XCTAssertTrue(text.contains("planetary_handshakes_failed_total 1\n"))
        XCTAssertTrue(text.contains("# TYPE planetary_capacity_records gauge\nplanetary_capacity_records 6\n"))
        XCTAssertTrue(text.contains("planetary_drops_total{reason=\"capacity-bad-signature\"} 2\n"))
        // Every sample line is NAME[{labels}] VALUE.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            XCTAssertEqual(line.split(separator: " ").count, 2, String(line))
            XCTAssertTrue(line.hasPrefix("planetary_"))
        }
    }

    func testStatsReplyRoundTrip() {
        let s = Self.snapshot
        XCTAssertEqual(MetricsSnapshot(s.reply), s)
        XCTAssertEqual(s.reply.drops, Counters([("badMac", 3), ("odd\"reason", 1), ("capacity-bad-signature", 2)]))
        XCTAssertEqual(s.reply.capacityRecords, 6)
        XCTAssertNil(s.reply.punch, "no punch counters, none reported")
        XCTAssertNotEqual(MetricsSnapshot(StatsReply()), s)
    }

    func startServer(provider: @escaping MetricsServer.Provider = { AdminMetricsTests.snapshot }) throws -> MetricsServer {
        let server = MetricsServer(listen: "127.0.0.1:0", provider: provider)
        try server.start()
        XCTAssertNotEqual(server.boundPort, 0)
        return server
    }

    func request(_ server: MetricsServer, _ text: String) throws -> String {
        let s = try XCTUnwrap(RawSocket(tcpPort: server.boundPort))
        s.write(text)
        return s.readToEnd()
    }

    func testServesMetrics() throws {
        let server = try startServer()
        defer { server.stop() }
        let reply = try request(server, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
        let body = Self.snapshot.prometheusText
        XCTAssertTrue(reply.hasPrefix("HTTP/1.1 200 OK\r\n"), reply)
        XCTAssertTrue(reply.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        XCTAssertTrue(reply.contains("Content-Length: \(body.utf8.count)\r\n"))
        XCTAssertTrue(reply.hasSuffix("\r\n\r\n" + body))
        // Served again for the next scrape.
        XCTAssertTrue(try request(server, "GET /metrics?x=1 HTTP/1.0\n\n").hasSuffix(body))
    }

    func testBadRequests() throws {
        let server = try startServer()
        defer { server.stop() }
        XCTAssertTrue(try request(server, "garbage\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        XCTAssertTrue(try request(server, "\u{1}\u{2}\u{3}\n\n").hasPrefix("HTTP/1.1 400 "))
        XCTAssertTrue(try request(server, "GET / HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
        XCTAssertTrue(try request(server, "POST /metrics HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 405 "))
        XCTAssertTrue(try request(server, "GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 20000)).hasPrefix("HTTP/1.1 431 "))
        let head = try request(server, "HEAD /metrics HTTP/1.1\r\n\r\n")
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 ") && head.hasSuffix("\r\n\r\n"))
        // Still serving after all that.
        XCTAssertTrue(try request(server, "GET /metrics HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 200 "))
    }

    func testNoAnswerFromTheNodeIs503() throws {
        let server = try startServer(provider: { nil })
        defer { server.stop() }
        XCTAssertTrue(try request(server, "GET /metrics HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 503 "))
    }

    func testStatsProviderAsksTheAdminHandler() throws {
        let handler = FakeAdminHandler()
        let snapshot = try XCTUnwrap(MetricsServer.statsProvider(from: handler)())
        XCTAssertEqual(snapshot.rxPackets, 1_234_567)
        XCTAssertEqual(snapshot.drops.map(\.reason), ["badMac", "noRoute"])
        XCTAssertEqual(snapshot.capacityRecords, 0)
        XCTAssertEqual(handler.calls, [.getStats])
    }

    func testBadListenAddress() {
        XCTAssertThrowsError(try MetricsServer(listen: "nonsense", provider: { nil }).start())
        XCTAssertThrowsError(try MetricsServer(listen: "192.0.2.1:9464", provider: { nil }).start(), "an address not on this host")
    }
}

extension AdminMetricsTests {
    /// What the runtime loses at the kernel's edge joins the node's drops in getStats, in name
    /// order, and so reaches the Prometheus export too.
    func testRuntimeDropsJoinTheNodesDrops() {
        var stats = StatsReply(rxPackets: 5, drops: Counters([("link-replayed", 1), ("tun-bad-source", 2)]), peersUp: 1)
        let before = stats
        stats.addDrops([])
        XCTAssertEqual(stats, before)
        stats.addDrops([("io-tun-offload-malformed", 3)])
        XCTAssertEqual(stats.drops.entries.map(\.name), ["io-tun-offload-malformed", "link-replayed", "tun-bad-source"])
        XCTAssertEqual(stats.drops["io-tun-offload-malformed"], 3)
        XCTAssertEqual(stats.rxPackets, 5)
        XCTAssertEqual(stats.peersUp, 1)
        XCTAssertTrue(MetricsSnapshot(stats).prometheusText.contains("planetary_drops_total{reason=\"io-tun-offload-malformed\"} 3"))
    }
}
