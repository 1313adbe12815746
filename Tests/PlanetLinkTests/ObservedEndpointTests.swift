import XCTest
import PlanetCore
@testable import PlanetLink
import PlanetTesting

/// Inner frame 0x03: each side of a link tells the other where it sees it, on link up and
/// again when the other roams, so a node behind NAT learns its public endpoint (and a new one
/// when its NAT remaps it). Only an authentic frame counts.
final class ObservedEndpointTests: XCTestCase {
    let epA = Endpoint(ipv4: 10, 0, 0, 1, port: 7001)
    let epB = Endpoint(ipv4: 10, 0, 0, 2, port: 7002)
    let epC = Endpoint(ipv4: 192, 0, 2, 77, port: 40123)

    func linkedPair(_ net: TestNetwork) -> (LinkLayer, LinkLayer) {
        let a = net.add(.generate(), at: epA)
        let b = net.add(.generate(), at: epB)
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertTrue(a.isUp(b.identity.publicKey))
        return (a, b)
    }

    func testBothSidesLearnWhereThePeerSeesThem() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        XCTAssertEqual(a.observedEndpoints.map(\.peer), [b.identity.publicKey])
        XCTAssertEqual(a.observedEndpoints.first?.endpoint, epA)
        XCTAssertEqual(b.observedEndpoints.first?.endpoint, epB)
        XCTAssertTrue(net.frames(a).isEmpty, "the link's own frame 0x03 was handed up")
    }

    func testARoamedPeerIsToldItsNewEndpoint() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        // a's NAT gives it a new mapping: b sees a's next packet come from epC.
        net.place(a, at: epC)
        XCTAssertTrue(a.send(frame: [0x10, 1], to: b.identity.publicKey, now: net.now))
        net.pump()
        XCTAssertEqual(a.observedEndpoints.first?.endpoint, epC, "a was not told its new public endpoint")
    }

    func testMalformedObservedEndpointIsCountedAndIgnored() throws {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        let peer = try XCTUnwrap(a.peers[b.identity.publicKey])
        let before = a.stats[.malformedInnerFrame]
        for bad: [UInt8] in [[0x03], [0x03] + [UInt8](repeating: 1, count: 17), [0x03] + [UInt8](repeating: 0, count: 18),
                             [0x03] + [UInt8](repeating: 1, count: 16) + [0, 0]] {
            bad.withUnsafeBytes { a.receiveLinkInner($0, peer: peer, now: net.now) }
        }
        XCTAssertEqual(a.stats[.malformedInnerFrame], before + 4)
        XCTAssertEqual(a.observedEndpoints.first?.endpoint, epA, "a malformed frame changed what a believes")
    }
}
