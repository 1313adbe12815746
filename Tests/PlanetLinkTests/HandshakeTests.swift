import XCTest
import PlanetCore
@testable import PlanetLink

final class HandshakeTests: XCTestCase {
    let a = NodeIdentity.generate()
    let b = NodeIdentity.generate()
    let domain = "planetary-link-v1"

    func run(pin: PublicKey? = nil, allowed: @escaping (PublicKey) -> Bool = { _ in true })
        throws -> (SessionKeys, SessionKeys) {
        let i = HandshakeInitiator(local: a, localIndex: 7, expectedPeer: pin, domain: domain)
        let msg1 = i.initMessage()
        let (pending, msg2) = try HandshakeResponder.respond(toInit: msg1, local: b, localIndex: 9, domain: domain)
        let (msg3, ki) = try i.handleResponse(msg2)
        let kr = try pending.handleFinish(msg3, isAllowed: allowed)
        return (ki, kr)
    }

    func testHappyPathAgreesOnKeysAndIdentities() throws {
        let (ki, kr) = try run(pin: b.publicKey)
        XCTAssertEqual(ki.peer, b.publicKey)
        XCTAssertEqual(kr.peer, a.publicKey)
        XCTAssertEqual(ki.sendKey, kr.receiveKey)
        XCTAssertEqual(ki.receiveKey, kr.sendKey)
        XCTAssertNotEqual(ki.sendKey, ki.receiveKey)
        XCTAssertEqual(ki.localIndex, 7); XCTAssertEqual(ki.remoteIndex, 9)
        XCTAssertEqual(kr.localIndex, 9); XCTAssertEqual(kr.remoteIndex, 7)
        XCTAssertTrue(ki.isInitiator); XCTAssertFalse(kr.isInitiator)
    }

    func testMessageLengthsAntiAmplification() {
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: domain)
        let msg1 = i.initMessage()
        let (_, msg2) = try! HandshakeResponder.respond(toInit: msg1, local: b, localIndex: 2, domain: domain)
        XCTAssertGreaterThanOrEqual(msg1.count, msg2.count)
        XCTAssertEqual(msg1.count, 153); XCTAssertEqual(msg2.count, 153)
        let (msg3, _) = try! i.handleResponse(msg2)
        XCTAssertEqual(msg3.count, 116)
        XCTAssertEqual(HandshakeMessages.receiverIndex(ofResponse: msg2), 1)
        XCTAssertEqual(HandshakeMessages.receiverIndex(ofFinish: msg3), 2)
    }

    func testPinMismatch() {
        let other = NodeIdentity.generate().publicKey
        XCTAssertThrowsError(try run(pin: other)) { e in
            XCTAssertEqual(e as? HandshakeError, .peerKeyMismatch(got: b.publicKey))
        }
    }

    func testAllowListRefusal() {
        XCTAssertThrowsError(try run(allowed: { _ in false })) { e in
            XCTAssertEqual(e as? HandshakeError, .notAllowed(a.publicKey))
        }
    }

    func testDomainSeparation() {
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "planetary-link-v1")
        let (_, msg2) = try! HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2,
                                                        domain: "planetary-session-v1")
        XCTAssertThrowsError(try i.handleResponse(msg2)) { e in
            XCTAssertEqual(e as? HandshakeError, .authenticationFailed)
        }
    }

    func testReplayedFinishRejected() throws {
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: domain)
        let (pending, msg2) = try HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2, domain: domain)
        let (msg3, _) = try i.handleResponse(msg2)
        _ = try pending.handleFinish(msg3)
        XCTAssertThrowsError(try pending.handleFinish(msg3)) { XCTAssertEqual($0 as? HandshakeError, .alreadyDone) }
        XCTAssertThrowsError(try i.handleResponse(msg2)) { XCTAssertEqual($0 as? HandshakeError, .alreadyDone) }
    }

    func testReplayedInitYieldsUselessResponse() throws {
        // A replayed msg1 gets a fresh response, but nobody can finish it without a's key,
        // and its msg3 from the first run does not fit the second pending state.
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: domain)
        let msg1 = i.initMessage()
        let (p1, r1) = try HandshakeResponder.respond(toInit: msg1, local: b, localIndex: 2, domain: domain)
        let (p2, _) = try HandshakeResponder.respond(toInit: msg1, local: b, localIndex: 3, domain: domain)
        let (msg3, _) = try i.handleResponse(r1)
        var forged = msg3
        forged[0...3] = [0, 0, 0, 3]
        XCTAssertThrowsError(try p2.handleFinish(forged))
        XCTAssertNoThrow(try p1.handleFinish(msg3))
    }

    func testTamperingEveryByteOfEveryMessage() throws {
        let count = HandshakeMessages.initLength
        for offset in 0..<count {
            let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: domain)
            var msg1 = i.initMessage()
            msg1[offset] ^= 0x01
            if let (_, msg2) = try? HandshakeResponder.respond(toInit: msg1, local: b, localIndex: 2, domain: domain) {
                XCTAssertThrowsError(try i.handleResponse(msg2), "msg1 offset \(offset)")
            }
        }
        for offset in 0..<HandshakeMessages.responseLength {
            let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: domain)
            var (_, msg2) = try HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2, domain: domain)
            msg2[offset] ^= 0x80
            XCTAssertThrowsError(try i.handleResponse(msg2), "msg2 offset \(offset)")
        }
        for offset in 0..<HandshakeMessages.finishLength {
            let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: domain)
            let (pending, msg2) = try HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2, domain: domain)
            var (msg3, _) = try i.handleResponse(msg2)
            let genuine = msg3
            msg3[offset] ^= 0x04
            XCTAssertThrowsError(try pending.handleFinish(msg3), "msg3 offset \(offset)")
            XCTAssertNoThrow(try pending.handleFinish(genuine), "forged msg3 must not cancel the genuine one")
        }
    }

    func testLowOrderEphemeralRejected() {
        var msg1 = [UInt8](repeating: 0, count: HandshakeMessages.initLength)
        msg1[0] = HandshakeMessages.version
        msg1[37] = TransportCipher.chacha20Poly1305.rawValue
        // eI = all zeros: a low-order point.
        XCTAssertThrowsError(try HandshakeResponder.respond(toInit: msg1, local: b, localIndex: 2, domain: domain)) {
            XCTAssertEqual($0 as? HandshakeError, .weakEphemeral)
        }
        msg1[0] = 9
        XCTAssertThrowsError(try HandshakeResponder.respond(toInit: msg1, local: b, localIndex: 2, domain: domain)) {
            XCTAssertEqual($0 as? HandshakeError, .unsupportedVersion(9))
        }
    }

    func testSelfConnectionRefused() {
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: domain)
        let (_, msg2) = try! HandshakeResponder.respond(toInit: i.initMessage(), local: a, localIndex: 2, domain: domain)
        XCTAssertThrowsError(try i.handleResponse(msg2)) { XCTAssertEqual($0 as? HandshakeError, .selfConnection) }
    }
}
