import XCTest
@testable import PlanetRouting

final class SequenceNumberTests: XCTestCase {
    func testOrdinaryOrder() {
        XCTAssertTrue(SequenceNumber.isNewer(5, than: 4))
        XCTAssertFalse(SequenceNumber.isNewer(4, than: 5))
        XCTAssertFalse(SequenceNumber.isNewer(7, than: 7))
        XCTAssertTrue(SequenceNumber.isAtLeast(7, 7))
        XCTAssertFalse(SequenceNumber.isAtLeast(6, 7))
    }

    func testWrapAround() {
        XCTAssertTrue(SequenceNumber.isNewer(0, than: 0xFFFF_FFFF))
        XCTAssertTrue(SequenceNumber.isNewer(3, than: 0xFFFF_FFF0))
        XCTAssertFalse(SequenceNumber.isNewer(0xFFFF_FFFF, than: 0))
        XCTAssertTrue(SequenceNumber.isAtLeast(1, 0xFFFF_FFFF))
    }

    func testHalfWayIsNotNewer() {
        // Exactly 2^31 apart is ambiguous; neither side may count as newer.
        XCTAssertFalse(SequenceNumber.isNewer(0x8000_0000, than: 0))
        XCTAssertFalse(SequenceNumber.isNewer(0, than: 0x8000_0000))
        XCTAssertTrue(SequenceNumber.isNewer(0x7FFF_FFFF, than: 0))
    }

    func testMetricAdditionSaturates() {
        XCTAssertEqual(RouteMetric.adding(10, 20), 30)
        XCTAssertEqual(RouteMetric.adding(0xFFF0, 0x100), RouteMetric.infinity - 1)
        XCTAssertEqual(RouteMetric.adding(RouteMetric.infinity, 1), RouteMetric.infinity)
    }

    func testLinkCostFromMeasurements() {
        XCTAssertEqual(LinkCost.from(rttMilliseconds: 30), 40)
        XCTAssertEqual(LinkCost.from(rttMilliseconds: 30, loss: 0.5), 80)
        XCTAssertEqual(LinkCost.from(rttMilliseconds: .infinity), LinkCost.maximum)
        XCTAssertEqual(LinkCost.from(rttMilliseconds: -5), LinkCost.perHop)
    }
}
