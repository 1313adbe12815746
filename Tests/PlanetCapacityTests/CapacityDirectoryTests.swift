import XCTest
import PlanetCore
@testable import PlanetCapacity

final class CapacityDirectoryTests: XCTestCase {
    let id = NodeIdentity.generate()
    let now = 1_000_100.0

    func testOlderAndEqualSequenceNumbersAreRejectedAndCounted() {
        let d = CapacityDirectory()
        XCTAssertEqual(d.offer(makeRecord(id, seqno: 5).signed(by: id), unixNow: now), .accepted)
        XCTAssertEqual(d.offer(makeRecord(id, seqno: 4).signed(by: id), unixNow: now), .rejected(.stale))
        // Same seqno, different content: signed by the right key, still not a newer record.
        XCTAssertEqual(d.offer(makeRecord(id, seqno: 5, country: "NL").signed(by: id), unixNow: now), .rejected(.conflict))
        XCTAssertEqual(d.offer(makeRecord(id, seqno: 6, country: "NL").signed(by: id), unixNow: now), .accepted)
        XCTAssertEqual(try CapacityRecord.decode(d[id.publicKey]!.bytes).country, "NL")
        XCTAssertEqual(d.rejections[.stale], 1)
        XCTAssertEqual(d.rejections[.conflict], 1)
        XCTAssertEqual(d.accepted, 2)
    }

    func testFutureExpiredAndOverlongLifetimesAreRejected() {
        let d = CapacityDirectory()
        let skew = UInt64(CapacityDirectory.allowedSkew)
        XCTAssertEqual(d.offer(makeRecord(id, issuedAt: UInt64(now) + skew + 5).signed(by: id), unixNow: now), .rejected(.future))
        XCTAssertEqual(d.offer(makeRecord(id, issuedAt: UInt64(now) - 100, lifetime: 100).signed(by: id), unixNow: now), .rejected(.expired))
        XCTAssertEqual(d.offer(makeRecord(id, issuedAt: UInt64(now), lifetime: 8 * 86400).signed(by: id), unixNow: now), .rejected(.badLifetime))
        // A little skew is tolerated.
        XCTAssertEqual(d.offer(makeRecord(id, issuedAt: UInt64(now) + skew - 5).signed(by: id), unixNow: now), .accepted)
        XCTAssertEqual(d.rejections[.future], 1)
        XCTAssertEqual(d.rejections[.expired], 1)
        XCTAssertEqual(d.rejections[.badLifetime], 1)
    }

    func testOversizeIsRejectedBeforeAnythingElse() {
        let d = CapacityDirectory(verify: { _ in XCTFail("verified an oversize record"); return true })
        let bytes = makeRecord(id).signed(by: id) + [UInt8](repeating: 0, count: CapacityRecord.maxBytes)
        XCTAssertEqual(d.offer(bytes, unixNow: now), .rejected(.oversize))
        XCTAssertEqual(d.rejections[.oversize], 1)
    }

    func testPerKeyRateLimit() {
        let d = CapacityDirectory()
        var seqno: UInt64 = 1
        var accepted = 0
        for _ in 0..<Int(CapacityDirectory.rateBurst) + 3 {
            if d.offer(makeRecord(id, seqno: seqno).signed(by: id), unixNow: now) == .accepted { accepted += 1 }
            seqno += 1
        }
        XCTAssertEqual(accepted, Int(CapacityDirectory.rateBurst))
        XCTAssertEqual(d.rejections[.rateLimited], 3)
        // The allowance comes back at its rate, for this key only.
        XCTAssertEqual(d.offer(makeRecord(id, seqno: seqno).signed(by: id), unixNow: now + 1), .rejected(.rateLimited))
        XCTAssertEqual(d.offer(makeRecord(id, seqno: seqno).signed(by: id), unixNow: now + 1 / CapacityDirectory.ratePerSecond), .accepted)
        let other = NodeIdentity.generate()
        XCTAssertEqual(d.offer(makeRecord(other).signed(by: other), unixNow: now), .accepted)
    }

    func testTheDirectoryIsBoundedButKeepsUpdatingWhatItHolds() {
        let d = CapacityDirectory(maxRecords: 2)
        let ids = (0..<3).map { _ in NodeIdentity.generate() }
        XCTAssertEqual(d.offer(makeRecord(ids[0]).signed(by: ids[0]), unixNow: now), .accepted)
        XCTAssertEqual(d.offer(makeRecord(ids[1]).signed(by: ids[1]), unixNow: now), .accepted)
        XCTAssertEqual(d.offer(makeRecord(ids[2]).signed(by: ids[2]), unixNow: now), .rejected(.directoryFull))
        XCTAssertEqual(d.offer(makeRecord(ids[1], seqno: 2).signed(by: ids[1]), unixNow: now), .accepted)
        XCTAssertEqual(d.count, 2)
    }

    /// Fair shares: a neighbour flooding a full directory far over its share evicts only its
    /// own oldest records, never this node's own nor another neighbour's, and a newcomer
    /// through another neighbour is stored, taking the room from the flooder's oldest. Fails
    /// when a full directory refuses new keys again (the newcomer is refused) or evicts the
    /// newest instead of the oldest.
    func testAFloodingNeighbourFillsOnlyItsOwnShareAndLosesItsOldestFirst() {
        let d = CapacityDirectory(maxRecords: 40)
        d.minShare = 1
        let hostile = NodeIdentity.generate().publicKey, honest = NodeIdentity.generate().publicKey
        d.neighbourUp(hostile)
        d.neighbourUp(honest)
        XCTAssertEqual(d.share, 20)
        XCTAssertEqual(d.offer(makeRecord(id).signed(by: id), unixNow: now, from: .local), .accepted)
        let honestIds = (0..<5).map { _ in NodeIdentity.generate() }
        for x in honestIds { XCTAssertEqual(d.offer(makeRecord(x).signed(by: x), unixNow: now, from: .neighbour(honest)), .accepted) }
        let fakes = (0..<200).map { _ in NodeIdentity.generate() }
        for x in fakes { XCTAssertEqual(d.offer(makeRecord(x).signed(by: x), unixNow: now, from: .neighbour(hostile)), .accepted) }
        XCTAssertEqual(d.count, 40)
        XCTAssertEqual(d.held(from: .neighbour(hostile)), 34)
        XCTAssertEqual(Set(d.entries.map(\.key)).intersection(fakes.map(\.publicKey)), Set(fakes.suffix(34).map(\.publicKey)),
                       "the flood did not lose its oldest records first")
        XCTAssertNotNil(d[id.publicKey])
        for x in honestIds { XCTAssertEqual(d.source(of: x.publicKey), .neighbour(honest)) }
        XCTAssertEqual(d.evicted, 166)
        let newcomer = NodeIdentity.generate()
        XCTAssertEqual(d.offer(makeRecord(newcomer).signed(by: newcomer), unixNow: now, from: .neighbour(honest)), .accepted,
                       "a full directory refused a newcomer through a neighbour under its share")
        XCTAssertNil(d[fakes[166].publicKey], "room was not taken from the flooder's oldest")
        XCTAssertNotNil(d[fakes[167].publicKey])
        XCTAssertEqual(d.held(from: .neighbour(hostile)), 33)
        XCTAssertTrue(d.rejections.isEmpty)
        // The flooder leaves: its records stay, with no share, and go first.
        d.neighbourDown(hostile)
        XCTAssertEqual(d.share, 40)
        let later = NodeIdentity.generate()
        XCTAssertEqual(d.offer(makeRecord(later).signed(by: later), unixNow: now, from: .neighbour(honest)), .accepted)
        XCTAssertNil(d[fakes[167].publicKey])
        XCTAssertEqual(d.held(from: .neighbour(hostile)), 32)
    }

    func testExpiredRecordsAreDropped() {
        let d = CapacityDirectory()
        let other = NodeIdentity.generate()
        d.offer(makeRecord(id, lifetime: 200).signed(by: id), unixNow: now)
        d.offer(makeRecord(other, lifetime: 5000).signed(by: other), unixNow: now)
        let before = (0..<256).map { d.bucketDigest($0) }
        XCTAssertEqual(d.expire(unixNow: now + 150), 1)
        XCTAssertNil(d[id.publicKey])
        XCTAssertNotNil(d[other.publicKey])
        XCTAssertEqual(d.expiredRemoved, 1)
        XCTAssertNotEqual((0..<256).map { d.bucketDigest($0) }, before, "the bucket digest still counts the expired record")
        XCTAssertEqual((0..<256).reduce(0) { $0 + d.bucketCount($1) }, 1)
    }

    func testSavedDirectoryRestoresAndDropsWhatExpiredMeanwhile() {
        let d = CapacityDirectory()
        let ids = (0..<5).map { _ in NodeIdentity.generate() }
        for (i, x) in ids.enumerated() { d.offer(makeRecord(x, lifetime: i == 0 ? 200 : 5000).signed(by: x), unixNow: now) }
        let file = d.saved()
        let back = CapacityDirectory()
        XCTAssertEqual(back.restore(file, unixNow: now + 300), 4)
        XCTAssertNil(back[ids[0].publicKey])
        XCTAssertEqual(back[ids[3].publicKey]?.bytes, d[ids[3].publicKey]?.bytes)
        XCTAssertTrue(back.rejections.isEmpty, "restoring counted what expired meanwhile as a rejection")
        // A tampered file gives nothing unsigned, and a foreign file nothing at all.
        var tampered = file
        tampered[tampered.count - 100] ^= 1
        XCTAssertEqual(CapacityDirectory().restore(tampered, unixNow: now), 4)
        XCTAssertEqual(CapacityDirectory().restore(Array("hello".utf8), unixNow: now), 0)
    }

    func testOneVerificationPerAcceptedRecordNotPerCopy() {
        let d = CapacityDirectory()
        let bytes = makeRecord(id).signed(by: id)
        for _ in 0..<10 { d.offer(bytes, unixNow: now) }
        XCTAssertEqual(d.verifications, 1)
        XCTAssertEqual(d.duplicates, 9)
    }

    /// The allowance is kept to the whole second, rounded down: an announcer at the fastest
    /// correct pace (one record per 5 s) at fractional times is never refused, a burst that
    /// starts at a fractional second is still cut at exactly 8, and the allowance comes back
    /// at most a second early.
    func testTheRateLimitAtFractionalTimesIsAtMostASecondStricter() {
        let d = CapacityDirectory()
        let t0 = now + 0.25
        for k in 0..<50 {
            let t = t0 + Double(k) / CapacityDirectory.ratePerSecond
            XCTAssertEqual(d.offer(makeRecord(id, seqno: UInt64(k + 1)).signed(by: id), unixNow: t), .accepted, "record \(k)")
        }
        let other = NodeIdentity.generate()
        var seqno: UInt64 = 1
        for _ in 0..<Int(CapacityDirectory.rateBurst) {
            XCTAssertEqual(d.offer(makeRecord(other, seqno: seqno).signed(by: other), unixNow: t0), .accepted)
            seqno += 1
        }
        XCTAssertEqual(d.offer(makeRecord(other, seqno: seqno).signed(by: other), unixNow: t0), .rejected(.rateLimited))
        // An exact bucket allows the next record at t0 + 5; whole seconds allow it at t0 + 4.75.
        XCTAssertEqual(d.offer(makeRecord(other, seqno: seqno).signed(by: other), unixNow: t0 + 4.5), .rejected(.rateLimited))
        XCTAssertEqual(d.offer(makeRecord(other, seqno: seqno).signed(by: other), unixNow: t0 + 4.75), .accepted)
        seqno += 1
        // In debt, exactly one per 5 s: not at t0 + 9.5, at t0 + 9.75.
        XCTAssertEqual(d.offer(makeRecord(other, seqno: seqno).signed(by: other), unixNow: t0 + 9.5), .rejected(.rateLimited))
        XCTAssertEqual(d.offer(makeRecord(other, seqno: seqno).signed(by: other), unixNow: t0 + 9.75), .accepted)
    }

    /// The index, the bucket chains and the digests agree with the entries through growth,
    /// replacement and expiry, for many keys.
    func testIndexAndBucketsStayConsistentThroughGrowthAndExpiry() throws {
        let d = CapacityDirectory(verify: { _ in true }, hashSeed: 42)
        let ids = (0..<600).map { _ in NodeIdentity.generate() }
        func unsigned(_ x: NodeIdentity, seqno: UInt64, lifetime: UInt64) -> [UInt8] {
            makeRecord(x, seqno: seqno, lifetime: lifetime).body() + [UInt8](repeating: 0, count: CapacityRecord.signatureBytes)
        }
        for (i, x) in ids.enumerated() {
            XCTAssertEqual(d.offer(unsigned(x, seqno: 1, lifetime: i % 2 == 0 ? 200 : 5000), unixNow: now), .accepted)
        }
        // Every odd one is replaced by a newer record: same slot, new digest.
        for (i, x) in ids.enumerated() where i % 2 == 1 {
            XCTAssertEqual(d.offer(unsigned(x, seqno: 2, lifetime: 5000), unixNow: now), .accepted)
        }
        func checkConsistent(expected: [PublicKey: UInt64]) {
            XCTAssertEqual(d.count, expected.count)
            for (k, seqno) in expected { XCTAssertEqual(d[k]?.seqno, seqno, "lookup of \(k.short)") }
            var total = 0
            for b in 0..<CapacityDirectory.bucketCount {
                let inBucket = d.entries(inBucket: b)
                total += inBucket.count
                XCTAssertEqual(inBucket.count, d.bucketCount(b))
                XCTAssertTrue(inBucket.allSatisfy { CapacityDirectory.bucket(of: $0.key) == b })
                let digest = inBucket.reduce(UInt64(0)) { $0 ^ CapacityDirectory.digest(key: $1.key, seqno: $1.seqno) }
                XCTAssertEqual(d.bucketDigest(b), digest, "bucket \(b)")
            }
            XCTAssertEqual(total, expected.count)
        }
        var expected = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1.publicKey, UInt64(1 + $0 % 2)) })
        checkConsistent(expected: expected)
        XCTAssertNil(d[NodeIdentity.generate().publicKey])
        XCTAssertEqual(d.expire(unixNow: now + 300), 300)
        expected = expected.filter { $0.value == 2 }
        checkConsistent(expected: expected)
        // New keys after the rebuild are indexed too.
        let late = NodeIdentity.generate()
        XCTAssertEqual(d.offer(unsigned(late, seqno: 1, lifetime: 5000), unixNow: now + 300), .accepted)
        expected[late.publicKey] = 1
        checkConsistent(expected: expected)
    }

    /// What an entry costs besides its record: 16 bytes inline, 2 for who brought it (the fair
    /// shares), an 8-byte index slot at most three quarters full, the buckets; planetsim's
    /// 10⁴ × 10⁴ run depends on it.
    func testAnEntryCostsAboutThirtyBytesBesidesItsRecord() {
        XCTAssertEqual(MemoryLayout<CapacityDirectory.Entry>.stride, 16)
        let d = CapacityDirectory(verify: { _ in true })
        d.reserveCapacity(1000)
        let bytes = makeRecord(id).body() + [UInt8](repeating: 0, count: CapacityRecord.signatureBytes)
        for _ in 0..<1000 {
            let x = NodeIdentity.generate()
            var b = bytes
            b.replaceSubrange(1..<33, with: x.publicKey.bytes)
            XCTAssertEqual(d.offer(b, unixNow: now), .accepted)
        }
        let perEntry = d.estimatedMemoryBytes(sharedRecordBytes: true) / 1000
        XCTAssertLessThanOrEqual(perEntry, 16 + 2 + 8 * 2048 / 1000 + 5)
        XCTAssertEqual(d.estimatedMemoryBytes(sharedRecordBytes: false), d.estimatedMemoryBytes(sharedRecordBytes: true) + 1000 * (bytes.count + 32))
    }
}
