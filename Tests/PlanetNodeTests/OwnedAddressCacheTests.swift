import XCTest
import PlanetCore
@testable import PlanetNode

final class OwnedAddressCacheTests: XCTestCase {
    func testAgreesWithDerivationForOwnSubnetAndForeignSources() {
        let keys = (0..<4).map { _ in NodeIdentity.generate().publicKey }
        var cache = OwnedAddressCache()
        for _ in 0..<3 {
            for key in keys {
                for other in keys {
                    let candidates = [other.address, IPv6Address(high: other.subnet.address.high, low: 0x42),
                                      IPv6Address(high: other.address.high, low: other.address.low ^ 1)]
                    for source in candidates {
                        let expected = OverlayAddress.key(key, owns: source) || OverlayAddress.key(key, ownsSubnetAddress: source)
                        XCTAssertEqual(cache.key(key, owns: source), expected)
                    }
                }
            }
        }
    }

    func testStaysCorrectPastItsCapacity() {
        var cache = OwnedAddressCache()
        var rng = SplitMix64(seed: 5)
        let first = NodeIdentity.generate().publicKey
        XCTAssertTrue(cache.key(first, owns: first.address))
        for _ in 0..<(OwnedAddressCache.capacity + 10) {
            let k = PublicKey((0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) })!
            XCTAssertFalse(cache.key(k, owns: first.address))
            XCTAssertLessThanOrEqual(cache.count, OwnedAddressCache.capacity)
        }
        XCTAssertTrue(cache.key(first, owns: first.address))
        XCTAssertFalse(cache.key(first, owns: IPv6Address(high: 0x0200_0000_0000_0000, low: 1)))
    }
}
