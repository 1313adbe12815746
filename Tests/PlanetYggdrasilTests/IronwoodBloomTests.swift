import XCTest
import PlanetCore
@testable import PlanetYggdrasil

final class IronwoodBloomTests: XCTestCase {
    /// Published MurmurHash3_x64_128 values (seed 0), as (h1, h2).
    func testMurmurHash3KnownValues() {
        XCTAssertTrue(MurmurHash3.x64_128([]) == (0, 0))
        XCTAssertTrue(MurmurHash3.x64_128(Array("hello".utf8)) == (0xcbd8_a7b3_41bd_9b02, 0x5b1e_906a_48ae_1d19))
        XCTAssertTrue(MurmurHash3.x64_128(Array("The quick brown fox jumps over the lazy dog".utf8))
                      == (0xe34b_bc7b_bc07_1b6c, 0x7a43_3ca9_c49a_9347))
    }

    /// The last Bloom each real node sent holds exactly its own transformed key (with one peer
    /// there is nothing else to merge), and we compute the same filter bit for bit.
    func testWeReproduceTheRealNodesFilter() throws {
        for f in try CaptureFixture.all() {
            for side in CaptureFixture.Side.allCases {
                let body = try XCTUnwrap(f.bodies(side, .bloom).last)
                let real = try IronwoodBloom(body: body)
                var ours = IronwoodBloom()
                ours.insert(YggdrasilBloomKey.transform(f.identity(side).publicKey).bytes)
                XCTAssertEqual(Hex.encode(ours.encoded), Hex.encode(body), "\(f.run) \(side)")
                XCTAssertEqual(ours, real)
                XCTAssertTrue(real.contains(YggdrasilBloomKey.transform(f.identity(side).publicKey).bytes))
                // The untransformed key is not what yggdrasil inserts.
                var raw = IronwoodBloom()
                raw.insert(f.identity(side).publicKey.bytes)
                XCTAssertNotEqual(raw, real)
            }
            // The first Bloom on a link is the empty filter (32 bytes of flags).
            let first = try XCTUnwrap(f.bodies(.listener, .bloom).first)
            XCTAssertEqual(first, IronwoodBloom().encoded)
            XCTAssertEqual(first.count, 32)
        }
    }

    /// The transformed key keeps exactly what the /64 carries: the same subnet, ones after.
    func testTransformKeepsTheSubnetBits() {
        var rng = SplitMix64(state: 0xb100)
        for i in 0..<200 {
            var bytes = rng.bytes(32)
            for z in 0..<(i % 5) { bytes[z] = 0 }  // some keys with long leading-zero runs
            let key = PublicKey(bytes)!
            let xform = YggdrasilBloomKey.transform(key)
            XCTAssertEqual(xform.subnet, key.subnet)
            let leadingZeros = bytes.firstIndex { $0 != 0 }.map { $0 * 8 + bytes[$0].leadingZeroBitCount } ?? 256
            let kept = min(256, leadingZeros + 1 + 48)
            for bit in 0..<256 {
                let original = (bytes[bit / 8] >> UInt8(7 - bit % 8)) & 1
                let got = (xform.bytes[bit / 8] >> UInt8(7 - bit % 8)) & 1
                XCTAssertEqual(got, bit < kept ? original : 1, "key \(key) bit \(bit)")
            }
            // The node's address leads to the same entry as its subnet.
            XCTAssertEqual(YggdrasilBloomKey.partialKey(fromAddressBytes: OverlayAddress.addressBytes(for: key)).bytes.prefix(kept / 8),
                           xform.bytes.prefix(kept / 8))
        }
    }

    func testWireFormat() throws {
        var b = IronwoodBloom()
        XCTAssertEqual(b.encoded, [UInt8](repeating: 0xff, count: 16) + [UInt8](repeating: 0, count: 16))
        b.insert(Array("x".utf8))
        XCTAssertEqual(try IronwoodBloom(body: b.encoded), b)
        var full = IronwoodBloom(words: [UInt64](repeating: .max, count: 128))
        XCTAssertEqual(full.encoded, [UInt8](repeating: 0, count: 16) + [UInt8](repeating: 0xff, count: 16))
        full.merge(b)
        XCTAssertEqual(full, IronwoodBloom(words: [UInt64](repeating: .max, count: 128)))
        // Word 0 = 0x0102030405060708 goes out big-endian after the flags, others zero.
        var words = [UInt64](repeating: 0, count: 128)
        words[0] = 0x0102_0304_0506_0708
        let wire = IronwoodBloom(words: words).encoded
        XCTAssertEqual(wire.count, 40)
        XCTAssertEqual(wire[0], 0x7f)
        XCTAssertEqual(Array(wire[32...]), [1, 2, 3, 4, 5, 6, 7, 8])
        // Refused: both flags on a word, a missing word, a word too many, short flags.
        var both = IronwoodBloom().encoded
        both[16] = 0x80
        XCTAssertThrowsError(try IronwoodBloom(body: both))
        XCTAssertThrowsError(try IronwoodBloom(body: Array(wire.dropLast())))
        XCTAssertThrowsError(try IronwoodBloom(body: wire + [0]))
        XCTAssertThrowsError(try IronwoodBloom(body: [UInt8](repeating: 0xff, count: 31)))
    }

    func testRandomBodiesNeverCrash() {
        var rng = SplitMix64(state: 0xb10)
        for i in 0..<3000 {
            var body = rng.bytes(rng.below(140))
            if i % 2 == 0 && body.count >= 32 { for j in 0..<16 { body[j] |= ~body[16 + j] } }  // mostly valid flags
            if let b = try? IronwoodBloom(body: body) { XCTAssertEqual(b.encoded, body) }
        }
    }
}
