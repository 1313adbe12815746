import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetNode
import PlanetTesting

/// `peers remove URI` removes the one configured peer the URI names, never another peer that
/// shares its endpoint (a pinned and an unpinned URI for the same host are two peers).
final class PeerRemovalTests: XCTestCase {
    let k1 = PublicKey([UInt8](repeating: 1, count: 32))!
    let k2 = PublicKey([UInt8](repeating: 2, count: 32))!

    func testAURINamesOnlyItsOwnPeer() throws {
        let bare = PeerURI(host: "192.0.2.1", port: 8470)
        let pinned1 = PeerURI(host: "192.0.2.1", port: 8470, pinnedKey: k1)
        let pinned2 = PeerURI(host: "192.0.2.1", port: 8470, pinnedKey: k2)
        let elsewhere = PeerURI(host: "192.0.2.2", port: 8470)

        // Both kinds on one endpoint: each URI names its own.
        let both: Set = [bare, pinned1, elsewhere]
        XCTAssertEqual(try Node.peerNamed(by: pinned1, among: both).get(), pinned1)
        XCTAssertEqual(try Node.peerNamed(by: bare, among: both).get(), bare)
        // A key that is not configured there names nothing, whatever else the endpoint has.
        guard case .failure(let e) = Node.peerNamed(by: pinned2, among: both) else { return XCTFail("a wrong key removed a peer") }
        XCTAssertTrue(e.description.hasPrefix("no peer \(pinned2); that endpoint has \(bare), \(pinned1)"), e.description)
        // The endpoint alone names its only peer, pinned or not.
        XCTAssertEqual(try Node.peerNamed(by: bare, among: [pinned1, elsewhere]).get(), pinned1)
        // Two pinned peers and no bare one: which is meant must be said.
        guard case .failure(let two) = Node.peerNamed(by: bare, among: [pinned1, pinned2]) else { return XCTFail("ambiguous URI removed a peer") }
        XCTAssertTrue(two.description.contains("name one of them exactly"), two.description)
        guard case .failure(let none) = Node.peerNamed(by: PeerURI(host: "192.0.2.9", port: 1), among: both) else { return XCTFail() }
        XCTAssertEqual(none.description, "no peer udp://192.0.2.9:1")
    }

    func testRemovingThePinnedURIKeepsTheUnpinnedPeer() throws {
        let h = NodeHarness()
        let b = h.add("b")
        let a = h.add("a", peers: ["b"])
        let e = try XCTUnwrap(h.endpoints["b"])
        let bare = PeerURI(host: e.address.description, port: e.port)
        let pinned = PeerURI(host: e.address.description, port: e.port, pinnedKey: b.identity.publicKey)
        a.addPeer(pinned, now: h.now)
        func configured() -> Set<PeerURI> { Set(a.links.snapshot(now: h.now).compactMap(\.uri)) }
        XCTAssertEqual(configured(), [bare, pinned])

        guard case .success = adminJSON(a, .removePeer(pinned), now: h.now) else { return XCTFail("remove failed") }
        XCTAssertEqual(configured(), [bare], "removing the pinned URI took the unpinned peer too")
        guard case .failure = adminJSON(a, .removePeer(pinned), now: h.now) else { return XCTFail("removed twice") }
        h.run(seconds: 5)
        XCTAssertEqual(a.links.upPeers.count, 1, "a lost its link to b")
        guard case .success = adminJSON(a, .removePeer(bare), now: h.now) else { return XCTFail("remove failed") }
        XCTAssertEqual(configured(), [])
    }
}
