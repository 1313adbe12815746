import XCTest
import CPlanetCrypto
import PlanetCore
@testable import PlanetLink

/// AEGIS-256 (Sources/CPlanetCrypto) against published vectors: Wycheproof's aegis256_test.json
/// (C2SP/wycheproof; tcId in each row), which agree with the CFRG draft's. Then the properties
/// the link layer relies on: in-place use, forgeries rejected, and a failed open leaving the
/// buffer as it was.
final class AEGIS256Tests: XCTestCase {
    struct Vector { let id: Int; let key, nonce, ad, msg, ct, tag: String }

    let vectors: [Vector] = [
        Vector(id: 5, key: String(repeating: "00", count: 32), nonce: String(repeating: "00", count: 32), ad: "",
               msg: "00000000000000000000000000000000", ct: "b98f03a947807713d75a4fff9fc277a6", tag: "478f3b50dc478ef7d5cf2d0f7cc13180"),
        Vector(id: 6, key: String(repeating: "00", count: 32), nonce: String(repeating: "00", count: 32), ad: "00000000000000000000000000000000",
               msg: "00000000000000000000000000000000", ct: "b286705e6ccf368974ade9ff5550a4c5", tag: "fdeb4a822f3ddd1fd4159e1db11a4c6b"),
        Vector(id: 7, key: "0001" + String(repeating: "00", count: 30), nonce: "000002" + String(repeating: "00", count: 29), ad: "00010203",
               msg: "00000000000000000000000000000000", ct: "1f452a22fc07f2471ab4345d7ab121b1", tag: "065a9af5cc2fd9fee11280a51e37fdcc"),
        Vector(id: 8, key: "1001" + String(repeating: "00", count: 30), nonce: "100002" + String(repeating: "00", count: 29),
               ad: "0001020304050607", msg: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
               ct: "f373079ed84b2709faee373584585d60accd191db310ef5d8b11833df9dec711", tag: "8d86f91ee606e9ff26a01b64ccbdd91d"),
        Vector(id: 9, key: "cc6657fd5f0014430cd8a2afa1b1270094c29427d5fbc0b0a2cfc0e87c83ba89",
               nonce: "c0b1fdebffb7f2e277ffb88c0fa369b65f29c78d55e2cc258705a7e2440cb0b5", ad: "", msg: "", ct: "",
               tag: "5f9302932f6af3a489a6fcca836a9d4d"),
        Vector(id: 10, key: "b1336707a426d43755b503b69e0056bd99d169b991c2def3257921af839e2ddf",
               nonce: "967304567c8309a58e259eb2141e076710f39dc65c2c0106ec20a60fd329a8f5", ad: "", msg: "45", ct: "fd",
               tag: "684e6dc775e429c59ca141a094087e63"),
        Vector(id: 24, key: "dfdbe0ad5be9823963239f9f4dd9f364002a62a7e7648f47b1a33cd296586d74",
               nonce: "9881cffdbed3316b2460e80f794bc8b68e5d98c207ac8750813d9a537c21a335", ad: "",
               msg: "2fb7993e304a4875316978a70151c8", ct: "ea33bd94569bb8d9b8c97ce5524ae6", tag: "6a067c556b79f7c64ca6d4b1593fc665"),
        Vector(id: 26, key: "4248496c86ea6e4e0c12b933e4572de9be5b440503b62030153365abed42bc69",
               nonce: "d1c0c2d7457ab6d940eb910b39d101ae5e0a7a83acf7c90dead42357ac24a5f9", ad: "",
               msg: "da270cc998cc602eeafe17d513bc71abc4", ct: "61ab71fa8c28d748192b698ebb37997dd2", tag: "0829d170b7106834ace8516d870cd295"),
        Vector(id: 31, key: "c8134cda02f603b53daaab2ca9a575ce4d9b6411a10d21a533ed2cf6187c7649",
               nonce: "21e37934e57c6a4501ade356225e72d4715205383ce3d4d92ee1d98f763f1dbd", ad: "",
               msg: "6f48478470a9b519c5ddbfa31c75b3ef0f912b9f2211", ct: "63be5057ef1f92f2488489c8f362e1614ff6c62d5967",
               tag: "e146f0449b62581528dff914ffff8bb0"),
    ]

    override func setUpWithError() throws {
        try XCTSkipUnless(planet_aegis256_available() == 1, "no AES instructions on this CPU")
    }

    func bytes(_ hex: String) -> [UInt8] { Hex.decode(hex)! }

    func testPublishedVectorsEncryptAndDecrypt() {
        for v in vectors {
            let key = bytes(v.key), nonce = bytes(v.nonce), ad = bytes(v.ad), msg = bytes(v.msg)
            var ct = [UInt8](repeating: 0, count: msg.count), tag = [UInt8](repeating: 0, count: 16)
            planet_aegis256_encrypt(&ct, &tag, msg, msg.count, ad, ad.count, nonce, key)
            XCTAssertEqual(Hex.encode(ct), v.ct, "tcId \(v.id) ciphertext")
            XCTAssertEqual(Hex.encode(tag), v.tag, "tcId \(v.id) tag")
            var inPlace = ct
            XCTAssertEqual(planet_aegis256_decrypt(&inPlace, inPlace, ct.count, tag, ad, ad.count, nonce, key), 0, "tcId \(v.id)")
            XCTAssertEqual(inPlace, msg, "tcId \(v.id) plaintext")
        }
    }

    /// Wycheproof's "OldVersion" rows (tcId 1-4): tags from 6 finalization rounds instead of 7.
    func testTagsOfTheOldSixRoundFinalizationAreRefused() {
        let key = bytes("1001" + String(repeating: "00", count: 30)), nonce = bytes("100002" + String(repeating: "00", count: 29))
        let ad = bytes("0001020304050607")
        var ct = bytes("f373079ed84b2709faee373584585d60accd191db310ef5d8b11833df9dec711")
        let original = ct
        XCTAssertEqual(planet_aegis256_decrypt(&ct, ct, ct.count, bytes("787347bc96d3d0fdb33ddc8ee5ef4924"), ad, ad.count, nonce, key), -1)
        XCTAssertEqual(ct, original, "a refused message must be left as it came")
    }

    func testEveryFlippedBitIsRefusedAndLeavesTheBufferAlone() {
        let key = (0..<32).map { UInt8($0) }, nonce = (0..<32).map { UInt8(100 + $0) }, ad = Array("header bytes!".utf8)
        for length in [0, 1, 15, 16, 17, 100, 1300] {
            let msg = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
            var ct = [UInt8](repeating: 0, count: length), tag = [UInt8](repeating: 0, count: 16)
            planet_aegis256_encrypt(&ct, &tag, msg, length, ad, ad.count, nonce, key)
            if length > 0 {
                var bad = ct
                bad[length / 2] ^= 0x01
                let sent = bad
                XCTAssertEqual(planet_aegis256_decrypt(&bad, bad, length, tag, ad, ad.count, nonce, key), -1, "ciphertext bit, \(length) B")
                XCTAssertEqual(bad, sent, "\(length) B")
            }
            var badTag = tag
            badTag[15] ^= 0x80
            var copy = ct
            XCTAssertEqual(planet_aegis256_decrypt(&copy, copy, length, badTag, ad, ad.count, nonce, key), -1, "tag bit, \(length) B")
            XCTAssertEqual(copy, ct)
            var badAD = ad
            badAD[0] ^= 1
            XCTAssertEqual(planet_aegis256_decrypt(&copy, copy, length, tag, badAD, badAD.count, nonce, key), -1, "AD bit, \(length) B")
            var otherNonce = nonce
            otherNonce[31] ^= 1
            XCTAssertEqual(planet_aegis256_decrypt(&copy, copy, length, tag, ad, ad.count, otherNonce, key), -1, "nonce bit, \(length) B")
            XCTAssertEqual(planet_aegis256_decrypt(&copy, copy, length, tag, ad, ad.count, nonce, key), 0, "\(length) B")
            XCTAssertEqual(copy, msg)
            // The tag-less prefix decryption used for quoted error reports.
            var prefix = [UInt8](repeating: 0, count: min(length, 120))
            planet_aegis256_decrypt_unverified(&prefix, ct, prefix.count, ad, ad.count, nonce, key)
            XCTAssertEqual(prefix, Array(msg.prefix(120)))
        }
    }
}
