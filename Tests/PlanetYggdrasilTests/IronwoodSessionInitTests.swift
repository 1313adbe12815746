import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// The session handshake the real nodes ran inside Traffic in the "traffic" capture: the tests
/// hold both nodes' private keys, so they can open what each sent the other.
final class IronwoodSessionInitTests: XCTestCase {
    func payloads(_ f: CaptureFixture, _ side: CaptureFixture.Side) throws -> [[UInt8]] {
        try f.bodies(side, .traffic).map { try IronwoodTraffic(body: $0).payload }
    }

    /// A's Init opens with B's key and carries A's signature; B's Ack opens with A's key and
    /// carries B's. This checks the ed25519 → X25519 conversion, the box, its nonce and the
    /// layout against yggdrasil 0.5.12.
    func testWeOpenTheRealNodesInitAndAck() throws {
        let f = try CaptureFixture.load(.traffic)
        let initBytes = try XCTUnwrap(payloads(f, .listener).first)
        let ackBytes = try XCTUnwrap(payloads(f, .dialer).first)
        let initMessage = try IronwoodSessionInit.open(initBytes, recipient: f.dialer, sender: f.listener.publicKey)
        let ack = try IronwoodSessionInit.open(ackBytes, recipient: f.listener, sender: f.dialer.publicKey)
        XCTAssertEqual(initMessage.kind, .initiate)
        XCTAssertEqual(ack.kind, .acknowledge)
        // seq is the Unix time of sending, within a minute of the notify's (same capture).
        let notify = try IronwoodPathNotify(body: try XCTUnwrap(f.bodies(.dialer, .pathNotify).first))
        XCTAssertLessThan(max(initMessage.seq, notify.seq) - min(initMessage.seq, notify.seq), 60)
        XCTAssertLessThan(max(ack.seq, notify.seq) - min(ack.seq, notify.seq), 60)
        XCTAssertNotEqual(initMessage.current, initMessage.next)
        // Someone else's key cannot open it; the wrong sender's key does not verify it.
        XCTAssertThrowsError(try IronwoodSessionInit.open(initBytes, recipient: f.listener, sender: f.listener.publicKey)) {
            XCTAssertEqual($0 as? IronwoodSessionInit.OpenError, .notForUs)
        }
        XCTAssertThrowsError(try IronwoodSessionInit.open(initBytes, recipient: f.dialer, sender: f.dialer.publicKey)) {
            XCTAssertEqual($0 as? IronwoodSessionInit.OpenError, .badSignature)
        }
        // A, new to B's session when B's Ack arrives, takes it as an Init and acknowledges it
        // too (ironwood's _handleAck); then three data messages (type 3) each way.
        XCTAssertEqual(try payloads(f, .listener).map { $0[0] }, [1, 2, 3, 3, 3])
        XCTAssertEqual(try payloads(f, .dialer).map { $0[0] }, [2, 3, 3, 3])
        let secondAck = try IronwoodSessionInit.open(try payloads(f, .listener)[1], recipient: f.dialer, sender: f.listener.publicKey)
        XCTAssertEqual(secondAck.kind, .acknowledge)
    }

    func testSealOpenRoundTripAndTampering() throws {
        let f = try CaptureFixture.load(.traffic)
        let message = IronwoodSessionInit(kind: .initiate, current: [UInt8](repeating: 1, count: 32),
                                          next: [UInt8](repeating: 2, count: 32), keySeq: 7, seq: 1_796_620_017)
        let sealed = try XCTUnwrap(message.sealed(from: f.listener, to: f.dialer.publicKey, ephemeralSecret: [UInt8](repeating: 0x42, count: 32)))
        XCTAssertEqual(sealed.count, IronwoodSessionInit.byteCount)
        XCTAssertEqual(try IronwoodSessionInit.open(sealed, recipient: f.dialer, sender: f.listener.publicKey), message)
        for i in 0..<sealed.count {
            var bad = sealed
            bad[i] ^= 0x10
            XCTAssertThrowsError(try IronwoodSessionInit.open(bad, recipient: f.dialer, sender: f.listener.publicKey), "byte \(i)")
        }
        XCTAssertThrowsError(try IronwoodSessionInit.open(Array(sealed.dropLast()), recipient: f.dialer, sender: f.listener.publicKey)) {
            XCTAssertEqual($0 as? IronwoodSessionInit.OpenError, .wrongLength(192))
        }
        XCTAssertEqual(IronwoodSessionInit.nonce(0x0102), [UInt8](repeating: 0, count: 22) + [1, 2])
    }
}

/// Session data: its header as the real nodes wrote it (the boxes themselves are sealed with
/// session keys whose secret halves died with the nodes), and a seal/open round trip.
final class IronwoodSessionTrafficTests: XCTestCase {
    func testCapturedHeaders() throws {
        let f = try CaptureFixture.load(.traffic)
        for side in CaptureFixture.Side.allCases {
            let data = try f.bodies(side, .traffic).map { try IronwoodTraffic(body: $0).payload }.filter { $0[0] == 3 }
            let headers = try data.map { try XCTUnwrap(IronwoodSessionTraffic(payload: $0)) }
            XCTAssertEqual(headers.map(\.encoded), data)
            // Each ping and reply: tag 16 + next key 32 + one byte of yggdrasil payload type and a
            // 64-byte IPv6 echo (40 header + 8 ICMPv6 + 16 data).
            XCTAssertEqual(headers.map(\.boxed.count), [16 + 32 + 65, 16 + 32 + 65, 16 + 32 + 65])
            // Nonces grow strictly under one key pair.
            for (a, b) in zip(headers, headers.dropFirst()) where a.senderKeySeq == b.senderKeySeq && a.receiverKeySeq == b.receiverKeySeq {
                XCTAssertLessThan(a.nonce, b.nonce)
            }
        }
    }

    func testSealOpenRoundTrip() throws {
        let a = Sodium.x25519Keypair(), b = Sodium.x25519Keypair()
        let ab = try XCTUnwrap(Sodium.boxSharedKey(publicKey: b.publicKey, secretKey: a.secret))
        let ba = try XCTUnwrap(Sodium.boxSharedKey(publicKey: a.publicKey, secretKey: b.secret))
        XCTAssertEqual(ab, ba)
        let next = [UInt8](repeating: 9, count: 32)
        let t = IronwoodSessionTraffic.seal([1, 2, 3], senderNext: next, senderKeySeq: 2, receiverKeySeq: 1, nonce: 300, sharedKey: ab)
        XCTAssertEqual(Array(t.encoded.prefix(5)), [3, 2, 1, 0xac, 2])
        let parsed = try XCTUnwrap(IronwoodSessionTraffic(payload: t.encoded))
        let opened = try XCTUnwrap(parsed.open(sharedKey: ba))
        XCTAssertEqual(opened.senderNext, next)
        XCTAssertEqual(opened.message, [1, 2, 3])
        var wrongNonce = parsed
        wrongNonce.nonce = 301
        XCTAssertNil(wrongNonce.open(sharedKey: ba))
        XCTAssertNil(IronwoodSessionTraffic(payload: Array(t.encoded.prefix(IronwoodSessionTraffic.minimumBytes - 1))))
        XCTAssertNil(IronwoodSessionTraffic(payload: [1] + Array(t.encoded.dropFirst())))
    }
}
