import XCTest
import PlanetCore
@testable import PlanetLink

final class CipherNegotiationTests: XCTestCase {
    let a = NodeIdentity.generate()
    let b = NodeIdentity.generate()
    let both: TransportCiphers = [.chacha20Poly1305, .aes256Gcm]
    let all: TransportCiphers = [.chacha20Poly1305, .aes256Gcm, .aegis256]

    func handshake(offer: TransportCiphers, accept: TransportCiphers) throws -> (SessionKeys, SessionKeys) {
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "t", ciphers: offer)
        let (p, m2) = try HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2, domain: "t", ciphers: accept)
        let (m3, ki) = try i.handleResponse(m2)
        return (ki, try p.handleFinish(m3))
    }

    func testResponderPicksTheFastestCommonCipher() throws {
        try XCTSkipUnless(TransportCiphers.hardwareSupported.contains(.aes256Gcm), "no AES-NI here")
        var (ki, kr) = try handshake(offer: both, accept: both)
        XCTAssertEqual(ki.cipher, .aes256Gcm); XCTAssertEqual(kr.cipher, .aes256Gcm)
        (ki, kr) = try handshake(offer: [.chacha20Poly1305], accept: both)
        XCTAssertEqual(ki.cipher, .chacha20Poly1305); XCTAssertEqual(kr.cipher, .chacha20Poly1305)
        (ki, kr) = try handshake(offer: both, accept: [.chacha20Poly1305])
        XCTAssertEqual(ki.cipher, .chacha20Poly1305); XCTAssertEqual(kr.cipher, .chacha20Poly1305)
        // AEGIS-256 first when both run it; a peer from before it still gets AES-256-GCM.
        (ki, kr) = try handshake(offer: all, accept: all)
        XCTAssertEqual(ki.cipher, .aegis256); XCTAssertEqual(kr.cipher, .aegis256)
        (ki, kr) = try handshake(offer: both, accept: all)
        XCTAssertEqual(ki.cipher, .aes256Gcm); XCTAssertEqual(kr.cipher, .aes256Gcm)
        (ki, kr) = try handshake(offer: all, accept: both)
        XCTAssertEqual(ki.cipher, .aes256Gcm); XCTAssertEqual(kr.cipher, .aes256Gcm)
        // Unknown bits from a newer peer are ignored, not refused.
        (ki, kr) = try handshake(offer: TransportCiphers(rawValue: 0x81), accept: both)
        XCTAssertEqual(kr.cipher, .chacha20Poly1305)
    }

    func testNoCommonCipherIsRefusedByTheResponder() {
        XCTAssertThrowsError(try handshake(offer: [.aes256Gcm], accept: [.chacha20Poly1305])) {
            XCTAssertEqual($0 as? HandshakeError, .noCommonCipher)
        }
        XCTAssertThrowsError(try handshake(offer: [], accept: both)) {
            XCTAssertEqual($0 as? HandshakeError, .noCommonCipher)
        }
    }

    func testDowngradeOfTheOfferIsDetected() throws {
        // Someone in the path clears the AES bit in msg1: the responder picks ChaCha, but its
        // signature covers the altered msg1, so the initiator refuses the response.
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "t", ciphers: both)
        var m1 = i.initMessage()
        m1[37] = TransportCipher.chacha20Poly1305.rawValue
        let (_, m2) = try HandshakeResponder.respond(toInit: m1, local: b, localIndex: 2, domain: "t", ciphers: both)
        XCTAssertThrowsError(try i.handleResponse(m2))
    }

    func testAlteredPickInTheResponseIsDetected() throws {
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "t", ciphers: both)
        var (_, m2) = try HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2, domain: "t", ciphers: both)
        m2[8] = m2[8] == TransportCipher.aes256Gcm.rawValue ? TransportCipher.chacha20Poly1305.rawValue : TransportCipher.aes256Gcm.rawValue
        XCTAssertThrowsError(try i.handleResponse(m2))
        // A pick the initiator never offered is refused before any crypto.
        let j = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "t", ciphers: [.chacha20Poly1305])
        var (_, n2) = try HandshakeResponder.respond(toInit: j.initMessage(), local: b, localIndex: 2, domain: "t", ciphers: both)
        n2[8] = TransportCipher.aes256Gcm.rawValue
        XCTAssertThrowsError(try j.handleResponse(n2)) { XCTAssertEqual($0 as? HandshakeError, .malformed) }
    }

    func testEachCipherSealsOpensAndRejectsTampering() throws {
        for cipher in [TransportCipher.chacha20Poly1305, .aes256Gcm, .aegis256] where TransportCiphers.hardwareSupported.contains(cipher) {
            let (ki, kr) = try handshake(offer: TransportCiphers(rawValue: cipher.rawValue), accept: all)
            XCTAssertEqual(ki.cipher, cipher)
            let s = Keypair(keys: ki, createdAt: .zero), r = Keypair(keys: kr, createdAt: .zero)
            XCTAssertEqual(s.cipher, cipher)
            let text = (0..<1300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            var f: [UInt8] = []
            XCTAssertTrue(s.seal(type: 4, plaintext: text, appendingTo: &f))
            XCTAssertNotEqual(Array(f[13..<(13 + 1300)]), text, "\(cipher) must encrypt")
            for offset in [0, 5, 12, 13, 700, f.count - 1] {
                var bad = f
                bad[offset] ^= 0x10
                XCTAssertNotEqual(r.open(frame: &bad, now: .zero), .ok(length: 1300), "\(cipher) tamper at \(offset)")
            }
            var good = f
            XCTAssertEqual(r.open(frame: &good, now: .zero), .ok(length: 1300))
            XCTAssertEqual(Array(good[13..<(13 + 1300)]), text)
            XCTAssertEqual(r.open(frame: &f, now: .zero), .replayed)
        }
    }

    func testTheTwoCiphersDoNotOpenEachOthersFrames() throws {
        try XCTSkipUnless(TransportCiphers.hardwareSupported.contains(.aes256Gcm), "no AES-NI here")
        let (ki, kr) = try handshake(offer: both, accept: both)
        let aesSender = Keypair(keys: ki, createdAt: .zero)
        let chachaReceiver = Keypair(keys: SessionKeys(peer: kr.peer, localIndex: kr.localIndex, remoteIndex: kr.remoteIndex,
                                                       sendKey: kr.sendKey, receiveKey: kr.receiveKey, isInitiator: false,
                                                       cipher: .chacha20Poly1305), createdAt: .zero)
        var f: [UInt8] = []
        XCTAssertTrue(aesSender.seal(type: 4, plaintext: [1, 2, 3], appendingTo: &f))
        XCTAssertEqual(chachaReceiver.open(frame: &f, now: .zero), .authenticationFailed)
        // AEGIS-256 against AES-256-GCM under the same keys, both ways; a failed AEGIS open
        // leaves the frame as it was.
        let aegisOf = { (k: SessionKeys) in
            Keypair(keys: SessionKeys(peer: k.peer, localIndex: k.localIndex, remoteIndex: k.remoteIndex, sendKey: k.sendKey,
                                      receiveKey: k.receiveKey, isInitiator: k.isInitiator, cipher: .aegis256), createdAt: .zero)
        }
        let aesReceiver = Keypair(keys: kr, createdAt: .zero)
        var g: [UInt8] = []
        XCTAssertTrue(aegisOf(ki).seal(type: 4, plaintext: Array(repeating: 7, count: 100), appendingTo: &g))
        let sent = g
        var tried = g   // libsodium's AES-GCM wipes what it refuses: try it on a copy
        XCTAssertEqual(aesReceiver.open(frame: &tried, now: .zero), .authenticationFailed)
        var h: [UInt8] = []
        XCTAssertTrue(Keypair(keys: ki, createdAt: .zero).seal(type: 4, plaintext: Array(repeating: 7, count: 100), appendingTo: &h))
        let aegisReceiver = aegisOf(kr)
        let before = h
        XCTAssertEqual(aegisReceiver.open(frame: &h, now: .zero), .authenticationFailed)
        XCTAssertEqual(h, before, "a failed AEGIS-256 open must leave the frame unchanged")
        XCTAssertEqual(aegisReceiver.open(frame: &g, now: .zero), .ok(length: 100))
        XCTAssertNotEqual(g, sent)
        XCTAssertEqual(Array(g[13..<113]), Array(repeating: 7, count: 100))
    }

    /// Error reports quote the start of a sealed data message; the sender recovers its own
    /// plaintext from it with either cipher.
    func testSenderRecoversThePlaintextPrefixOfItsOwnFrameWithEitherCipher() throws {
        for cipher in [TransportCipher.chacha20Poly1305, .aes256Gcm, .aegis256] where TransportCiphers.hardwareSupported.contains(cipher) {
            let (ki, _) = try handshake(offer: TransportCiphers(rawValue: cipher.rawValue), accept: all)
            let s = Keypair(keys: ki, createdAt: .zero)
            let text = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 9 &+ 2) }
            var f: [UInt8] = []
            XCTAssertTrue(s.seal(type: 4, plaintext: text, appendingTo: &f))
            XCTAssertTrue(s.seal(type: 4, plaintext: text, appendingTo: &f))   // a second frame moves the counter on
            let quote = f[0..<(13 + 120)]
            XCTAssertEqual(s.plaintextPrefix(ofSentFrame: quote), Array(text[0..<120]), "\(cipher)")
        }
    }
}
