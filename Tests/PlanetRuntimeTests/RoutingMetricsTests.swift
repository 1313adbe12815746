import XCTest
import PlanetAdmin
import PlanetCore
@testable import PlanetRuntime

/// The router's counters reach Prometheus as `planetary_routing_total{event=...}` and the
/// `planetctl stats` table as `routing …` rows: the numbers `getStats` reports under "routing".
final class RoutingMetricsTests: XCTestCase {
    func testRoutingCountersAreExportedUnderTheirNames() {
        let s = MetricsSnapshot(StatsReply(rxPackets: 1, routing: Counters([("summariesSent", 7), ("originQueriesAnswered", 3)])))
        XCTAssertEqual(s.routing.map(\.event), ["summariesSent", "originQueriesAnswered"])
        XCTAssertEqual(s.reply.routing, Counters([("summariesSent", 7), ("originQueriesAnswered", 3)]), "the snapshot gives back what it read")
        let text = s.prometheusText
        XCTAssertTrue(text.contains("# TYPE planetary_routing_total counter\n"), text)
        XCTAssertTrue(text.contains("planetary_routing_total{event=\"summariesSent\"} 7\n"), text)
        XCTAssertTrue(text.contains("planetary_routing_total{event=\"originQueriesAnswered\"} 3\n"), text)
        // An older daemon reports none: no series.
        XCTAssertFalse(MetricsSnapshot(StatsReply(rxPackets: 1)).prometheusText.contains("planetary_routing_total"))
    }
}
