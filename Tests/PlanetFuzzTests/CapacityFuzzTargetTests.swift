import XCTest
import PlanetCapacity
@testable import PlanetFuzz

/// The capacity target is worth running only if its seeds get past the decoders into the
/// directories: the genuine signed seed must be accepted by the verifying directory (so the
/// target's clock and the seed's times agree), and a record whose signature is broken must be
/// refused there and still stored by the trusting one, which is what lets the fuzzer reach the
/// code behind the signature check.
final class CapacityFuzzTargetTests: XCTestCase {
    func testSeedsReachTheDirectoriesAndOnlyTheTrustingOneTakesABrokenSignature() throws {
        CapacityUnderFuzz.reset()
        let seeds = FuzzSeeds.all().filter { $0.target == "capacity" }
        let records = try XCTUnwrap(seeds.first { $0.name == "records" }?.bytes)
        let target = try XCTUnwrap(FuzzTargets.named("capacity"))
        records.withUnsafeBytes { target.run($0) }
        let c = CapacityUnderFuzz.get()
        XCTAssertEqual(c.verifying.directory.count, 1, "the genuine seed is accepted where signatures are checked")
        XCTAssertEqual(c.trusting.directory.count, 1)

        // The same record, re-announced with a higher seqno but the old signature.
        guard case .records(let list)? = CapacityMessage.decode(records), var bytes = list.first else { return XCTFail("seed") }
        var record = try CapacityRecord.decode(bytes)
        record.seqno += 1
        bytes = record.body() + bytes.suffix(CapacityRecord.signatureBytes)
        CapacityMessage.records([bytes]).encoded().withUnsafeBytes { target.run($0) }
        XCTAssertEqual(c.verifying.directory[record.key]?.seqno, 7, "a broken signature is refused")
        XCTAssertEqual(c.trusting.directory[record.key]?.seqno, 8, "the trusting directory takes it, so fuzzing reaches past the check")
        CapacityUnderFuzz.reset()
    }
}
