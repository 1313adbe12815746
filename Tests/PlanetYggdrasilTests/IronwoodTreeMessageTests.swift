import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// SigReq, SigRes and Announce against what the real nodes sent each other.
final class IronwoodTreeMessageTests: XCTestCase {
    /// Every SigRes answers one of the other side's SigReqs, verifies with the requester as node
    /// and the sender as parent, and is exactly what we sign for the same request and port.
    func testCapturedSigResVerifiesAndWeSignTheSameBytes() throws {
        var checked = 0
        for f in try CaptureFixture.all() {
            for side in CaptureFixture.Side.allCases {
                let requester = f.peer(of: side)
                let requests = try f.bodies(side == .listener ? .dialer : .listener, .sigReq).map { try IronwoodSigReq(body: $0) }
                for body in try f.bodies(side, .sigRes) {
                    let res = try IronwoodSigRes(body: body)
                    XCTAssertTrue(requests.contains(res.request), "\(f.run) \(side): a SigRes for no request")
                    XCTAssertTrue(res.verify(node: requester.publicKey, parent: f.identity(side).publicKey))
                    XCTAssertFalse(res.verify(node: f.identity(side).publicKey, parent: requester.publicKey))
                    XCTAssertEqual(res.encoded, body)
                    let ours = IronwoodSigRes(answering: res.request, node: requester.publicKey, port: res.port, parent: f.identity(side))
                    XCTAssertEqual(ours.encoded, body, "\(f.run) \(side)")
                    // ironwood numbers peers from 1; a single link is port 1.
                    XCTAssertEqual(res.port, 1)
                    checked += 1
                }
                for body in try f.bodies(side, .sigReq) { XCTAssertEqual(try IronwoodSigReq(body: body).encoded, body) }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 4)
    }

    /// Every announcement verifies and re-encodes to its bytes; a root's is its own parent with
    /// port 0; the tree settles with the dialer (the smaller key) as root and the listener's
    /// last announcement naming it as parent; announcements are reproduced from the keys and
    /// the parent's SigRes (signatures are deterministic).
    func testCapturedAnnouncementsVerify() throws {
        var roots = 0, children = 0
        for f in try CaptureFixture.all() {
            XCTAssertLessThan(f.dialer.publicKey, f.listener.publicKey)
            for side in CaptureFixture.Side.allCases {
                for body in try f.bodies(side, .announce) {
                    let ann = try IronwoodAnnounce(body: body)
                    XCTAssertNoThrow(try ann.verify(), "\(f.run) \(side)")
                    XCTAssertEqual(ann.encoded, body)
                    let node = ann.key == f.dialer.publicKey ? f.dialer : f.listener
                    if ann.isRoot {
                        // Each node starts as its own root; the listener gives that up once it
                        // hears the dialer's smaller key.
                        XCTAssertEqual(ann.response.port, 0)
                        XCTAssertEqual(IronwoodAnnounce.root(node, request: ann.response.request), ann)
                        roots += 1
                    } else if ann.key == f.listener.publicKey && ann.parent == f.dialer.publicKey {
                        XCTAssertEqual(IronwoodAnnounce(node: node, parent: ann.parent, response: ann.response), ann)
                        children += 1
                    }
                }
            }
        }
        for f in try CaptureFixture.all() {
            let last = try IronwoodAnnounce(body: try XCTUnwrap(f.bodies(.listener, .announce).last))
            XCTAssertEqual([last.key, last.parent], [f.listener.publicKey, f.dialer.publicKey], "\(f.run)")
        }
        XCTAssertGreaterThanOrEqual(roots, 2)
        XCTAssertGreaterThanOrEqual(children, 2)
    }

    func testTamperedAnnouncementsAreRefused() throws {
        let f = try CaptureFixture.load(.plain)
        let body = try XCTUnwrap(try f.bodies(.listener, .announce).first { try !IronwoodAnnounce(body: $0).isRoot })
        // Every bit of the key, parent, numbers and signatures matters.
        for bit in 0..<(body.count * 8) {
            var bad = body
            bad[bit / 8] ^= 1 << UInt8(bit % 8)
            guard let ann = try? IronwoodAnnounce(body: bad) else { continue }
            XCTAssertThrowsError(try ann.verify(), "bit \(bit) flipped still verifies")
        }
        // Port 0 from a non-root is refused before any signature is checked.
        var ann = try IronwoodAnnounce(body: body)
        ann.response.port = 0
        XCTAssertThrowsError(try ann.verify()) { XCTAssertEqual($0 as? IronwoodMessageError, .portZeroNotRoot) }
        // Truncated or padded bodies do not decode.
        for cut in [0, 31, 64, 65, body.count - 1] {
            XCTAssertThrowsError(try IronwoodAnnounce(body: Array(body.prefix(cut)))) { XCTAssertEqual($0 as? IronwoodMessageError, .malformed) }
        }
        XCTAssertThrowsError(try IronwoodAnnounce(body: body + [0]))
    }

    func testMalformedRequestsAndResponses() throws {
        XCTAssertEqual(try IronwoodSigReq(body: [1, 0xac, 2]), IronwoodSigReq(seq: 1, nonce: 300))
        XCTAssertThrowsError(try IronwoodSigReq(body: [1]))
        XCTAssertThrowsError(try IronwoodSigReq(body: [1, 2, 3]))
        XCTAssertThrowsError(try IronwoodSigReq(body: [1, 0x80]))
        XCTAssertThrowsError(try IronwoodSigReq(body: [1] + [UInt8](repeating: 0xff, count: 10) + [1]))
        let f = try CaptureFixture.load(.plain)
        let body = try XCTUnwrap(f.bodies(.listener, .sigRes).first)
        XCTAssertThrowsError(try IronwoodSigRes(body: Array(body.dropLast())))
        XCTAssertThrowsError(try IronwoodSigRes(body: body + [0]))
        var bad = try IronwoodSigRes(body: body)
        bad.port += 1
        XCTAssertFalse(bad.verify(node: f.dialer.publicKey, parent: f.listener.publicKey))
    }

    func testRandomBodiesNeverCrash() {
        var rng = SplitMix64(state: 0x7ee)
        for _ in 0..<3000 {
            let body = rng.bytes(rng.below(260))
            _ = try? IronwoodSigReq(body: body)
            _ = try? IronwoodSigRes(body: body)
            if let ann = try? IronwoodAnnounce(body: body) { XCTAssertThrowsError(try ann.verify()) }
        }
    }
}
