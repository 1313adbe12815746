import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// PathLookup, PathNotify, PathBroken and Traffic against the "traffic" capture, in which the
/// listener (A, port 1 under the root) pinged the dialer (B, the root) by overlay address.
final class IronwoodPathMessageTests: XCTestCase {
    func testCapturedLookupsAskForWhatTheAddressCarries() throws {
        let f = try CaptureFixture.load(.traffic)
        let a = f.listener.publicKey, b = f.dialer.publicKey
        // A knew only B's address: it looks up the partial key the address carries.
        let fromA = try f.bodies(.listener, .pathLookup).map { try IronwoodPathLookup(body: $0) }
        XCTAssertEqual(fromA.first, IronwoodPathLookup(source: a, dest: YggdrasilBloomKey.partialKey(fromAddressBytes: OverlayAddress.addressBytes(for: b)), from: [1]))
        // B learnt A's whole key from the session and looks that up; B is the root: no coords.
        let fromB = try f.bodies(.dialer, .pathLookup).map { try IronwoodPathLookup(body: $0) }
        XCTAssertEqual(fromB.first, IronwoodPathLookup(source: b, dest: a, from: []))
        for side in CaptureFixture.Side.allCases {
            for body in try f.bodies(side, .pathLookup) { XCTAssertEqual(try IronwoodPathLookup(body: body).encoded, body) }
        }
        XCTAssertFalse(fromA.isEmpty || fromB.isEmpty)
    }

    /// Each notify carries its sender's signed coordinates (the root's are empty, A's are [1]),
    /// verifies, re-encodes to its bytes, and our signature over the same seq and coordinates
    /// is the real one (ed25519 is deterministic).
    func testCapturedNotifiesVerifyAndWeSignTheSame() throws {
        let f = try CaptureFixture.load(.traffic)
        var seen = 0
        for side in CaptureFixture.Side.allCases {
            for body in try f.bodies(side, .pathNotify) {
                let n = try IronwoodPathNotify(body: body)
                XCTAssertNoThrow(try n.verify())
                XCTAssertEqual(n.encoded, body)
                XCTAssertEqual(n.source, f.identity(side).publicKey)
                XCTAssertEqual(n.dest, f.peer(of: side).publicKey)
                XCTAssertEqual(n.coords, side == .dialer ? [] : [1])
                XCTAssertEqual(n.signature, IronwoodPathNotify.sign(seq: n.seq, coords: n.coords, by: f.identity(side)))
                // seq is the Unix time of signing: the capture is from December 2026 or later.
                XCTAssertGreaterThan(n.seq, 1_796_000_000)
                var other = n
                other.coords = [2]
                XCTAssertThrowsError(try other.verify())
                other = n
                other.seq += 1
                XCTAssertThrowsError(try other.verify())
                seen += 1
            }
        }
        XCTAssertEqual(seen, 2)
    }

    /// Every Traffic frame carries the session between A and B: coordinates of the destination
    /// and the source, the keys, a watermark of 1 (each sender's distance to the other), and a
    /// payload that starts with the session message type (1 init, 2 ack, 3 traffic).
    func testCapturedTrafficDecodes() throws {
        let f = try CaptureFixture.load(.traffic)
        var types: [CaptureFixture.Side: [UInt8]] = [:]
        for side in CaptureFixture.Side.allCases {
            for body in try f.bodies(side, .traffic) {
                let t = try IronwoodTraffic(body: body)
                XCTAssertEqual(t.encoded, body)
                XCTAssertEqual(t.source, f.identity(side).publicKey)
                XCTAssertEqual(t.dest, f.peer(of: side).publicKey)
                XCTAssertEqual(t.path, side == .listener ? [] : [1])
                XCTAssertEqual(t.from, side == .listener ? [1] : [])
                XCTAssertEqual(t.watermark, 1)
                types[side, default: []].append(try XCTUnwrap(t.payload.first))
            }
        }
        // A started the session (init), B acknowledged; then data both ways (3 pings, 3 replies).
        XCTAssertEqual(types[.listener]?.first, 1)
        XCTAssertEqual(types[.dialer]?.first, 2)
        XCTAssertEqual(types[.listener]?.filter { $0 == 3 }.count, 3)
        XCTAssertEqual(types[.dialer]?.filter { $0 == 3 }.count, 3)
    }

    func testPathBrokenRoundTripAndMalformedBodies() throws {
        let f = try CaptureFixture.load(.traffic)
        let broken = IronwoodPathBroken(path: [1, 300], watermark: .max, source: f.listener.publicKey, dest: f.dialer.publicKey)
        XCTAssertEqual(broken.encoded.prefix(4), [1, 0xac, 2, 0])
        XCTAssertEqual(try IronwoodPathBroken(body: broken.encoded), broken)
        XCTAssertThrowsError(try IronwoodPathBroken(body: broken.encoded + [0]))
        XCTAssertThrowsError(try IronwoodPathBroken(body: Array(broken.encoded.dropLast())))
        // A path without its terminating 0 runs into the keys and the body ends too early.
        let lookup = try XCTUnwrap(f.bodies(.listener, .pathLookup).first)
        XCTAssertThrowsError(try IronwoodPathLookup(body: Array(lookup.dropLast())))
        XCTAssertThrowsError(try IronwoodPathLookup(body: lookup + [0]))
        let notify = try XCTUnwrap(f.bodies(.dialer, .pathNotify).first)
        XCTAssertThrowsError(try IronwoodPathNotify(body: Array(notify.dropLast())))
        XCTAssertThrowsError(try IronwoodPathNotify(body: notify + [0]))
        let traffic = try XCTUnwrap(f.bodies(.dialer, .traffic).first)
        // Traffic's payload is the rest: anything after the watermark is accepted.
        XCTAssertEqual(try IronwoodTraffic(body: traffic + [7]).payload.last, 7)
        XCTAssertThrowsError(try IronwoodTraffic(body: Array(traffic.prefix(2 + 64))))
        XCTAssertEqual(try IronwoodTraffic(body: Array(traffic.prefix(3 + 64 + 1))).payload, [])
    }

    func testRandomBodiesNeverCrash() {
        var rng = SplitMix64(state: 0x9a7)
        for _ in 0..<3000 {
            let body = rng.bytes(rng.below(200))
            _ = try? IronwoodPathLookup(body: body)
            _ = try? IronwoodPathBroken(body: body)
            _ = try? IronwoodTraffic(body: body)
            if let n = try? IronwoodPathNotify(body: body) { XCTAssertThrowsError(try n.verify()) }
        }
    }
}
