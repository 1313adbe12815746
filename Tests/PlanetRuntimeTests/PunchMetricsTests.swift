import XCTest
import PlanetCore
@testable import PlanetRuntime

/// Hole punching's counters reach Prometheus as `planetary_punch_total{event=...}`, the same
/// numbers `getStats` reports under "punch".
final class PunchMetricsTests: XCTestCase {
    func testPunchCountersAreExportedAndRoundTrip() {
        let stats = JSONValue.object([
            ("rxPackets", .number(1)),
            ("punch", .object([("offersSent", .number(2)), ("attempts", .number(3)), ("failed", .number(1))])),
        ])
        let s = MetricsSnapshot(stats: stats)
        XCTAssertEqual(s.punch.map(\.event), ["offersSent", "attempts", "failed"])
        let text = s.prometheusText
        XCTAssertTrue(text.contains("# TYPE planetary_punch_total counter\n"))
        XCTAssertTrue(text.contains("planetary_punch_total{event=\"attempts\"} 3\n"), text)
        XCTAssertTrue(text.contains("planetary_punch_total{event=\"failed\"} 1\n"))
        XCTAssertEqual(MetricsSnapshot(stats: s.json), s)
        // A daemon without the counters exports no punch series at all.
        XCTAssertFalse(MetricsSnapshot(stats: .object([("rxPackets", .number(1))])).prometheusText.contains("punch"))
    }
}
