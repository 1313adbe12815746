import XCTest
import PlanetCore
@testable import PlanetNode
import PlanetTesting

final class NeighbourPacerTests: XCTestCase {
    let a = NodeIdentity.generate().publicKey
    let b = NodeIdentity.generate().publicKey

    /// A megabyte for one neighbour leaves as a burst, then at the rate, in order and whole;
    /// another neighbour's frames are not held up behind it.
    func testBurstThenRateInOrder() throws {
        let t0 = Instant(seconds: 100)
        var pacer = NeighbourPacer(rate: 1_000_000, burst: 262_144, maxQueuedBytes: 16 << 20)
        let frames = (0..<100).map { i in [UInt8](repeating: UInt8(i), count: 10_000) }
        for f in frames { XCTAssertTrue(pacer.enqueue(f, to: a, now: t0)) }
        XCTAssertTrue(pacer.enqueue([0x10, 1], to: b, now: t0))
        var sent: [PublicKey: [[UInt8]]] = [:]
        pacer.release(now: t0) { sent[$0, default: []].append($1) }
        // 262,144 bytes of allowance: 27 frames of 10,000 (the 27th overdraws it).
        XCTAssertEqual(sent[a]?.count, 27)
        XCTAssertEqual(sent[b]?.count, 1, "b waited behind a's dump")
        let next = try XCTUnwrap(pacer.nextDeadline)
        XCTAssertGreaterThan(next, t0)
        XCTAssertLessThan(next, t0.adding(seconds: 0.1))
        // Released whenever it says (as the node's deadline does), the rest takes about
        // (1 MB - burst) / rate = 0.74 s, and arrives whole and in order.
        var now = t0
        var rounds = 0
        while let due = pacer.nextDeadline, rounds < 10_000 {
            now = due
            pacer.release(now: now) { sent[$0, default: []].append($1) }
            rounds += 1
        }
        XCTAssertEqual(sent[a] ?? [], frames, "frames lost or reordered")
        let took = now.seconds(since: t0)
        XCTAssertGreaterThan(took, 0.7)
        XCTAssertLessThan(took, 0.85)
        XCTAssertFalse(pacer.hasQueued())
        XCTAssertNil(pacer.nextDeadline)
    }

    func testQueueIsBoundedAndForgottenWithTheNeighbour() {
        let t0 = Instant(seconds: 5)
        var pacer = NeighbourPacer(rate: 1000, burst: 1000, maxQueuedBytes: 3000)
        XCTAssertTrue(pacer.enqueue([UInt8](repeating: 0, count: 2000), to: a, now: t0))
        XCTAssertTrue(pacer.enqueue([UInt8](repeating: 0, count: 1000), to: a, now: t0))
        XCTAssertFalse(pacer.enqueue([0], to: a, now: t0), "the queue holds at most maxQueuedBytes")
        XCTAssertTrue(pacer.enqueue([0], to: b, now: t0), "the bound is per neighbour")
        pacer.forget(a)
        XCTAssertFalse(pacer.hasQueued(for: a))
        XCTAssertTrue(pacer.hasQueued(for: b))
    }
}

extension NodeMeshTests {
    /// A new neighbour whose full table is larger than the routing burst receives it paced,
    /// and all of it: the node's deadline releases what waits.
    func testLargeTableReachesANewNeighbourPaced() throws {
        let h = NodeHarness()
        h.add("hub")
        for i in 0..<40 { h.add("leaf\(i)", peers: ["hub"]) }
        h.run(seconds: 10)
        let hub = h.nodes["hub"]!
        XCTAssertEqual(hub.router.routes().count, 40)
        // The hub's table (~105 B per origin signed, ~4.3 KB) is four times its burst here.
        hub.pacer = NeighbourPacer(rate: 1000, burst: 1000, maxQueuedBytes: 1 << 20)
        h.add("late", peers: ["hub"])
        h.run(seconds: 1.5)
        let early = h.nodes["late"]!.router.routes().count
        XCTAssertGreaterThan(early, 0, "nothing came within the burst")
        XCTAssertLessThan(early, 41, "the table was not paced")
        h.run(seconds: 10)
        XCTAssertEqual(h.nodes["late"]!.router.routes().count, 41, "the late node is missing routes")
        XCTAssertEqual(hub.pacer.refused[0] ?? 0, 0)
    }
}

extension NeighbourPacerTests {
    /// With the allowance short, a lower lane's frames leave before a higher lane's, even when
    /// the higher lane queued first; each lane keeps its own order.
    func testLowerLanesLeaveFirstAndEachLaneKeepsItsOrder() {
        let key = NodeIdentity.generate().publicKey
        let t0 = Instant(seconds: 100)
        var pacer = NeighbourPacer(rate: 1000, burst: 1000, maxQueuedBytes: 1 << 20)
        for i in 0..<4 { XCTAssertTrue(pacer.enqueue([UInt8](repeating: UInt8(10 + i), count: 600), to: key, lane: 1, now: t0)) }
        for i in 0..<2 { XCTAssertTrue(pacer.enqueue([UInt8](repeating: UInt8(i), count: 600), to: key, lane: 0, now: t0)) }
        var order: [UInt8] = []
        pacer.release(now: t0) { _, f in order.append(f[0]) }
        // 1000 bytes of allowance: two 600-byte frames (the second overdraws), lane 0's.
        XCTAssertEqual(order, [0, 1])
        // Each refill (capped at the burst) lets two more go.
        pacer.release(now: t0.adding(seconds: 10)) { _, f in order.append(f[0]) }
        XCTAssertEqual(order, [0, 1, 10, 11])
        pacer.release(now: t0.adding(seconds: 20)) { _, f in order.append(f[0]) }
        XCTAssertEqual(order, [0, 1, 10, 11, 12, 13])
        XCTAssertFalse(pacer.hasQueued())
    }

    /// What a frame queued in a lane would wait behind: that lane and the lanes before it,
    /// never a later lane's backlog (routing's dump room, `Node.neighbourDumpQueueBytes`, must
    /// not shrink because capacity records wait behind it), and less as frames leave.
    func testQueuedBytesCountTheLaneAndTheLanesBeforeIt() {
        let key = NodeIdentity.generate().publicKey
        let t0 = Instant(seconds: 1)
        var pacer = NeighbourPacer(rate: 1000, burst: 1000, maxQueuedBytes: 1 << 20)
        XCTAssertEqual(pacer.queuedBytes(for: key, throughLane: 0), 0)
        for _ in 0..<3 { pacer.enqueue([UInt8](repeating: 1, count: 500), to: key, lane: 1, now: t0) }
        pacer.enqueue([UInt8](repeating: 0, count: 400), to: key, lane: 0, now: t0)
        XCTAssertEqual(pacer.queuedBytes(for: key, throughLane: 0), 400)
        XCTAssertEqual(pacer.queuedBytes(for: key, throughLane: 1), 1900)
        pacer.release(now: t0) { _, _ in }
        // 1000 bytes of allowance: lane 0's frame and two of lane 1's (the second overdraws).
        XCTAssertEqual(pacer.queuedBytes(for: key, throughLane: 0), 0)
        XCTAssertEqual(pacer.queuedBytes(for: key, throughLane: 1), 500)
    }

    func testAFullQueueRefusesAndCountsByLane() {
        let key = NodeIdentity.generate().publicKey
        var pacer = NeighbourPacer(rate: 1000, burst: 1000, maxQueuedBytes: 1000)
        let t0 = Instant(seconds: 1)
        XCTAssertTrue(pacer.enqueue([UInt8](repeating: 0, count: 900), to: key, lane: 2, now: t0))
        XCTAssertFalse(pacer.enqueue([UInt8](repeating: 0, count: 200), to: key, lane: 2, now: t0))
        XCTAssertFalse(pacer.enqueue([UInt8](repeating: 0, count: 200), to: key, lane: 0, now: t0))
        XCTAssertEqual(pacer.refused[2], 1)
        XCTAssertEqual(pacer.refused[0], 1)
    }
}

extension NeighbourPacerTests {
    /// A dump queued for a neighbour that turns out to be a stub is dropped from the routing
    /// lane only: other lanes and other neighbours keep what waits for them.
    func testDropLaneKeepsOtherLanesAndNeighbours() {
        let a = NodeIdentity.generate().publicKey, b = NodeIdentity.generate().publicKey
        let now = Instant(seconds: 10)
        var p = NeighbourPacer(rate: 1000, burst: 1000, maxQueuedBytes: 1 << 20)
        for _ in 0..<10 { p.enqueue([UInt8](repeating: 1, count: 500), to: a, lane: 0, now: now) }
        p.enqueue([UInt8](repeating: 2, count: 100), to: a, lane: 1, now: now)
        p.enqueue([UInt8](repeating: 3, count: 100), to: b, lane: 0, now: now)
        XCTAssertEqual(p.drop(lane: 0, for: a), 10)
        var sent: [(PublicKey, UInt8)] = []
        _ = p.release(now: now) { k, f in sent.append((k, f[0])) }
        XCTAssertEqual(sent.filter { $0.0 == a }.map(\.1), [2])
        XCTAssertEqual(sent.filter { $0.0 == b }.map(\.1), [3])
        XCTAssertFalse(p.hasQueued())
    }
}
