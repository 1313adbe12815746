import XCTest
import PlanetCore
@testable import PlanetCapacity

final class CapacityAnnouncerTests: XCTestCase {
    let id = NodeIdentity.generate()
    let machine = CapacityMeasurement(cpus: 8, memoryBytes: 32 * ByteSize.gib, ssdBytes: 1 * ByteSize.tib, hddBytes: 0,
                                      publicIPv4: true, publicIPv6: true, uptimeSeconds: 100)

    func config(_ edit: (inout CapacityConfig) -> Void = { _ in }) -> CapacityConfig {
        var c = CapacityConfig()
        c.enabled = true
        c.country = "BE"
        c.announceInterval = 60
        edit(&c)
        return c
    }

    func testNothingIsAnnouncedUnlessEnabledAndMeasured() {
        let a = CapacityAnnouncer(identity: id, config: config { $0.enabled = false })
        a.measured(machine, unixNow: 1000)
        XCTAssertNil(a.poll(unixNow: 1000, heldSeqno: nil))
        let b = CapacityAnnouncer(identity: id, config: config())
        XCTAssertNil(b.poll(unixNow: 1000, heldSeqno: nil), "announced before measuring")
    }

    func testDefaultsOfferAllAndReserveTenPercentOrTwoGiBAndOneCPU() throws {
        let a = CapacityAnnouncer(identity: id, config: config())
        a.measured(machine, unixNow: 1000)
        let r = try CapacityRecord.decode(XCTUnwrap(a.poll(unixNow: 1000, heldSeqno: nil)))
        XCTAssertEqual(r.total, machine.resources)
        XCTAssertEqual(r.used, CapacityResources(cru: 1, mru: 32 * ByteSize.gib / 10, sru: 0, hru: 0))
        XCTAssertEqual(r.free.mru, 32 * ByteSize.gib - 32 * ByteSize.gib / 10)
        XCTAssertEqual(r.expiresAt - r.issuedAt, 180)
        XCTAssertEqual(r.country, "BE")
        XCTAssertTrue(r.publicIPv4)
        // A small machine keeps 2 GiB.
        XCTAssertEqual(CapacityAnnouncer.reserve(CapacityConfig(), measured: CapacityMeasurement(memoryBytes: 4 * ByteSize.gib)).mru, 2 * ByteSize.gib)
    }

    func testOfferAndVMsShapeTheRecordAndAnOverOfferNamesTheField() throws {
        let c = config { $0.offer.mru = 16 * ByteSize.gib; $0.reserved.mru = 1 * ByteSize.gib; $0.reserved.cru = 0 }
        XCTAssertNil(CapacityAnnouncer.checkOffer(c, measured: machine))
        let a = CapacityAnnouncer(identity: id, config: c)
        a.measured(machine, unixNow: 1000)
        a.declaredByVMs = CapacityResources(cru: 2, mru: 4 * ByteSize.gib, sru: 0, hru: 0)
        let r = try CapacityRecord.decode(XCTUnwrap(a.poll(unixNow: 1000, heldSeqno: nil)))
        XCTAssertEqual(r.total.mru, 16 * ByteSize.gib)
        XCTAssertEqual(r.used.mru, 5 * ByteSize.gib)
        XCTAssertEqual(r.free.mru, 11 * ByteSize.gib)
        XCTAssertEqual(r.used.cru, 2)
        let over = config { $0.offer.sru = 2 * ByteSize.tib }
        XCTAssertEqual(CapacityAnnouncer.checkOffer(over, measured: machine)?.field, "capacity.offer.sru")
        // Sizes as the config writes them, not the kernel's KiB: 32803004 kB of MemTotal is 31.2G.
        let kernel = CapacityMeasurement(cpus: 4, memoryBytes: 32_803_004 * 1024)
        let tooMuch = config { $0.offer.mru = 64 * ByteSize.gib; $0.offer.cru = 4 }
        XCTAssertEqual(CapacityAnnouncer.checkOffer(tooMuch, measured: kernel)?.description,
                       "config: capacity.offer.mru: offers 64G but this machine has 31.2G")
        XCTAssertEqual(ByteSize.approximate(3 * ByteSize.gib / 2), "1.5G")
        XCTAssertEqual(ByteSize.approximate(ByteSize.gib + 1), "1G")
        XCTAssertEqual(ByteSize.approximate(ByteSize.gib + 1, roundingUp: true), "1.1G")
        XCTAssertEqual(ByteSize.approximate(64 * (ByteSize.tib << 10)), "64P")
        XCTAssertEqual(ByteSize.approximate(512 * ByteSize.mib), "512M")
        XCTAssertEqual(ByteSize.approximate(1000), "1000")
    }

    func testReannouncesOnChangeDebouncedAndOnInterval() throws {
        let a = CapacityAnnouncer(identity: id, config: config())
        a.measured(machine, unixNow: 1000)
        let first = try XCTUnwrap(a.poll(unixNow: 1000, heldSeqno: nil))
        XCTAssertNil(a.poll(unixNow: 1001, heldSeqno: nil))
        XCTAssertEqual(a.nextDue(), 1060)
        // A change waits out the debounce, then goes.
        a.declaredByVMs.mru = ByteSize.gib
        XCTAssertEqual(a.nextDue(), 1000 + CapacityAnnouncer.debounce)
        XCTAssertNil(a.poll(unixNow: 1002, heldSeqno: nil))
        let changed = try XCTUnwrap(a.poll(unixNow: 1005, heldSeqno: nil))
        XCTAssertGreaterThan(CapacityRecord.header(changed)!.seqno, CapacityRecord.header(first)!.seqno)
        // Unchanged: the interval.
        XCTAssertNil(a.poll(unixNow: 1064, heldSeqno: nil))
        let refreshed = try CapacityRecord.decode(XCTUnwrap(a.poll(unixNow: 1065, heldSeqno: nil)))
        XCTAssertEqual(refreshed.uptimeSeconds, 165)
    }

    func testANewRecordBeatsWhateverTheOverlayStillHolds() throws {
        let a = CapacityAnnouncer(identity: id, config: config())
        a.measured(machine, unixNow: 1000)
        let held: UInt64 = 10_000_000_000
        let r = try XCTUnwrap(a.poll(unixNow: 1000, heldSeqno: held))
        XCTAssertEqual(CapacityRecord.header(r)?.seqno, held + 1)
        let d = CapacityDirectory()
        XCTAssertEqual(d.offer(r, unixNow: 1000), .accepted)
    }
}
