import XCTest
import PlanetCore
@testable import PlanetLink

/// Link timers on the `LinkConstants.timerSlack` grid (LinkLayer+Timers.swift): thousands of
/// links' timers share passes over the peers.
final class LinkTimerSlackTests: XCTestCase {
    func testDeadlinesAreRoundedUpToTheGrid() {
        let grid = UInt64(LinkConstants.timerSlack * 1e9)
        XCTAssertEqual(LinkLayer.onSlackGrid(Instant(nanoseconds: 1)).nanoseconds, grid)
        XCTAssertEqual(LinkLayer.onSlackGrid(Instant(nanoseconds: grid)).nanoseconds, grid)
        XCTAssertEqual(LinkLayer.onSlackGrid(Instant(nanoseconds: 3 * grid + 7)).nanoseconds, 4 * grid)
        XCTAssertEqual(LinkLayer.onSlackGrid(.never), .never)
    }

    func testALinkLayersDeadlineLiesOnTheGrid() {
        let now = Instant(seconds: 1000.123)
        let links = LinkLayer(identity: NodeIdentity.generate(), rng: SplitMix64(seed: 1), now: now)
        links.addPeer(uri: PeerURI(host: "192.0.2.1", port: 8470), now: now)
        let d = links.nextDeadline
        XCTAssertNotEqual(d, .never)
        XCTAssertEqual(d.nanoseconds % UInt64(LinkConstants.timerSlack * 1e9), 0)
        XCTAssertGreaterThanOrEqual(d, now)
    }
}
