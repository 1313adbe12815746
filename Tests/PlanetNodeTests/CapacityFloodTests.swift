import XCTest
import PlanetCore
import PlanetCapacity
@testable import PlanetNode
import PlanetTesting

/// A neighbour sending many genuinely signed capacity records for fresh keys: the messages
/// wait in `CapacityNeighbour`'s backlog and are handled on ticks, a bounded number of
/// signature checks each, neighbours in turn (Docs/security.md, "Hostile neighbours").
final class CapacityFloodTests: XCTestCase {
    let t0 = Instant(seconds: 1000)
    let unix = 1_800_000_000.0
    let hostile = RouterHarnessKeys.key(1)
    let honest = RouterHarnessKeys.key(2)

    func neighbour(maxRecords: Int = 100_000) -> CapacityNeighbour {
        var config = CapacityConfig()
        config.maxRecords = maxRecords
        let c = CapacityNeighbour(identity: RouterHarnessKeys.key(0), config: config)
        c.setWallClock(unixSeconds: unix, at: t0)
        c.neighbourUp(hostile.publicKey, now: t0)
        c.neighbourUp(honest.publicKey, now: t0)
        return c
    }

    func record(_ identity: NodeIdentity, seqno: UInt64 = 1) -> [UInt8] {
        CapacityRecord(key: identity.publicKey, seqno: seqno, issuedAt: UInt64(unix), expiresAt: UInt64(unix) + 3600).signed(by: identity)
    }

    /// `messages` messages of 5 records each, for fresh keys.
    func flood(_ messages: Int, seed: UInt8) -> [[UInt8]] {
        (0..<messages).map { m in
            CapacityMessage.records((0..<5).map { i in
                record(RouterHarnessKeys.key(seed: [seed, UInt8(m & 0xff), UInt8(m >> 8), UInt8(i)]))
            }).encoded()
        }
    }

    func testRecordsWaitAndEachTickChecksABoundedNumber() {
        let c = neighbour()
        for m in flood(40, seed: 1) { c.receive(m, from: hostile.publicKey, now: t0) }
        XCTAssertEqual(c.directory.verifications, 0, "records were checked as their messages arrived")
        XCTAssertEqual(c.waitingMessages(from: hostile.publicKey), 40)
        XCTAssertLessThanOrEqual(c.nextDeadline, t0, "a waiting backlog must make the node due at once")
        c.tick(now: t0)
        // Whole messages are handled until 32 checks were made: 7 messages of 5.
        XCTAssertEqual(c.directory.verifications, 35)
        XCTAssertEqual(c.waitingMessages(from: hostile.publicKey), 33)
        var ticks = 1
        while c.waitingMessages() > 0 && ticks < 100 { c.tick(now: t0); ticks += 1 }
        XCTAssertEqual(ticks, 6, "40 messages at 7 a tick")
        XCTAssertEqual(c.directory.count, 200)
        XCTAssertGreaterThan(c.nextDeadline, t0, "an empty backlog must not keep the node due")
    }

    /// The hostile neighbour's backlog is bounded (counted), and the honest neighbour's
    /// record is handled in the first tick while the hostile backlog is full.
    func testAnHonestRecordIsHandledAheadOfAFullHostileBacklog() {
        let c = neighbour()
        c.maxWaitingPerNeighbour = 50
        for m in flood(60, seed: 2) { c.receive(m, from: hostile.publicKey, now: t0) }
        XCTAssertEqual(c.waitingMessages(from: hostile.publicKey), 50)
        XCTAssertEqual(c.droppedBacklogFull, 10)
        XCTAssertTrue(c.drops.contains { $0.0 == "capacity-backlog-full" && $0.1 == 10 })
        c.receive(CapacityMessage.records([record(honest)]).encoded(), from: honest.publicKey, now: t0)
        c.tick(now: t0)
        XCTAssertNotNil(c.directory[honest.publicKey], "the honest record waited behind the flood")
        XCTAssertGreaterThan(c.waitingMessages(from: hostile.publicKey), 40)
    }

    /// All backlogs together are bounded too.
    func testAllBacklogsTogetherAreBounded() {
        let c = neighbour()
        c.maxWaiting = 30
        for m in flood(20, seed: 3) { c.receive(m, from: hostile.publicKey, now: t0) }
        for m in flood(20, seed: 4) { c.receive(m, from: honest.publicKey, now: t0) }
        XCTAssertEqual(c.waitingMessages(), 30)
        XCTAssertEqual(c.droppedBacklogFull, 10)
    }

    /// Fair shares through the gossip: a flood of fresh keys from one neighbour fills its
    /// share of a full directory and then evicts only its own oldest records; the other
    /// neighbour's record stays, its next record is taken, and a newcomer it relays is stored
    /// and flooded on. Fails when a full directory refuses new keys (the newcomer is refused)
    /// or when the flood may evict the honest neighbour's record. Records that only churn the
    /// flooder's own share are held, not flooded on.
    func testAFloodThroughOneNeighbourLeavesAnotherNeighboursNewcomerStored() {
        let c = neighbour(maxRecords: 20)
        XCTAssertEqual(c.directory.share, 10)
        c.receive(CapacityMessage.records([record(honest)]).encoded(), from: honest.publicKey, now: t0)
        let messages = flood(10, seed: 5)
        for m in messages { c.receive(m, from: hostile.publicKey, now: t0) }
        while c.waitingMessages() > 0 { c.tick(now: t0) }
        XCTAssertEqual(c.directory.count, 20)
        XCTAssertNotNil(c.directory[honest.publicKey])
        XCTAssertEqual(c.directory.held(from: .neighbour(hostile.publicKey)), 19)
        XCTAssertEqual(c.directory.evicted, 31)
        XCTAssertTrue(c.drops.contains { $0.0 == "capacity-evicted" && $0.1 == 31 })
        let fakeKeys = messages.flatMap { m -> [PublicKey] in
            guard case .records(let rs)? = CapacityMessage.decode(m) else { return [] }
            return rs.compactMap { CapacityRecord.header($0)?.0 }
        }
        XCTAssertNil(c.directory[fakeKeys[0]], "the flood's oldest record was kept")
        XCTAssertNotNil(c.directory[fakeKeys[49]], "the flood's newest record was evicted")
        // The held key's next record is still taken, and a newcomer through the honest
        // neighbour is stored, at once.
        let newcomer = RouterHarnessKeys.key(3)
        c.receive(CapacityMessage.records([record(honest, seqno: 2), record(newcomer)]).encoded(), from: honest.publicKey, now: t0)
        c.tick(now: t0)
        XCTAssertEqual(c.directory[honest.publicKey]?.seqno, 2)
        XCTAssertNotNil(c.directory[newcomer.publicKey], "a newcomer through an honest neighbour was refused")
        XCTAssertNil(c.directory[fakeKeys[31]])
        XCTAssertNil(c.directory.rejections[.directoryFull])
        // … and flooded on to the other neighbour, as its record (the outboxes followed the
        // slots the evictions moved).
        var sent: [PublicKey: [[UInt8]]] = [:]
        c.tick(now: t0.adding(seconds: 1))
        c.drainOutgoing { key, body in
            if case .records(let rs)? = CapacityMessage.decode(body) { sent[key, default: []] += rs }
        }
        XCTAssertTrue(sent[hostile.publicKey, default: []].contains { CapacityRecord.header($0)?.0 == newcomer.publicKey })
        // What only churned the flooder's own share of the full directory was held but not
        // flooded on: the flood stops here.
        XCTAssertTrue(c.drops.contains { $0.0 == "capacity-over-share-not-flooded" && $0.1 == 32 })
        XCTAssertFalse(sent[honest.publicKey, default: []].contains { CapacityRecord.header($0)?.0 == fakeKeys[49] },
                       "a record that only churned the flooder's share was flooded on")
    }
}

extension CapacityFloodTests {
    /// Without Unix time the protocol does nothing on its ticks, so nothing may be due: a
    /// neighbour's summary, due a minute after it came up, stayed due and would spin the
    /// runtime's loop (a finding of the session-control fuzzer).
    func testWithoutAWallClockNothingIsDue() {
        var config = CapacityConfig()
        config.maxRecords = 10
        let c = CapacityNeighbour(identity: RouterHarnessKeys.key(0), config: config)
        c.neighbourUp(hostile.publicKey, now: t0)
        let later = t0.adding(seconds: 120)
        c.tick(now: later)
        XCTAssertGreaterThan(c.nextDeadline, later, "a deadline stays due that no tick can serve")
        c.setWallClock(unixSeconds: unix, at: later)
        XCTAssertLessThanOrEqual(c.nextDeadline, later, "with the clock, the summary is due")
        c.tick(now: later)
        XCTAssertGreaterThan(c.nextDeadline, later)
    }
}

/// Deterministic identities for these tests.
enum RouterHarnessKeys {
    static func key(_ i: Int) -> NodeIdentity { key(seed: [UInt8(i), 0xc4]) }
    static func key(seed: [UInt8]) -> NodeIdentity {
        let pair = Sodium.signKeypair(seed: seed + [UInt8](repeating: 0x33, count: 32 - seed.count))
        return NodeIdentity(secretKey: pair.secret, publicKey: PublicKey(pair.publicKey)!)
    }
}
