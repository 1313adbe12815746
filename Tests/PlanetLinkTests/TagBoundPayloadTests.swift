import XCTest
import PlanetCore
@testable import PlanetLink
import PlanetTesting

/// Tag-bound frames (0x08): negotiated in the link handshake, used for sealed payloads only
/// where both ends agreed, authenticating the headers and the end-to-end tag — and only those.
final class TagBoundPayloadTests: XCTestCase {
    let a = NodeIdentity.generate()
    let b = NodeIdentity.generate()

    func handshake(offer: HandshakeFeatures, accept: HandshakeFeatures) throws -> (SessionKeys, SessionKeys) {
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "t", features: offer)
        let (p, m2) = try HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2, domain: "t", features: accept)
        let (m3, ki) = try i.handleResponse(m2)
        return (ki, try p.handleFinish(m3))
    }

    func testBothEndsMustOfferIt() throws {
        for (offer, accept, agreed) in [(HandshakeFeatures.supported, HandshakeFeatures.supported, true),
                                        ([], .supported, false), (.supported, [], false), ([], [], false)] {
            let (ki, kr) = try handshake(offer: offer, accept: accept)
            XCTAssertEqual(ki.features.contains(.tagBoundPayload), agreed, "offer \(offer) accept \(accept)")
            XCTAssertEqual(kr.features, ki.features)
            XCTAssertEqual(ki.cipher, kr.cipher, "the cipher pick is unchanged by the feature bit")
        }
    }

    func testAFeatureTheInitiatorDidNotOfferIsRefusedAndTheBitIsSigned() throws {
        // A responder naming a feature nobody offered: refused before any crypto.
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "t", features: [])
        var (_, m2) = try HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2, domain: "t", features: .supported)
        XCTAssertEqual(m2[8] & 0x80, 0)
        m2[8] |= 0x80
        XCTAssertThrowsError(try i.handleResponse(m2)) { XCTAssertEqual($0 as? HandshakeError, .malformed) }
        // Someone in the path clears the bit in a response: the responder's signature covers it.
        let j = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "t", features: .supported)
        var (_, n2) = try HandshakeResponder.respond(toInit: j.initMessage(), local: b, localIndex: 2, domain: "t", features: .supported)
        XCTAssertEqual(n2[8] & 0x80, 0x80)
        n2[8] &= 0x7f
        XCTAssertThrowsError(try j.handleResponse(n2))
    }

    func pair(bFeatures: HandshakeFeatures = .supported) -> (TestNetwork, LinkLayer, LinkLayer) {
        let net = TestNetwork()
        let la = net.add(.generate(), at: Endpoint(ipv4: 10, 0, 0, 1, port: 7001))
        var config = LinkConfig()
        config.features = bFeatures
        let lb = net.add(.generate(), at: Endpoint(ipv4: 10, 0, 0, 2, port: 7002), config: config)
        la.addPeer(uri: net.uri(of: lb), now: net.now)
        net.pump()
        return (net, la, lb)
    }

    /// Sends `inner` as a sealed payload from a to b and returns the datagram, held.
    func sendHeld(_ net: TestNetwork, _ la: LinkLayer, _ lb: LinkLayer, _ inner: [UInt8]) throws -> TestNetwork.Datagram {
        net.holding = true
        defer { net.holding = false }
        XCTAssertTrue(la.send(headroomFrame: [UInt8](repeating: 0, count: 13) + inner, to: lb.identity.publicKey, now: net.now,
                              payloadSealed: true))
        net.pump()
        return try XCTUnwrap(net.held.popLast())
    }

    func testOnlyTheHeadersAndTheEndToEndTagAreAuthenticated() throws {
        let (net, la, lb) = pair()
        XCTAssertTrue(la.isUp(lb.identity.publicKey))
        let inner: [UInt8] = [0x20] + (1..<300).map { UInt8(truncatingIfNeeded: $0) }
        let sent = try sendHeld(net, la, lb, inner)
        XCTAssertEqual(sent.bytes.first, LinkFrameType.transportTagBound.rawValue)
        XCTAssertNotEqual(Array(sent.bytes[13..<61]), Array(inner[0..<48]), "the first 48 bytes travel encrypted")
        // Damaged in the headers or in the end-to-end tag: the link refuses it.
        for offset in [13 + 5, sent.bytes.count - 16 - 3] {
            var forged = sent
            forged.bytes[offset] ^= 0x01
            net.deliver(forged)
        }
        net.pump()
        XCTAssertEqual(net.frames(lb), [])
        XCTAssertEqual(lb.stats[.authenticationFailed], 2)
        // Damaged between them: the link passes it on; the end-to-end tag is what catches it.
        var middle = sent
        middle.bytes[13 + 100] ^= 0x01
        net.deliver(middle)
        net.pump()
        var expected = inner
        expected[100] ^= 0x01
        XCTAssertEqual(net.frames(lb), [expected])
        // The counter is spent: the original is now a replay.
        net.deliver(sent)
        net.pump()
        XCTAssertEqual(lb.stats[.replayed], 1)
    }

    func testShortFramesAndOldPeersGetTheFullyAuthenticatedFrame() throws {
        var (net, la, lb) = pair()
        // 63 bytes: no room for a tag after the 48-byte prefix.
        let short: [UInt8] = [0x20] + [UInt8](repeating: 7, count: 62)
        XCTAssertEqual(try sendHeld(net, la, lb, short).bytes.first, LinkFrameType.transportSealedPayload.rawValue)
        (net, la, lb) = pair(bFeatures: [])
        let inner: [UInt8] = [0x20] + [UInt8](repeating: 9, count: 200)
        let sent = try sendHeld(net, la, lb, inner)
        XCTAssertEqual(sent.bytes.first, LinkFrameType.transportSealedPayload.rawValue)
        // A 0x08 frame on a keypair that did not agree to it is refused as such.
        var relabelled = sent
        relabelled.bytes[0] = LinkFrameType.transportTagBound.rawValue
        net.deliver(relabelled)
        net.pump()
        XCTAssertEqual(lb.stats[.unknownType], 1)
        XCTAssertEqual(net.frames(lb), [])
        net.deliver(sent)
        net.pump()
        XCTAssertEqual(net.frames(lb), [inner])
    }
}
