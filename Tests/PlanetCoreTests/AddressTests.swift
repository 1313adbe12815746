import Foundation
import XCTest
@testable import PlanetCore

final class AddressTests: XCTestCase {
    struct Vector { let privateKey: String; let publicKey: String; let address: String; let subnet: String }

    func loadVectors() throws -> [Vector] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "yggdrasil-address-vectors", withExtension: "json", subdirectory: "Fixtures"))
        let doc = try JSONValue.parse(String(contentsOf: url, encoding: .utf8))
        let items = try XCTUnwrap(doc["vectors"]?.arrayValue)
        return items.compactMap { v in
            guard let sk = v["private_key"]?.stringValue, let pk = v["public_key"]?.stringValue,
                  let a = v["address"]?.stringValue, let s = v["subnet"]?.stringValue else { return nil }
            return Vector(privateKey: sk, publicKey: pk, address: a, subnet: s)
        }
    }

    func testSharedYggdrasilVectors() throws {
        let vectors = try loadVectors()
        XCTAssertGreaterThanOrEqual(vectors.count, 9)
        for v in vectors {
            let id = try NodeIdentity(hex: v.privateKey)
            XCTAssertEqual(id.publicKey.hex, v.publicKey)
            XCTAssertEqual(id.address.description, v.address, "key \(v.publicKey)")
            XCTAssertEqual(id.subnet.description, v.subnet, "key \(v.publicKey)")
            XCTAssertTrue(OverlayAddress.key(id.publicKey, owns: id.address))
            XCTAssertTrue(OverlayAddress.key(id.publicKey, owns: IPv6Prefix(v.subnet)!))
        }
    }

    func testVectorsFromSharedDirectoryWhenPresent() throws {
        // The copy in Fixtures must not drift from the shared vectors it was taken from.
        let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/vectors/yggdrasil-address-vectors.json").standardized
        guard FileManager.default.fileExists(atPath: shared.path) else { throw XCTSkip("no ../shared beside the checkout") }
        let fixture = try XCTUnwrap(Bundle.module.url(forResource: "yggdrasil-address-vectors", withExtension: "json", subdirectory: "Fixtures"))
        XCTAssertEqual(try JSONValue.parse(String(contentsOf: shared, encoding: .utf8)), try JSONValue.parse(String(contentsOf: fixture, encoding: .utf8)))
    }

    /// Reference derivation written independently of `OverlayAddress`, straight from the
    /// description of the scheme, working on a bit string.
    func referenceAddress(_ key: [UInt8]) -> [UInt8] {
        var bits = key.flatMap { b in (0..<8).map { (~b >> UInt8(7 - $0)) & 1 } }
        var ones = 0
        while let first = bits.first, first == 1 { ones += 1; bits.removeFirst() }
        if !bits.isEmpty { bits.removeFirst() }
        var out: [UInt8] = [0x02, UInt8(truncatingIfNeeded: ones)]
        var i = 0
        while i + 8 <= bits.count && out.count < 16 {
            out.append(bits[i..<i + 8].reduce(0) { $0 << 1 | $1 })
            i += 8
        }
        while out.count < 16 { out.append(0) }
        return out
    }

    func testLongLeadingZeroRuns() throws {
        for zeroBits in [0, 1, 7, 8, 9, 15, 16, 63, 64, 100, 127, 128, 129, 140, 141, 142, 143, 144, 200, 254, 255] {
            var key = [UInt8](repeating: 0, count: 32)
            for i in 0..<32 { key[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) | 0x01 }
            for bit in 0..<zeroBits { key[bit / 8] &= ~(0x80 >> UInt8(bit % 8)) }
            if zeroBits < 256 { key[zeroBits / 8] |= 0x80 >> UInt8(zeroBits % 8) }
            let pk = try XCTUnwrap(PublicKey(key))
            XCTAssertEqual(OverlayAddress.addressBytes(for: pk), referenceAddress(key), "zero bits \(zeroBits)")
            XCTAssertEqual(pk.address.byte(1), UInt8(truncatingIfNeeded: zeroBits))
            XCTAssertTrue(OverlayAddress.key(pk, owns: pk.address))
        }
        // All-zero key: 256 leading ones after inversion wrap the one-byte count to 0, as in Yggdrasil.
        let zero = try XCTUnwrap(PublicKey([UInt8](repeating: 0, count: 32)))
        XCTAssertEqual(zero.address.description, "200::")
    }

    func testRandomKeysMatchReference() throws {
        for _ in 0..<500 {
            let id = NodeIdentity.generate()
            XCTAssertEqual(OverlayAddress.addressBytes(for: id.publicKey), referenceAddress(id.publicKey.bytes))
        }
    }

    func testOwnershipRejectsOtherKeysAndFlippedBits() throws {
        let a = NodeIdentity.generate(), b = NodeIdentity.generate()
        XCTAssertFalse(OverlayAddress.key(b.publicKey, owns: a.address))
        XCTAssertFalse(OverlayAddress.key(b.publicKey, owns: a.subnet))
        // Flip each bit of the address: the key no longer owns it.
        for bit in 0..<128 {
            var bytes = a.address.bytes
            bytes[bit / 8] ^= 0x80 >> UInt8(bit % 8)
            XCTAssertFalse(OverlayAddress.key(a.publicKey, owns: IPv6Address(bytes)!), "bit \(bit)")
        }
        let inside = IPv6Address(high: a.subnet.address.high, low: 0x1234)
        XCTAssertTrue(OverlayAddress.key(a.publicKey, ownsSubnetAddress: inside))
        XCTAssertFalse(OverlayAddress.key(b.publicKey, ownsSubnetAddress: inside))
        XCTAssertEqual(OverlayAddress.lookupTag(for: a.address), OverlayAddress.lookupTag(for: inside))
    }

    func testIPv6TextFormMatchesGo() {
        let cases = ["200::", "::1", "::", "200:0:0:1::1", "1:0:0:2::", "300:c7cd:d12e:2a3c::", "1:2:3:4:5:6:7:8", "1:0:0:4::8", "0:1::"]
        for c in cases { XCTAssertEqual(IPv6Address(c)?.description, c) }
        XCTAssertEqual(IPv6Address("0001:0000:0000:0000:0000:0000:0000:0001")?.description, "1::1")
        XCTAssertNil(IPv6Address("1:2:3"))
    }

    func testIdentityTextForm() throws {
        let id = NodeIdentity.generate()
        XCTAssertEqual(id.privateKeyHex.count, 128)
        let back = try NodeIdentity(hex: id.privateKeyHex)
        XCTAssertEqual(back.publicKey, id.publicKey)
        XCTAssertThrowsError(try NodeIdentity(hex: String(id.privateKeyHex.dropLast(2)))) { e in
            XCTAssertEqual(e as? NodeIdentity.ParseError, .wrongLength(63))
        }
        var tampered = Array(id.privateKeyHex)
        tampered[127] = tampered[127] == "0" ? "1" : "0"
        XCTAssertThrowsError(try NodeIdentity(hex: String(tampered))) { e in
            XCTAssertEqual(e as? NodeIdentity.ParseError, .mismatchedPublicHalf)
        }
        XCTAssertThrowsError(try NodeIdentity(hex: "zz" + id.privateKeyHex.dropFirst(2)))
    }
}
