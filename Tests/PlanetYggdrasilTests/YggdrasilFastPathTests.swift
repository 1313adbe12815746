import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// The per-packet shortcuts of the Yggdrasil data path (sealing in place, opening and reading
/// keys where the bytes lie) must give exactly what the general forms give.
final class YggdrasilFastPathTests: XCTestCase {
    func testSealInPlaceEqualsBoxSealAndOpensFromAnySlice() {
        let key = Sodium.randomBytes(32)
        let nonce = IronwoodSessionInit.nonce(0x0102_0304_0506_0708)
        XCTAssertEqual(nonce, [UInt8](repeating: 0, count: 16) + [1, 2, 3, 4, 5, 6, 7, 8])
        let message = (0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var buffer = [UInt8](repeating: 0, count: 16) + message
        buffer.withUnsafeMutableBytes { Sodium.boxSealInPlace($0, nonce: nonce, sharedKey: key) }
        XCTAssertEqual(buffer, Sodium.boxSeal(message, nonce: nonce, sharedKey: key))
        // Opened from a slice that does not start at index 0, as a Traffic payload is.
        let framed = [9, 9, 9] + buffer
        XCTAssertEqual(Sodium.boxOpen(framed[3...], nonce: nonce, sharedKey: key), message)
        var bad = buffer
        bad[20] ^= 1
        XCTAssertNil(Sodium.boxOpen(bad[...], nonce: nonce, sharedKey: key))
        XCTAssertNil(Sodium.boxOpen(bad, nonce: nonce, sharedKey: key))
    }

    func testKeysReadFromSlicesAndAppendedAsBytes() {
        let bytes = (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let key = PublicKey(bytes, at: 5)!
        XCTAssertEqual(PublicKey(bytes[5..<37]), key)
        XCTAssertEqual(PublicKey(Array(bytes[5..<37])), key)
        XCTAssertEqual(key.bytes, Array(bytes[5..<37]))
        var out: [UInt8] = [0xaa]
        key.append(to: &out)
        XCTAssertEqual(out, [0xaa] + Array(bytes[5..<37]))
        var offset = 5
        XCTAssertEqual(IronwoodPath.readKey(bytes, at: &offset), key)
        XCTAssertEqual(offset, 37)
        XCTAssertNil(IronwoodPath.readKey(bytes, at: &offset))
    }
}
