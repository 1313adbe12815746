import XCTest
import PlanetCore
@testable import PlanetCapacity

final class CapacityGossipTests: XCTestCase {
    let now = 1_000_100.0

    /// Two directories that differ in every way reconciliation must handle — records only one
    /// side has, the same key at different seqnos on either side, buckets empty on one side,
    /// and a bucket too big for one list message — end up holding the same set.
    func testReconciliationConvergesTwoDirectoriesThatDiffer() {
        var random = SplitMix64(seed: 7)
        let ids = (0..<400).map { _ in NodeIdentity.generate() }
        // Keys sharing a first byte fill one bucket beyond one list message (74 entries).
        let crowded = (0..<2000).lazy.map { _ in NodeIdentity.generate() }.filter { $0.publicKey.w0 >> 56 == 0x42 }.prefix(90)
        let a = CapacityGossip(directory: CapacityDirectory())
        let b = CapacityGossip(directory: CapacityDirectory())
        for x in ids + Array(crowded) {
            let seqA = random.next() % 4, seqB = random.next() % 4  // 0: not held on that side
            if seqA > 0 { XCTAssertEqual(a.directory.offer(makeRecord(x, seqno: seqA).signed(by: x), unixNow: now), .accepted) }
            if seqB > 0 { XCTAssertEqual(b.directory.offer(makeRecord(x, seqno: seqB).signed(by: x), unixNow: now), .accepted) }
        }
        XCTAssertNotEqual(heldSet(a.directory), heldSet(b.directory))
        var mesh = GossipMesh(unixNow: now)
        let ka = NodeIdentity.generate().publicKey, kb = NodeIdentity.generate().publicKey
        mesh.add(ka, a); mesh.add(kb, b)
        mesh.link(ka, kb)
        XCTAssertLessThan(mesh.run(), 10)
        XCTAssertEqual(heldSet(a.directory), heldSet(b.directory))
        // Each side holds the newest of each key.
        for x in ids { XCTAssertEqual(a.directory[x.publicKey]?.seqno, b.directory[x.publicKey]?.seqno) }
        XCTAssertTrue(a.directory.rejections.isEmpty && b.directory.rejections.isEmpty,
                      "reconciliation sent records the other side had: \(a.directory.rejections) \(b.directory.rejections)")
        // A second summary finds nothing to send but summaries.
        let before = mesh.bytesMoved
        a.tick(now: mesh.now.adding(seconds: CapacityGossip.resummaryInterval), unixNow: now)
        mesh.now = mesh.now.adding(seconds: CapacityGossip.resummaryInterval)
        mesh.run()
        XCTAssertEqual(mesh.bytesMoved - before, 3 * (3 + CapacityMessage.bucketsPerSummary * 12) - (3 * 96 - 256) * 12)
    }

    func testALateJoinerGetsEverythingAndIdenticalDirectoriesSendOnlySummaries() {
        var mesh = GossipMesh(unixNow: now)
        let keys = (0..<4).map { _ in NodeIdentity.generate() }
        for k in keys { mesh.add(k.publicKey, CapacityGossip(directory: CapacityDirectory())) }
        mesh.link(keys[0].publicKey, keys[1].publicKey)
        mesh.link(keys[1].publicKey, keys[2].publicKey)
        for k in keys.prefix(3) { mesh.nodes[k.publicKey]!.publish(makeRecord(k).signed(by: k), now: mesh.now, unixNow: now) }
        mesh.run()
        for k in keys.prefix(3) { XCTAssertEqual(mesh.nodes[k.publicKey]!.directory.count, 3) }
        // Flooding verified each record once per node and stopped: duplicates are cheap.
        for k in keys.prefix(3) { XCTAssertEqual(mesh.nodes[k.publicKey]!.directory.verifications, 3) }
        // The fourth joins (with its own record) at the end of the line.
        mesh.nodes[keys[3].publicKey]!.publish(makeRecord(keys[3]).signed(by: keys[3]), now: mesh.now, unixNow: now)
        mesh.link(keys[2].publicKey, keys[3].publicKey)
        mesh.run()
        for k in keys { XCTAssertEqual(mesh.nodes[k.publicKey]!.directory.count, 4, "node \(k.publicKey.short)") }
    }

    func testAHostileRelayCannotPlantAChangedRecord() {
        var mesh = GossipMesh(unixNow: now)
        let honest = NodeIdentity.generate(), hostile = NodeIdentity.generate(), victim = NodeIdentity.generate()
        for k in [honest, hostile] { mesh.add(k.publicKey, CapacityGossip(directory: CapacityDirectory())) }
        mesh.link(honest.publicKey, hostile.publicKey)
        mesh.run()
        var forged = makeRecord(victim, freeMemory: 64 * ByteSize.gib).signed(by: victim)
        forged[70] ^= 0x40  // the total memory, now a lie
        // The hostile neighbour relays it (its own directory would refuse it, so it goes straight on the wire).
        mesh.nodes[honest.publicKey]!.receive(CapacityMessage.records([forged]).encoded(), from: hostile.publicKey, now: mesh.now, unixNow: now)
        mesh.run()
        XCTAssertNil(mesh.nodes[honest.publicKey]!.directory[victim.publicKey])
        XCTAssertEqual(mesh.nodes[honest.publicKey]!.directory.rejections[.badSignature], 1)
        XCTAssertEqual(mesh.nodes[honest.publicKey]!.drops.first?.0, "capacity-bad-signature")
    }

    func testMalformedMessagesAreCounted() {
        let g = CapacityGossip(directory: CapacityDirectory())
        let n = NodeIdentity.generate().publicKey
        g.neighbourUp(n, now: .zero)
        for body: [UInt8] in [[], [9], [1, 0], [1, 1, 0, 5, 1], [2, 200, 100], [3, 0, 0, 0, 0, 1, 1]] {
            g.receive(body, from: n, now: .zero, unixNow: now)
        }
        XCTAssertEqual(g.malformedMessages, 6)
        // Messages round-trip.
        for m: CapacityMessage in [.records([[1, 2, 3]]), .summary(first: 3, buckets: [.init(count: 2, digest: 9)]),
                                   .bucketList(bucket: 4, total: 3, entries: [.init(prefix: 1, seqno: 2)])] {
            XCTAssertEqual(CapacityMessage.decode(m.encoded()), m)
            XCTAssertEqual(m.encodedCount, m.encoded().count, "\(m)")
        }
    }

    /// A bucket list is held until the total its sender announced is in, and the total is the
    /// sender's word: neighbours sending parts of lists they never finish keep the unfinished
    /// lists at their bounds, per neighbour and in all, and each list given up is counted. An
    /// honest neighbour's list in progress meanwhile still finishes and is answered.
    func testEndlessUnfinishedBucketListsStayWithinTheirBounds() {
        let g = CapacityGossip(directory: CapacityDirectory())
        g.maxListEntriesPerNeighbour = 500
        g.maxListEntries = 800
        let h1 = NodeIdentity.generate().publicKey, h2 = NodeIdentity.generate().publicKey
        let honest = NodeIdentity.generate().publicKey
        let t0 = Instant(seconds: 10)
        for k in [h1, h2, honest] { g.neighbourUp(k, now: t0) }
        g.drainOutgoing { _, _ in }  // the summaries
        var prefix: UInt64 = 1
        func part(bucket: Int, total: Int, count: Int = CapacityMessage.entriesPerList) -> [UInt8] {
            let entries = (0..<count).map { _ in CapacityMessage.ListEntry(prefix: { prefix += 1; return prefix }(), seqno: 1) }
            return CapacityMessage.bucketList(bucket: bucket, total: total, entries: entries).encoded()
        }
        func checkBounds(_ line: UInt = #line) {
            for k in [h1, h2, honest] {
                let n = g.neighbours[k]!
                XCTAssertEqual(n.listEntries, n.lists.values.reduce(0) { $0 + $1.entries.count }, line: line)
                XCTAssertLessThanOrEqual(n.listEntries, g.maxListEntriesPerNeighbour, line: line)
            }
            XCTAssertEqual(g.listEntries, g.neighbours.values.reduce(0) { $0 + $1.listEntries }, line: line)
            XCTAssertLessThanOrEqual(g.listEntries, g.maxListEntries, line: line)
        }

        // A list announcing more entries than the bound could never finish: refused at once.
        for _ in 0..<100 { g.receive(part(bucket: 7, total: Int(UInt32.max)), from: h1, now: t0, unixNow: now) }
        XCTAssertEqual(g.listEntries, 0)
        XCTAssertEqual(g.droppedLists, 100)

        // One neighbour sends parts of lists without end (totals within the bound, never reached).
        for i in 0..<2000 {
            g.receive(part(bucket: i % 256, total: 499), from: h1, now: t0, unixNow: now)
            if i % 97 == 0 { checkBounds() }
        }
        checkBounds()
        XCTAssertGreaterThan(g.neighbours[h1]!.listEntries, g.maxListEntriesPerNeighbour / 2, "the lists were not held up to their bound")
        XCTAssertGreaterThan(g.droppedLists, 100 + 200, "dropped lists are not counted")

        // A second one joins in: together they stay within the bound for all.
        for i in 0..<3000 {
            g.receive(part(bucket: i % 256, total: 499), from: i % 2 == 0 ? h1 : h2, now: t0, unixNow: now)
            if i % 97 == 0 { checkBounds() }
        }
        checkBounds()
        XCTAssertGreaterThan(g.listEntries, g.maxListEntries / 2, "the lists were not held up to their bound")
        XCTAssertTrue(g.drops.contains { $0.0 == "capacity-lists-full" && $0.1 == g.droppedLists })

        // With the bound for all reached (lowered to what is held, so that the honest part is
        // the one that passes it), the honest neighbour's list of bucket b comes in half: the
        // neighbour holding the most gives way, not the newcomer. g holds a record in b that
        // the honest neighbour lacks.
        let x = NodeIdentity.generate()
        XCTAssertEqual(g.directory.offer(makeRecord(x).signed(by: x), unixNow: now), .accepted)
        let b = CapacityDirectory.bucket(of: x.publicKey)
        g.maxListEntries = g.listEntries
        g.receive(part(bucket: b, total: 100), from: honest, now: t0, unixNow: now)
        XCTAssertEqual(g.neighbours[honest]!.listEntries, CapacityMessage.entriesPerList, "the honest list gave way")
        for i in 0..<1000 { g.receive(part(bucket: i % 256, total: 499), from: i % 2 == 0 ? h1 : h2, now: t0, unixNow: now) }
        checkBounds()

        // The honest list was not crowded out: its second part finishes it, and g sends x.
        g.receive(part(bucket: b, total: 100, count: 100 - CapacityMessage.entriesPerList), from: honest, now: t0, unixNow: now)
        XCTAssertNil(g.neighbours[honest]!.lists[b])
        var sent: [(PublicKey, [UInt8])] = []
        g.drainOutgoing { sent.append(($0, $1)) }
        XCTAssertEqual(sent.filter { $0.0 == honest }.map(\.1), [CapacityMessage.records([makeRecord(x).signed(by: x)]).encoded()])

        // A neighbour going down takes its lists, and their entries, with it.
        g.neighbourDown(h1)
        XCTAssertEqual(g.listEntries, g.neighbours[h2]!.listEntries)
        g.neighbourUp(h2, now: t0)
        XCTAssertEqual(g.listEntries, 0)
    }

    /// A summary is answered with a bucket list for each bucket that differs, and the list is
    /// the node's whole bucket: a neighbour repeating one summary gets each list once until it
    /// has left, not once per copy (which held a third of the directory per 1,155-byte copy).
    func testARepeatedSummaryIsAnsweredWithEachListOnce() {
        let g = CapacityGossip(directory: CapacityDirectory())
        for _ in 0..<300 {
            let x = NodeIdentity.generate()
            XCTAssertEqual(g.directory.offer(makeRecord(x).signed(by: x), unixNow: now), .accepted)
        }
        let n = NodeIdentity.generate().publicKey
        let t0 = Instant(seconds: 10)
        g.neighbourUp(n, now: t0)
        g.drainOutgoing { _, _ in }  // our summaries
        // One different record in every bucket: every bucket we hold differs.
        let summary = CapacityMessage.summary(first: 0, buckets: (0..<CapacityMessage.bucketsPerSummary).map { _ in .init(count: 1, digest: 7) })
        func lists(afterCopies copies: Int) -> Int {
            for _ in 0..<copies { g.receive(summary.encoded(), from: n, now: t0, unixNow: now) }
            XCTAssertLessThanOrEqual(g.neighbours[n]!.control.count, CapacityMessage.bucketsPerSummary)
            var count = 0
            g.drainOutgoing { _, body in if body.first == 3 { count += 1 } }
            return count
        }
        let once = lists(afterCopies: 1)
        let held = (0..<CapacityMessage.bucketsPerSummary).filter { g.directory.bucketCount($0) > 0 }.count
        XCTAssertEqual(once, held, "one list per differing bucket (each fits one message here)")
        XCTAssertEqual(lists(afterCopies: 1000), once, "a repeated summary was answered once per copy")
        // Once the lists have left, the next summary is answered again.
        XCTAssertEqual(lists(afterCopies: 1), once)
    }

    /// A neighbour's outbox holds a directory slot once, whatever arrives for it meanwhile: a
    /// newer record of a key already queued replaces it in place (the slot's record is read
    /// when the outbox leaves), so the outbox never holds more than the directory.
    func testTheOutboxHoldsEachSlotOnce() {
        let g = CapacityGossip(directory: CapacityDirectory())
        let a = NodeIdentity.generate().publicKey, b = NodeIdentity.generate().publicKey
        let t0 = Instant(seconds: 10)
        g.neighbourUp(a, now: t0)
        g.neighbourUp(b, now: t0)
        g.drainOutgoing { _, _ in }
        let ids = (0..<100).map { _ in NodeIdentity.generate() }
        for seqno in 1...3 as ClosedRange<UInt64> {
            for x in ids {
                let r = makeRecord(x, seqno: seqno, issuedAt: 1_000_000 + seqno).signed(by: x)
                g.receive(CapacityMessage.records([r]).encoded(), from: a, now: t0, unixNow: now)
                g.receive(CapacityMessage.records([r]).encoded(), from: a, now: t0, unixNow: now)
            }
        }
        XCTAssertEqual(g.directory.count, 100)
        XCTAssertEqual(g.neighbours[b]!.order.count, 100, "the outbox holds a slot more than once")
        var sent: [CapacityMessage] = []
        g.advance(now: t0.adding(seconds: g.floodDelay))
        g.drainMessages { _, m in sent.append(m) }
        let records = sent.flatMap { if case .records(let r) = $0 { return r } else { return [] } }
        XCTAssertEqual(records.count, 100)
        XCTAssertEqual(Set(records.compactMap { CapacityRecord.header($0)?.1 }), [3], "not the newest of each key")
    }

    /// A record to flood waits its hold; if the neighbour sends it first it is struck, and
    /// records that arrive together leave together.
    func testTheFloodHoldStrikesWhatTheNeighbourSentAndBatchesTheRest() {
        let g = CapacityGossip(directory: CapacityDirectory())
        let a = NodeIdentity.generate().publicKey, c = NodeIdentity.generate().publicKey
        let t0 = Instant(seconds: 10)
        g.neighbourUp(a, now: t0)
        g.neighbourUp(c, now: t0)
        g.drainOutgoing { _, _ in }  // the summaries
        let x = NodeIdentity.generate(), y = NodeIdentity.generate(), z = NodeIdentity.generate()
        let rx = makeRecord(x).signed(by: x), ry = makeRecord(y).signed(by: y), rz = makeRecord(z).signed(by: z)
        g.receive(CapacityMessage.records([rx, ry]).encoded(), from: a, now: t0, unixNow: now)
        var sent: [(PublicKey, [UInt8])] = []
        g.drainOutgoing { sent.append(($0, $1)) }
        XCTAssertTrue(sent.isEmpty, "flooded before the hold")
        XCTAssertEqual(g.nextDeadline, t0.adding(seconds: g.floodDelay))
        // c sends y (and z) before the hold is over: y is struck from c's outbox.
        g.receive(CapacityMessage.records([ry, rz]).encoded(), from: c, now: t0.adding(seconds: 0.05), unixNow: now)
        g.advance(now: t0.adding(seconds: g.floodDelay))
        g.drainOutgoing { sent.append(($0, $1)) }
        let toC = sent.filter { $0.0 == c }.map(\.1), toA = sent.filter { $0.0 == a }.map(\.1)
        XCTAssertEqual(toC, [CapacityMessage.records([rx]).encoded()])
        XCTAssertEqual(toA.count, 0, "z's hold (from 0.05 s) is not over yet")
        g.advance(now: t0.adding(seconds: 0.05 + g.floodDelay))
        g.drainOutgoing { sent.append(($0, $1)) }
        XCTAssertEqual(sent.filter { $0.0 == a }.map(\.1), [CapacityMessage.records([rz]).encoded()])
    }

    /// A record already waiting out its flood hold leaves at once when reconciliation finds
    /// the neighbour lacks it (reconciled records are not held).
    func testAReconciledRecordIsNotHeldEvenIfQueuedForFlooding() {
        let g = CapacityGossip(directory: CapacityDirectory())
        let n = NodeIdentity.generate().publicKey
        let t0 = Instant(seconds: 10)
        g.neighbourUp(n, now: t0)
        g.drainOutgoing { _, _ in }  // the summaries
        let x = NodeIdentity.generate()
        g.publish(makeRecord(x).signed(by: x), now: t0, unixNow: now)
        XCTAssertEqual(g.nextDeadline, t0.adding(seconds: g.floodDelay))
        // n's summary: every bucket empty, so n lacks x's record.
        let empty = [CapacityMessage.Bucket](repeating: .init(count: 0, digest: 0), count: CapacityMessage.bucketsPerSummary)
        g.receive(CapacityMessage.summary(first: 0, buckets: empty).encoded(), from: n, now: t0, unixNow: now)
        g.receive(CapacityMessage.summary(first: 96, buckets: empty).encoded(), from: n, now: t0, unixNow: now)
        g.receive(CapacityMessage.summary(first: 192, buckets: Array(empty.prefix(64))).encoded(), from: n, now: t0, unixNow: now)
        XCTAssertEqual(g.nextDeadline, t0)
        var sent: [[UInt8]] = []
        g.drainOutgoing { _, body in sent.append(body) }
        XCTAssertEqual(sent, [CapacityMessage.records([makeRecord(x).signed(by: x)]).encoded()])
    }

    /// Outboxes hold directory slots; records expiring moves the rest to new slots. What was
    /// queued still goes (and nothing expired does); if the directory was expired behind the
    /// gossip's back, the outboxes are dropped and a summary goes instead, so reconciliation
    /// resends what the neighbour lacks.
    func testQueuedRecordsSurviveExpiryMovingTheirSlots() throws {
        let g = CapacityGossip(directory: CapacityDirectory())
        let n = NodeIdentity.generate().publicKey
        let t0 = Instant(seconds: 10)
        g.neighbourUp(n, now: t0)
        g.drainOutgoing { _, _ in }  // the summaries
        let ids = (0..<4).map { _ in NodeIdentity.generate() }
        let records = ids.enumerated().map { makeRecord($1, lifetime: $0 % 2 == 0 ? 200 : 5000).signed(by: $1) }
        for r in records { XCTAssertEqual(g.publish(r, now: t0, unixNow: now), .accepted) }
        // The hold is not over when records 0 and 2 expire and 1 and 3 move down.
        g.tick(now: t0.adding(seconds: 0.01), unixNow: now + 300)
        XCTAssertEqual(g.directory.count, 2)
        g.advance(now: t0.adding(seconds: 1))
        var sent: [[UInt8]] = []
        g.drainOutgoing { _, body in sent.append(body) }
        XCTAssertEqual(sent, [CapacityMessage.records([records[1], records[3]]).encoded()])

        let late = NodeIdentity.generate()
        XCTAssertEqual(g.publish(makeRecord(late, issuedAt: UInt64(now) + 300, lifetime: 100).signed(by: late), now: t0.adding(seconds: 2), unixNow: now + 300), .accepted)
        XCTAssertEqual(g.directory.expire(unixNow: now + 600), 1)
        sent = []
        g.advance(now: t0.adding(seconds: 3))
        g.drainOutgoing { _, body in sent.append(body) }
        let messages = try sent.map { try XCTUnwrap(CapacityMessage.decode($0)) }
        XCTAssertFalse(messages.isEmpty)
        XCTAssertTrue(messages.allSatisfy { if case .summary = $0 { return true } else { return false } }, "\(messages)")
    }
}

/// A relay that changes every record it sends (as planethostile's `tamper-capacity` does
/// between real nodes, test_capacity_hostile.sh).
final class CapacityTamperingRelayTests: XCTestCase {
    func testARelayThatChangesEveryRecordGetsNothingStored() {
        let now = 1_000_100.0
        var mesh = GossipMesh(unixNow: now)
        let a = NodeIdentity.generate(), r = NodeIdentity.generate(), b = NodeIdentity.generate()
        for k in [a, r, b] { mesh.add(k.publicKey, CapacityGossip(directory: CapacityDirectory())) }
        mesh.tampering[r.publicKey] = { var f = $0; f[77] ^= 0x10; return f }
        mesh.link(a.publicKey, r.publicKey)
        mesh.link(r.publicKey, b.publicKey)
        mesh.nodes[a.publicKey]!.publish(makeRecord(a).signed(by: a), now: mesh.now, unixNow: now)
        mesh.nodes[b.publicKey]!.publish(makeRecord(b).signed(by: b), now: mesh.now, unixNow: now)
        mesh.run()
        XCTAssertEqual(mesh.nodes[r.publicKey]!.directory.count, 2)
        XCTAssertEqual(mesh.nodes[a.publicKey]!.directory.count, 1)
        XCTAssertEqual(mesh.nodes[b.publicKey]!.directory.count, 1)
        XCTAssertGreaterThan(mesh.nodes[b.publicKey]!.directory.rejections[.badSignature] ?? 0, 0)
    }
}

extension CapacityGossipTests {
    /// Two neighbours whose directories agree send each other a summary only every
    /// `quietResummaryInterval` (10 min), not every minute: a quiet link (a stub's) then
    /// costs ~10 B/s of gossip instead of ~100. Fails if every due summary goes.
    func testAQuietLinkSendsASummaryOnlyEveryTenMinutes() {
        var mesh = GossipMesh(unixNow: now)
        let a = NodeIdentity.generate(), b = NodeIdentity.generate()
        mesh.add(a.publicKey, CapacityGossip(directory: CapacityDirectory()))
        mesh.add(b.publicKey, CapacityGossip(directory: CapacityDirectory()))
        mesh.nodes[a.publicKey]!.publish(makeRecord(a).signed(by: a), now: mesh.now, unixNow: now)
        mesh.nodes[b.publicKey]!.publish(makeRecord(b).signed(by: b), now: mesh.now, unixNow: now)
        mesh.link(a.publicKey, b.publicKey)
        mesh.run()
        XCTAssertEqual(mesh.nodes[b.publicKey]!.directory.count, 2)
        let before = mesh.messagesMoved
        for _ in 0..<20 {  // 20 minutes, every node ticking when its summary is due
            mesh.now = mesh.now.adding(seconds: CapacityGossip.resummaryInterval)
            for g in mesh.nodes.values { g.tick(now: mesh.now, unixNow: now) }
            mesh.run()
        }
        let summaries = mesh.messagesMoved - before
        // The first minute (each directory changed since its link-up summary) and the safety
        // summary ten minutes later: 2 × 2 sides × 3 messages. Every minute would be 120.
        XCTAssertLessThanOrEqual(summaries, 12, "summaries went while nothing could differ")
        XCTAssertGreaterThan(summaries, 0, "no safety summary in 20 minutes")
    }

    /// Skipping summaries must not leave a lost flood unhealed: a record whose flood message
    /// was lost still reaches the neighbour within two summary rounds. Here the neighbour's
    /// bucket is empty, so it waits for ours; ours goes because our directory changed, and the
    /// difference it shows makes the neighbour's next summary go too.
    func testALostFloodStillHealsOnAQuietLink() {
        var mesh = GossipMesh(unixNow: now)
        let a = NodeIdentity.generate(), b = NodeIdentity.generate()
        mesh.add(a.publicKey, CapacityGossip(directory: CapacityDirectory()))
        mesh.add(b.publicKey, CapacityGossip(directory: CapacityDirectory()))
        mesh.link(a.publicKey, b.publicKey)
        mesh.run()
        for _ in 0..<3 {  // quiet: both have sent and matched summaries
            mesh.now = mesh.now.adding(seconds: CapacityGossip.resummaryInterval)
            for g in mesh.nodes.values { g.tick(now: mesh.now, unixNow: now) }
            mesh.run()
        }
        // a's new record: its flood to b is lost on the way.
        let ga = mesh.nodes[a.publicKey]!
        ga.publish(makeRecord(a).signed(by: a), now: mesh.now, unixNow: now)
        mesh.now = mesh.now.adding(seconds: 0.2)
        ga.advance(now: mesh.now)
        var lost = 0
        ga.drainOutgoing { _, _ in lost += 1 }
        XCTAssertEqual(lost, 1)
        XCTAssertEqual(mesh.nodes[b.publicKey]!.directory.count, 0)
        var rounds = 0
        while mesh.nodes[b.publicKey]!.directory.count == 0 && rounds < 20 {
            mesh.now = mesh.now.adding(seconds: CapacityGossip.resummaryInterval)
            for g in mesh.nodes.values { g.tick(now: mesh.now, unixNow: now) }
            mesh.run()
            rounds += 1
        }
        XCTAssertLessThanOrEqual(rounds, 2, "the lost record took \(rounds) summary rounds to arrive")
    }
}
