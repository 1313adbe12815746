import XCTest
import PlanetCore
@testable import PlanetCapacity

final class CapacityRecordTests: XCTestCase {
    let id = NodeIdentity.generate()

    func testSignedRecordDecodesToItselfAndVerifies() throws {
        let r = makeRecord(id)
        let bytes = r.signed(by: id)
        XCTAssertLessThanOrEqual(bytes.count, CapacityRecord.maxBytes)
        XCTAssertTrue(CapacityRecord.verify(bytes))
        let back = try CapacityRecord.decode(bytes)
        XCTAssertEqual(back, r)
        XCTAssertEqual(back.free.mru, 16 * ByteSize.gib)
        XCTAssertEqual(back.gpus.first?.vendorName, "nvidia")
        XCTAssertEqual(CapacityRecord.header(bytes)?.key, id.publicKey)
        XCTAssertEqual(CapacityRecord.header(bytes)?.seqno, 1)
    }

    func testTheLargestRecordTheLimitsAllowFitsOneKiB() throws {
        let long = String(repeating: "é", count: 100)  // 200 bytes: every string is cut to its limit
        var r = makeRecord(id)
        r.city = long; r.farmName = long; r.version = long
        r.gpus = (0..<20).map { CapacityGPU(vendor: UInt16($0), device: 1, name: long) }
        r.tags = (0..<20).map { _ in long }
        let bytes = r.signed(by: id)
        XCTAssertLessThanOrEqual(bytes.count, CapacityRecord.maxBytes)
        let back = try CapacityRecord.decode(bytes)
        XCTAssertEqual(back.city.utf8.count, 64, "cut on a character boundary: 32 × 2 bytes")
        XCTAssertEqual(back.gpus.count, CapacityRecord.maxGPUs)
        XCTAssertEqual(back.tags.count, CapacityConfig.maxTags)
        XCTAssertTrue(CapacityRecord.verify(bytes))
    }

    func testAnyByteChangedIsNeverBelieved() {
        let bytes = makeRecord(id).signed(by: id)
        var outcomes: [String: Int] = [:]
        for i in 0..<bytes.count {
            var t = bytes
            t[i] ^= 0x01
            let d = CapacityDirectory()
            let o = d.offer(t, unixNow: 1_000_100)
            XCTAssertNotEqual(o, .accepted, "a record with byte \(i) changed was accepted")
            XCTAssertEqual(d.count, 0)
            outcomes["\(o)", default: 0] += 1
        }
        // Most are caught by the signature; a few by the decoder first (flags, country, lengths).
        XCTAssertGreaterThan(outcomes["rejected(PlanetCapacity.CapacityRejection.badSignature)"] ?? 0, bytes.count / 2, "\(outcomes)")
    }

    func testATamperedCopyOfAHeldRecordIsAConflictAndCostsNoSignatureCheck() {
        let bytes = makeRecord(id).signed(by: id)
        let d = CapacityDirectory()
        XCTAssertEqual(d.offer(bytes, unixNow: 1_000_100), .accepted)
        let checks = d.verifications
        var t = bytes
        t[bytes.count / 2] ^= 0x80
        XCTAssertEqual(d.offer(t, unixNow: 1_000_100), .rejected(.conflict))
        XCTAssertEqual(d.offer(bytes, unixNow: 1_000_100), .duplicate)
        XCTAssertEqual(d.verifications, checks, "a duplicate or a conflicting copy was verified")
        XCTAssertEqual(d[id.publicKey]?.bytes, bytes, "the held record was replaced")
        XCTAssertEqual(d.rejections[.conflict], 1)
        XCTAssertEqual(d.duplicates, 1)
    }

    func testARecordSignedByAnotherKeyIsRejected() {
        let other = NodeIdentity.generate()
        let body = makeRecord(id).body()
        let forged = body + other.sign(CapacityRecord.signedMessage(body: body[...]))
        let d = CapacityDirectory()
        XCTAssertEqual(d.offer(forged, unixNow: 1_000_100), .rejected(.badSignature))
        XCTAssertEqual(d.rejections[.badSignature], 1)
    }

    func testNonCanonicalEncodingsAreMalformed() {
        var r = makeRecord(id)
        r.latitude = nil; r.longitude = nil
        var body = r.body()
        // Coordinates without their flag: the canonical encoding has zeros there.
        body[130] = 1
        let bytes = body + id.sign(CapacityRecord.signedMessage(body: body[...]))
        XCTAssertEqual(CapacityDirectory().offer(bytes, unixNow: 1_000_100), .rejected(.malformed))
        // Trailing bytes inside the signed part.
        let body2 = makeRecord(id).body() + [0]
        let bytes2 = body2 + id.sign(CapacityRecord.signedMessage(body: body2[...]))
        XCTAssertEqual(CapacityDirectory().offer(bytes2, unixNow: 1_000_100), .rejected(.malformed))
        // A lower-case country code.
        var body3 = makeRecord(id).body()
        body3[138] = UInt8(ascii: "b")
        let bytes3 = body3 + id.sign(CapacityRecord.signedMessage(body: body3[...]))
        XCTAssertEqual(CapacityDirectory().offer(bytes3, unixNow: 1_000_100), .rejected(.malformed))
        XCTAssertEqual(CapacityDirectory().offer([1, 2, 3], unixNow: 0), .rejected(.malformed))
    }
}
