import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetRuntime

/// Hole punching's counters reach Prometheus as `planetary_punch_total{event=...}`, the same
/// numbers `getStats` reports under "punch".
final class PunchMetricsTests: XCTestCase {
    func testPunchCountersAreExportedAndRoundTrip() {
        let s = MetricsSnapshot(StatsReply(rxPackets: 1, punch: Counters([("offersSent", 2), ("attempts", 3), ("failed", 1)])))
        XCTAssertEqual(s.punch.map(\.event), ["offersSent", "attempts", "failed"])
        let text = s.prometheusText
        XCTAssertTrue(text.contains("# TYPE planetary_punch_total counter\n"))
        XCTAssertTrue(text.contains("planetary_punch_total{event=\"attempts\"} 3\n"), text)
        XCTAssertTrue(text.contains("planetary_punch_total{event=\"failed\"} 1\n"))
        XCTAssertEqual(MetricsSnapshot(s.reply), s)
        // A daemon without the counters exports no punch series at all.
        XCTAssertFalse(MetricsSnapshot(StatsReply(rxPackets: 1)).prometheusText.contains("punch"))
    }
}
