import XCTest
import PlanetCore
@testable import PlanetRouting
import PlanetTesting

/// Reconciliation by digest (Router+Reconciliation.swift): summaries instead of periodic dumps,
/// range lists for buckets that differ, and answers with exactly the difference.
final class ReconciliationTests: XCTestCase {
    /// Summaries even for the few routes of a test network (by default a table this small is
    /// sent as a dump, which is smaller than a summary).
    var config: RouterConfig {
        var c = RouterConfig()
        c.summaryMinRoutes = 0
        return c
    }

    func tlvs(_ m: [UInt8]) -> [RoutingTLV] {
        var unknown = 0
        return (try? RoutingMessage.decode(m, unknown: &unknown).get()) ?? []
    }

    /// `RouterHarness.advance` with every delivered message shown to `intercept` first.
    func advance(_ h: RouterHarness, _ seconds: Double, intercept: @escaping (Int, Int, [UInt8]) -> [UInt8]?) {
        let end = h.now.adding(seconds: seconds)
        while true {
            let d = h.routers.map(\.nextDeadline).min()!
            if d > end { break }
            h.now = max(h.now, d)
            for r in h.routers { r.tick(now: h.now) }
            h.pump(intercept: intercept)
        }
        h.now = end
        for r in h.routers { r.tick(now: h.now) }
        h.pump(intercept: intercept)
    }

    func seqno(_ r: Router, _ origin: PublicKey) -> UInt32? { r.routes().first { $0.origin == origin }?.seqno }

    /// B (1) hangs off A (0), which links origins 2...11. Everything A says to B is lost while
    /// A's table changes in each way a route can: one origin leaves (B keeps a route A
    /// retracted), one bumps its seqno, one's metric changes, one new origin arrives. At the
    /// next summary B finds the buckets that differ, lists them, and A sends exactly those four
    /// differences: three routes and one prefix retraction, nothing else.
    func testReconciliationConvergesAndSendsOnlyTheDifference() {
        let h = RouterHarness(count: 13, config: config)
        let (a, b) = (0, 1)
        for k in 2...11 { h.connect(a, k) }
        h.connect(a, b)
        h.pump()
        XCTAssertEqual(h.routers[b].reachableCount, 11)

        let lose: (Int, Int, [UInt8]) -> [UInt8]? = { i, j, m in i == a && j == b ? nil : m }
        h.disconnect(a, 2)
        h.routers[3].restoreSelfSeqno(10)
        h.routers[a].neighbourCost(h.key(4), cost: 200, now: h.now)
        h.connect(a, 12)
        h.pump(intercept: lose)
        // B is behind in all four ways.
        XCTAssertEqual(h.routers[b].nextHop(to: h.key(2)), h.key(a))
        XCTAssertEqual(seqno(h.routers[b], h.key(3)), 0)
        XCTAssertEqual(h.routers[b].metric(to: h.key(4)), 40)
        XCTAssertNil(h.routers[b].nextHop(to: h.key(12)))

        let before = h.routers[a].stats
        var fromA: [RoutingTLV] = []
        advance(h, 70) { i, j, m in
            if i == a && j == b { fromA += self.tlvs(m) }
            return m
        }
        let stats = h.routers[a].stats
        XCTAssertEqual(stats.summariesSent - before.summariesSent, 11, "one to each neighbour: B, 3...11 and 12")
        XCTAssertEqual(stats.reconciledRoutesSent - before.reconciledRoutesSent, 3)
        XCTAssertEqual(stats.prefixRetractionsSent - before.prefixRetractionsSent, 1)
        // On the wire to B: summaries, and the difference.
        var routesToB = 0, retractionsToB = 0, summaryParts = 0
        for t in fromA {
            switch t {
            case .update, .refresh: routesToB += 1
            case .prefixRetraction(let p): retractionsToB += 1; XCTAssertEqual(p, ReconciliationDigest.prefix(of: h.key(2)))
            case .summary: summaryParts += 1
            default: XCTFail("unexpected \(t)")
            }
        }
        XCTAssertEqual(routesToB, 3)
        XCTAssertEqual(retractionsToB, 1)
        XCTAssertEqual(summaryParts, 13)

        // Converged: B holds every route of A's, as A advertises it.
        XCTAssertNil(h.routers[b].nextHop(to: h.key(2)))
        for o in [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] {
            XCTAssertEqual(h.routers[b].nextHop(to: h.key(o)), h.key(a), "origin \(o)")
            XCTAssertEqual(h.routers[b].metric(to: h.key(o)), o == a ? 20 : h.routers[a].metric(to: h.key(o))! + 20, "origin \(o)")
            XCTAssertEqual(seqno(h.routers[b], h.key(o)), o == a ? h.routers[a].selfSeqno : seqno(h.routers[a], h.key(o)), "origin \(o)")
        }

        // And the next round finds nothing to send.
        let settled = h.routers[a].stats
        var later: [RoutingTLV] = []
        advance(h, 70) { i, j, m in
            if i == a && j == b { later += self.tlvs(m) }
            return m
        }
        XCTAssertEqual(h.routers[a].stats.reconciledRoutesSent, settled.reconciledRoutesSent)
        XCTAssertEqual(h.routers[a].stats.prefixRetractionsSent, settled.prefixRetractionsSent)
        XCTAssertTrue(later.allSatisfy { if case .summary = $0 { return true } else { return false } }, "\(later)")
        XCTAssertFalse(later.isEmpty)
    }

    /// The other direction of every difference: what B lacks because B lost it is the same as
    /// above; here the receiver holds nothing at all from a bucket (the empty list asks for all).
    func testEmptyViewGetsTheWholeBucket() {
        let h = RouterHarness(count: 6, config: config)
        for k in 1...5 { h.connect(0, k) }
        h.pump()
        // 1 forgets everything it holds from 0 (as after lost updates): retractions injected.
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        for o in [0, 2, 3, 4, 5] { RoutingTLV.retraction(origin: h.key(o)).encode(into: &w) }
        h.routers[1].receive(w.bytes, from: h.key(0), now: h.now)
        XCTAssertEqual(h.routers[1].reachableCount, 0)
        // 1 retracts back to 0 (its routes are gone): 0 is told the truth and keeps its own.
        h.pump()
        h.advance(70)
        XCTAssertEqual(h.routers[1].reachableCount, 5, "\(h.routers[1].routes())")
        XCTAssertGreaterThanOrEqual(h.routers[0].stats.reconciledRoutesSent, 5)
    }

    /// Routes from a neighbour that reconciles are kept alive by its summaries alone (no dump
    /// for 1,000 s, five times the hold time), and nothing but summaries crosses the link.
    func testSummariesReplaceDumpsAndKeepRoutesAlive() {
        let h = RouterHarness(count: 3, config: config)
        h.connect(0, 1); h.connect(1, 2)
        h.pump()
        h.advance(100)
        var routeTLVs = 0, summaries = 0
        advance(h, 1000) { _, _, m in
            for t in self.tlvs(m) {
                switch t {
                case .update, .refresh: routeTLVs += 1
                case .summary: summaries += 1
                default: break
                }
            }
            return m
        }
        XCTAssertEqual(routeTLVs, 0)
        XCTAssertGreaterThan(summaries, 0)
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(2)), h.key(1))
        XCTAssertEqual(h.routers[2].nextHop(to: h.key(0)), h.key(1))
        XCTAssertEqual(h.routers[1].reachableCount, 2)
    }

    /// A router without reconciliation (as an older peer) ignores the new TLVs and keeps
    /// getting periodic dumps, so its routes never expire; two new routers beside it reconcile.
    func testOldNeighbourStillGetsDumps() {
        let h = RouterHarness(count: 4, config: config)
        var old = config
        old.reconcilesByDigest = false
        h.routers[1] = Router(identity: RouterHarness.identity(1), config: old, origins: h.origins, now: h.now, random: SplitMix64(seed: 77))
        h.connect(0, 1); h.connect(1, 2); h.connect(0, 3)
        h.pump()
        h.advance(1000)
        for i in 0..<4 { XCTAssertEqual(h.routers[i].reachableCount, 3, "router \(i): \(h.routers[i].routes())") }
        XCTAssertGreaterThan(h.routers[1].stats.drops[.unknownTLV], 0, "the hello is unknown to it")
        XCTAssertEqual(h.routers[1].stats.summariesSent, 0)
        XCTAssertEqual(h.routers[2].stats.summariesSent, 0, "2's only neighbour is old")
        XCTAssertGreaterThan(h.routers[0].stats.summariesSent, 0, "0 and 3 reconcile")
        XCTAssertGreaterThan(h.routers[3].stats.summariesSent, 0)
    }

    /// A node with more neighbours offering an origin than route slots (4) refuses some offers
    /// for good. The refusals are listed as declined, the offering side leaves them out of its
    /// digests, and after that nothing is resent round after round; when a held route goes, the
    /// refused neighbours are asked again and the slot fills at once.
    func testDeclinedOffersSettleAndComeBackWhenASlotFrees() {
        let h = RouterHarness(count: 8, config: config)
        for s in 1...6 { h.connect(0, s); h.connect(s, 7) }
        h.pump()
        func candidates() -> [RouteInfo.Candidate] { h.routers[0].routes().first { $0.origin == h.key(7) }?.candidates ?? [] }
        XCTAssertEqual(candidates().count, 4)
        XCTAssertGreaterThan(h.routers[0].stats.drops[.routeSlotsFull], 0)
        h.advance(200)
        let settledDiffering = h.routers[0].stats.bucketsDiffering
        let settledSent = (1...6).map { h.routers[$0].stats.reconciledRoutesSent }
        h.advance(1200)
        XCTAssertEqual(h.routers[0].stats.bucketsDiffering, settledDiffering, "declined offers no longer differ")
        XCTAssertEqual((1...6).map { h.routers[$0].stats.reconciledRoutesSent }, settledSent, "nor are they resent")
        XCTAssertEqual(candidates().count, 4)
        // A held route goes: one of the refused neighbours is asked, and its offer fills the slot.
        let held = candidates().first { !$0.selected }!.neighbour
        h.disconnect(0, h.index(held)!)
        h.pump()
        XCTAssertEqual(candidates().count, 4, "\(candidates())")
        XCTAssertFalse(candidates().contains { $0.neighbour == held })
    }

    /// A prefix retraction drops only what that neighbour offered.
    func testPrefixRetractionOnlyDropsTheSendersRoute() {
        let h = RouterHarness(count: 4, config: config)
        h.connect(0, 1, cost: 10); h.connect(0, 2, cost: 50); h.connect(1, 3); h.connect(2, 3)
        h.pump()
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(1))
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        RoutingTLV.prefixRetraction(prefix: ReconciliationDigest.prefix(of: h.key(3))).encode(into: &w)
        h.routers[0].receive(w.bytes, from: h.key(1), now: h.now)
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(3)), h.key(2))
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(1)), h.key(1))
    }

    func testNewTLVsRoundTrip() {
        let tlvs: [RoutingTLV] = [
            .summary(first: 0, buckets: []),
            .summary(first: 235, buckets: (0..<21).map { .init(count: UInt32($0), digest: UInt64($0) &* 0x1234_5678_9abc) }),
            .rangeList(low: 0x0500_0000_0000_0000, high: 0x05FF_FFFF_FFFF_FFFF,
                       entries: (0..<16).map { .init(prefix: 0x0500_0000_0000_0000 + UInt64($0), seqno: UInt32($0), metric: 7) }),
            .prefixRetraction(prefix: 0xDEAD_BEEF),
        ]
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        for t in tlvs { t.encode(into: &w); }
        XCTAssertEqual(w.bytes.count, 1 + tlvs.reduce(0) { $0 + $1.encodedSize })
        var unknown = 0
        XCTAssertEqual(try RoutingMessage.decode(w.bytes, unknown: &unknown).get(), tlvs)
    }

    func testMalformedReconciliationTLVsDropTheMessage() {
        let r = RouterHarness(count: 2, config: config)
        r.connect(0, 1)
        r.pump()
        func send(_ body: [UInt8]) { r.routers[0].receive([RoutingMessage.version] + body, from: r.key(1), now: r.now) }
        // Buckets past 255.
        send([0x06, 1 + 24, 255] + [UInt8](repeating: 0, count: 24))
        // Not a whole number of buckets.
        send([0x06, 5, 0, 1, 2, 3, 4])
        // A range across two buckets.
        send([0x07, 16] + [0x05, 0, 0, 0, 0, 0, 0, 0] + [0x06, 0, 0, 0, 0, 0, 0, 0])
        // An entry outside its range.
        send([0x07, 30] + [0x05, 0, 0, 0, 0, 0, 0, 0] + [0x05, 0, 0, 0, 0, 0, 0, 9] + [0x05, 0, 0, 0, 0, 0, 0, 10] + [0, 0, 0, 1, 0, 1])
        // A prefix retraction of the wrong length.
        send([0x08, 7, 1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(r.routers[0].stats.drops[.malformed], 5)
        XCTAssertEqual(r.routers[0].nextHop(to: r.key(1)), r.key(1))
    }

    /// Summaries repeated by a neighbour cost one comparison per `summaryMinInterval`.
    func testRepeatedSummariesAreComparedOncePerInterval() {
        let h = RouterHarness(count: 2, config: config)
        h.connect(0, 1)
        h.pump()
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        RoutingTLV.summary(first: 0, buckets: (0..<21).map { _ in .init(count: 9, digest: 9) }).encode(into: &w)
        for _ in 0..<50 { h.routers[0].receive(w.bytes, from: h.key(1), now: h.now) }
        XCTAssertEqual(h.routers[0].stats.bucketsDiffering, 21)
        let lists = h.routers[0].drainOutgoing().flatMap { tlvs($0.message) }.filter { if case .rangeList = $0 { return true } else { return false } }
        XCTAssertEqual(lists.count, 21, "one list per differing bucket, however often the summary came")
    }
}
