import XCTest
import PlanetCore
import PlanetRouting
import PlanetCapacity

/// Routing reconciles with the digest capacity gossip uses: the same buckets and the same mix,
/// so a capacity directory's bucket digests are `BucketDigests` over (key, seqno). If either
/// side's function changed alone, this fails (one mechanism, not two).
final class SharedDigestTests: XCTestCase {
    func testCapacityDigestsAreReconciliationDigests() {
        let directory = CapacityDirectory()
        var expected = BucketDigests()
        for i in 0..<40 {
            let id = NodeIdentity.generate()
            let seqno = UInt64(1_000 + i)
            let record = CapacityRecord(key: id.publicKey, seqno: seqno, issuedAt: 1_000_000, expiresAt: 1_005_400)
            XCTAssertEqual(directory.offer(record.signed(by: id), unixNow: 1_000_100), .accepted)
            expected.add(id.publicKey, version: seqno)
            XCTAssertEqual(CapacityDirectory.bucket(of: id.publicKey), ReconciliationDigest.bucket(of: id.publicKey))
            XCTAssertEqual(CapacityDirectory.prefix(of: id.publicKey), ReconciliationDigest.prefix(of: id.publicKey))
        }
        for b in 0..<ReconciliationDigest.bucketCount {
            XCTAssertTrue(expected.matches(b, count: UInt32(directory.bucketCount(b)), digest: directory.bucketDigest(b)), "bucket \(b)")
        }
    }
}
