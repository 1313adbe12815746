import XCTest
import PlanetCore
@testable import PlanetLink

final class KeypairTests: XCTestCase {
    func pair(counter: UInt64 = 0) throws -> (Keypair, Keypair) {
        let a = NodeIdentity.generate(), b = NodeIdentity.generate()
        let i = HandshakeInitiator(local: a, localIndex: 1, expectedPeer: nil, domain: "t")
        let (p, m2) = try HandshakeResponder.respond(toInit: i.initMessage(), local: b, localIndex: 2, domain: "t")
        let (m3, ki) = try i.handleResponse(m2)
        let kr = try p.handleFinish(m3)
        return (Keypair(keys: ki, createdAt: .zero, sendCounter: counter), Keypair(keys: kr, createdAt: .zero))
    }

    func seal(_ k: Keypair, _ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        XCTAssertTrue(k.seal(type: 4, plaintext: text, appendingTo: &out))
        return out
    }

    func testSealOpenRoundTripAndHeader() throws {
        let (s, r) = try pair()
        var f = seal(s, [1, 2, 3])
        XCTAssertEqual(f.count, 3 + Keypair.overhead)
        XCTAssertEqual(f[0], 4)
        XCTAssertEqual(f.withUnsafeBytes { Keypair.header(of: $0) }?.receiverIndex, 2)
        XCTAssertEqual(r.open(frame: &f, now: .zero), .ok(length: 3))
        XCTAssertEqual(Array(f[13..<16]), [1, 2, 3])
        var g = seal(r, [])
        XCTAssertEqual(s.open(frame: &g, now: .zero), .ok(length: 0))
    }

    func testSealInPlaceMatchesSealAndOpens() throws {
        let (s, r) = try pair()
        var buffer = [UInt8](repeating: 0xee, count: 13) + [0x21, 1, 2, 3]
        XCTAssertTrue(s.sealInPlace(type: 4, frame: &buffer))
        XCTAssertEqual(buffer.count, 4 + Keypair.overhead)
        XCTAssertEqual(r.open(frame: &buffer, now: .zero), .ok(length: 4))
        XCTAssertEqual(Array(buffer[13..<17]), [0x21, 1, 2, 3])
        var tooSmall = [UInt8](repeating: 0, count: 5)
        XCTAssertFalse(s.sealInPlace(type: 4, frame: &tooSmall))
    }

    func testTamperEveryOffsetOfTransportFrame() throws {
        let (s, r) = try pair()
        let f = seal(s, Array(0..<40))
        for offset in 0..<f.count {
            var t = f
            t[offset] ^= 0x10
            let result = r.open(frame: &t, now: .zero)
            XCTAssertNotEqual(result, .ok(length: 40), "offset \(offset)")
        }
        var genuine = f
        XCTAssertEqual(r.open(frame: &genuine, now: .zero), .ok(length: 40))
    }

    func testReplayAndReorderWindow() throws {
        let (s, r) = try pair()
        var frames = (0..<3000).map { _ in seal(s, [9]) }
        // Deliver 2999 first, then older ones in reverse: those within the window pass.
        XCTAssertEqual(r.open(frame: &frames[2999], now: .zero), .ok(length: 1))
        var dup = seal(s, [9]) // counter 3000
        let dupCopy = dup
        XCTAssertEqual(r.open(frame: &dup, now: .zero), .ok(length: 1))
        var again = dupCopy
        XCTAssertEqual(r.open(frame: &again, now: .zero), .replayed)
        let width = Int(ReplayWindow.width)
        for c in stride(from: 2998, through: 0, by: -1) {
            var copy = frames[c]
            let expectOK = 3000 - c < width
            XCTAssertEqual(r.open(frame: &copy, now: .zero) == .ok(length: 1), expectOK, "counter \(c)")
        }
        // Every accepted one is now a duplicate.
        for c in [2998, 1500, 100] {
            var copy = frames[c]
            XCTAssertEqual(r.open(frame: &copy, now: .zero), .replayed)
        }
    }

    func testReplayWindowJumpsFarAhead() {
        var w = ReplayWindow()
        XCTAssertTrue(w.record(5))
        XCTAssertTrue(w.record(1_000_000))
        XCTAssertFalse(w.record(5))
        XCTAssertTrue(w.record(1_000_000 - 100))
        XCTAssertFalse(w.record(1_000_000 - 100))
        XCTAssertFalse(w.record(1_000_000 - 9000))
        XCTAssertTrue(w.record(1_000_001))
        XCTAssertFalse(w.record(LinkConstants.rejectAfterMessages))
    }

    func testCounterExhaustion() throws {
        let (s, r) = try pair(counter: LinkConstants.rejectAfterMessages - 2)
        XCTAssertTrue(s.wantsRekeyByCount)
        var out: [UInt8] = []
        XCTAssertTrue(s.seal(type: 4, plaintext: [1], appendingTo: &out))
        XCTAssertEqual(r.open(frame: &out, now: .zero), .ok(length: 1))
        out = []
        XCTAssertTrue(s.seal(type: 4, plaintext: [1], appendingTo: &out))
        out = []
        XCTAssertFalse(s.seal(type: 4, plaintext: [1], appendingTo: &out))
        XCTAssertTrue(out.isEmpty)
        XCTAssertTrue(s.isExhausted)
    }

    func testExpiredKeypairRejected() throws {
        let (s, r) = try pair()
        var f = seal(s, [1])
        XCTAssertEqual(r.open(frame: &f, now: Instant(seconds: LinkConstants.rejectAfterTime + 1)), .expired)
    }
}
