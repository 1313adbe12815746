import XCTest
import PlanetCore
@testable import PlanetLink
import PlanetTesting

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

extension LinkTimerSlackTests {
    /// The deadline kept up to date one peer at a time (`peerTimersChanged`) is never later
    /// than the full pass would make it, through handshakes, rekeys and frames awaiting an
    /// answer; and a tick before it changes nothing.
    func testIncrementalDeadlineIsNeverLaterThanAFullPass() {
        let net = TestNetwork()
        let hub = net.add(NodeIdentity.generate(), at: Endpoint(ipv4: 10, 0, 0, 1, port: 8470))
        var leaves: [LinkLayer] = []
        for i in 0..<8 {
            let leaf = net.add(NodeIdentity.generate(), at: Endpoint(ipv4: 10, 0, 1, UInt8(i + 1), port: 8470))
            leaf.addPeer(uri: net.uri(of: hub), now: net.now)
            leaves.append(leaf)
        }
        for step in 0..<400 {
            net.pump()
            if step % 7 == 0, let key = hub.upPeers.first { _ = hub.send(frame: [0x10, 1, 2, 3], to: key, now: net.now) }
            for node in [hub] + leaves {
                XCTAssertLessThanOrEqual(node.nextDeadline, LinkLayer.onSlackGrid(node.computeDeadline()), "step \(step)")
            }
            net.advance(by: 0.5)  // past 120 s: every link rekeys
        }
        XCTAssertEqual(hub.upPeers.count, 8)
        XCTAssertGreaterThan(hub.stats.handshakesCompleted, 8, "the links rekeyed")
        // Before the deadline a tick sends nothing.
        net.pump()
        if net.now < hub.nextDeadline {
            hub.tick(now: net.now)
            XCTAssertTrue(hub.transmits.isEmpty)
        }
    }

    /// A hub's tick visits the peers whose timers are due, not all of them: 150 idle links
    /// over 60 s of 50 ms ticks are a few visits per peer (its pings, keepalives and rekey
    /// steps), where a pass over every peer on every tick would be 150 × 1,200. Links stay up,
    /// each peer still pings on time (its RTT is fresh) and nothing the full pass would do is
    /// late (`testIncrementalDeadlineIsNeverLaterThanAFullPass`).
    func testATickVisitsOnlyThePeersThatAreDue() {
        let net = TestNetwork()
        let hub = net.add(NodeIdentity.generate(), at: Endpoint(ipv4: 10, 0, 0, 1, port: 8470))
        for i in 0..<150 {
            let leaf = net.add(NodeIdentity.generate(), at: Endpoint(ipv4: 10, 0, UInt8(1 + i / 200), UInt8(1 + i % 200), port: 8470))
            leaf.addPeer(uri: net.uri(of: hub), now: net.now)
        }
        for _ in 0..<40 { net.pump(); net.advance(by: 0.05) }
        XCTAssertEqual(hub.upPeers.count, 150)
        let before = hub.peerTimerVisits, pongsBefore = hub.stats.rxPackets
        for _ in 0..<1_200 { net.advance(by: 0.05) }
        let visits = hub.peerTimerVisits - before
        XCTAssertEqual(hub.upPeers.count, 150, "links went down")
        XCTAssertGreaterThanOrEqual(visits, 150 * 5, "each peer's pings and keepalives over 60 s")
        XCTAssertLessThan(visits, 150 * 30, "\(visits) visits: a tick visits peers that are not due")
        XCTAssertGreaterThan(hub.stats.rxPackets, pongsBefore + 150 * 5)
    }
}
