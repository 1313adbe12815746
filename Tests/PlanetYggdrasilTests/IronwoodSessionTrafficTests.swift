import XCTest
import PlanetCore
@testable import PlanetYggdrasil

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
