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

