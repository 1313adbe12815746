import XCTest
import PlanetCore
@testable import PlanetLink
import PlanetTesting

/// Transport frames of type 0x06: the inner frame's first 48 bytes encrypted, the rest
/// (already end-to-end ciphertext) authenticated only.
final class SealedPayloadTests: XCTestCase {
    let prefix = LinkConstants.sealedPayloadEncryptedPrefix

    func keypairs(_ cipher: TransportCipher) throws -> (Keypair, Keypair) {
        let a = NodeIdentity.generate(), b = NodeIdentity.generate()
        let offer = TransportCiphers(rawValue: cipher.rawValue)
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "t", ciphers: offer)
        let (p, m2) = try HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2, domain: "t", ciphers: offer)
        let (m3, ki) = try i.handleResponse(m2)
        return (Keypair(keys: ki, createdAt: .zero), Keypair(keys: try p.handleFinish(m3), createdAt: .zero))
    }

    var ciphers: [TransportCipher] {
        [.chacha20Poly1305, .aes256Gcm, .aegis256].filter { TransportCiphers.hardwareSupported.contains($0) }
    }

    func testPrefixIsEncryptedRestOnlyAuthenticatedAndEveryByteIsBound() throws {
        for cipher in ciphers {
            let (s, r) = try keypairs(cipher)
            let inner = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
            var frame = [UInt8](repeating: 0, count: Keypair.headerLength) + inner
            XCTAssertTrue(s.sealInPlace(type: LinkFrameType.transportSealedPayload.rawValue, frame: &frame, encryptedPrefix: prefix))
            XCTAssertEqual(frame.count, inner.count + Keypair.overhead)
            let body = Array(frame[Keypair.headerLength..<(Keypair.headerLength + inner.count)])
            XCTAssertNotEqual(Array(body[0..<prefix]), Array(inner[0..<prefix]), "\(cipher): headers must be hidden")
            XCTAssertEqual(Array(body[prefix...]), Array(inner[prefix...]), "\(cipher): the sealed payload is not encrypted twice")
            // Every byte, header and clear payload included, is bound by the tag.
            for offset in 0..<frame.count {
                var t = frame
                t[offset] ^= 0x01
                let result = r.open(frame: &t, now: .zero, encryptedPrefix: prefix)
                XCTAssertNotEqual(result, .ok(length: inner.count), "\(cipher): flip at \(offset) accepted")
            }
            // Opened as a full frame (type byte rewritten to 0x04), it fails: the mode cannot be swapped.
            var swapped = frame
            swapped[0] = LinkFrameType.transport.rawValue
            XCTAssertEqual(r.open(frame: &swapped, now: .zero), .authenticationFailed)
            var good = frame
            XCTAssertEqual(r.open(frame: &good, now: .zero, encryptedPrefix: prefix), .ok(length: inner.count))
            XCTAssertEqual(Array(good[Keypair.headerLength..<(Keypair.headerLength + inner.count)]), inner)
        }
    }

    func testShortInnerFramesAreEncryptedWhole() throws {
        for cipher in ciphers {
            let (s, r) = try keypairs(cipher)
            let inner: [UInt8] = [0x20, 1, 2, 3]
            var frame = [UInt8](repeating: 0, count: Keypair.headerLength) + inner
            XCTAssertTrue(s.sealInPlace(type: LinkFrameType.transportSealedPayload.rawValue, frame: &frame, encryptedPrefix: prefix))
            XCTAssertNotEqual(Array(frame[13..<17]), inner)
            XCTAssertEqual(r.open(frame: &frame, now: .zero, encryptedPrefix: prefix), .ok(length: 4))
            XCTAssertEqual(Array(frame[13..<17]), inner)
        }
    }

    /// With a peer that predates tag-bound frames (its handshake offers no features), sealed
    /// payloads travel as 0x06 and every byte is authenticated per link.
    func testLinkLayerCarriesSealedPayloadFramesAndCountsForgeries() {
        let net = TestNetwork()
        let a = net.add(.generate(), at: Endpoint(ipv4: 10, 0, 0, 1, port: 7001))
        var old = LinkConfig()
        old.features = []
        let b = net.add(.generate(), at: Endpoint(ipv4: 10, 0, 0, 2, port: 7002), config: old)
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertTrue(a.isUp(b.identity.publicKey))
        let inner: [UInt8] = [0x20] + (1..<200).map { UInt8($0) }
        net.holding = true
        XCTAssertTrue(a.send(headroomFrame: [UInt8](repeating: 0, count: 13) + inner, to: b.identity.publicKey, now: net.now,
                             payloadSealed: true))
        net.pump()
        net.holding = false
        let sent = net.held.removeFirst()
        XCTAssertEqual(sent.bytes.first, LinkFrameType.transportSealedPayload.rawValue)
        var forged = sent
        forged.bytes[100] ^= 0x40   // in the authenticated-only part
        net.deliver(forged)
        net.pump()
        XCTAssertEqual(net.frames(b), [])
        XCTAssertEqual(b.stats[.authenticationFailed], 1)
        net.deliver(sent)
        net.pump()
        XCTAssertEqual(net.frames(b), [inner])
    }
}
