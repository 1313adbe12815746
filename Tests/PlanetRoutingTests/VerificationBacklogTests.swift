import XCTest
import PlanetCore
@testable import PlanetRouting
import PlanetTesting

/// Signed updates whose signature is not yet proven wait in the router's verification backlog
/// and are checked a slice per tick, one neighbour after another (Router+Verification.swift,
/// Docs/security.md "Hostile neighbours"). Each test here fails when the check it names goes.
final class VerificationBacklogTests: XCTestCase {
    let t0 = Instant(seconds: 100)
    let hostile = RouterHarness.identity(1)
    let honest = RouterHarness.identity(2)
    let other = RouterHarness.identity(3)

    func router(_ config: RouterConfig) -> Router {
        let r = Router(identity: RouterHarness.identity(0), config: config, now: t0, random: SplitMix64(seed: 1))
        for n in [hostile, honest, other] { r.neighbourUp(n.publicKey, cost: 10, now: t0) }
        return r
    }

    /// `count` genuinely signed updates for fresh keys (fake origins, as a hostile neighbour sends).
    func fakeOrigins(_ count: Int, seed: UInt8) -> [RoutingTLV] {
        (0..<count).map { i in
            let pair = Sodium.signKeypair(seed: [seed, UInt8(i & 0xff), UInt8(i >> 8)] + [UInt8](repeating: 7, count: 29))
            let fake = NodeIdentity(secretKey: pair.secret, publicKey: PublicKey(pair.publicKey)!)
            return .update(origin: fake.publicKey, seqno: 1, flags: 0, metric: 10, signature: OriginSignature.sign(fake, seqno: 1, flags: 0))
        }
    }

    func origin(_ t: RoutingTLV) -> PublicKey {
        guard case .update(let origin, _, _, _, _) = t else { fatalError("not an update") }
        return origin
    }

    func update(_ origin: NodeIdentity, seqno: UInt32) -> RoutingTLV {
        .update(origin: origin.publicKey, seqno: seqno, flags: 0, metric: 0, signature: OriginSignature.sign(origin, seqno: seqno, flags: 0))
    }

    /// Sends `tlvs` to `r` from `from`, packed into messages of at most 1200 bytes as a router would.
    func send(_ tlvs: [RoutingTLV], from: NodeIdentity, to r: Router) {
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        for t in tlvs {
            if w.bytes.count + t.encodedSize > 1200 {
                r.receive(w.bytes, from: from.publicKey, now: t0)
                w = ByteWriter()
                w.u8(RoutingMessage.version)
            }
            t.encode(into: &w)
        }
        if w.bytes.count > 1 { r.receive(w.bytes, from: from.publicKey, now: t0) }
    }

    /// Receiving costs no signature check; each tick checks `verificationsPerTurn`, and the
    /// router's deadline is due at once until the backlog is empty.
    func testSignedUpdatesWaitAndAreCheckedASlicePerTick() {
        var config = RouterConfig()
        config.verificationsPerTurn = 16
        let r = router(config)
        send(fakeOrigins(100, seed: 1), from: hostile, to: r)
        XCTAssertEqual(r.stats.signaturesVerified, 0, "signatures were checked while the message was received")
        XCTAssertEqual(r.originCount, 0)
        XCTAssertEqual(r.unverifiedUpdates(from: hostile.publicKey), 100)
        XCTAssertLessThanOrEqual(r.nextDeadline, t0, "a waiting backlog must make the router due at once")
        r.tick(now: t0)
        XCTAssertEqual(r.stats.signaturesVerified, 16, "one tick checks exactly one slice")
        XCTAssertEqual(r.originCount, 16)
        var ticks = 1
        while r.hasUnverifiedUpdates && ticks < 100 { r.tick(now: t0); ticks += 1 }
        XCTAssertEqual(ticks, 7)
        XCTAssertEqual(r.originCount, 100)
        XCTAssertEqual(r.stats.signaturesVerified, 100)
        XCTAssertGreaterThan(r.nextDeadline, t0, "an empty backlog must not keep the router due")
    }

    /// One neighbour's backlog is bounded (the rest counted), and an honest neighbour's new
    /// origin is checked in the first slice while the hostile one's backlog is full.
    func testAnHonestNeighboursOriginIsCheckedAheadOfAFullHostileBacklog() {
        var config = RouterConfig()
        config.verificationsPerTurn = 8
        config.maxUnverifiedPerNeighbour = 200
        let r = router(config)
        send(fakeOrigins(300, seed: 2), from: hostile, to: r)
        XCTAssertEqual(r.unverifiedUpdates(from: hostile.publicKey), 200)
        XCTAssertEqual(r.stats.drops[.verificationBacklogFull], 100)
        send([update(honest, seqno: 1)], from: honest, to: r)
        r.tick(now: t0)
        XCTAssertEqual(r.nextHop(to: honest.publicKey), honest.publicKey, "the honest origin waited behind the flood")
        XCTAssertGreaterThanOrEqual(r.unverifiedUpdates(from: hostile.publicKey), 192)
    }

    /// All backlogs together are bounded; past the bound the longest gives up its newest
    /// update, so a second neighbour still gets half the room.
    func testTheBacklogIsBoundedInAllAndTheLongestGivesWay() {
        var config = RouterConfig()
        config.maxUnverifiedPerNeighbour = 1000
        config.maxUnverified = 150
        let r = router(config)
        send(fakeOrigins(150, seed: 3), from: hostile, to: r)
        send(fakeOrigins(100, seed: 4), from: other, to: r)
        XCTAssertEqual(r.stats.verificationBacklog, 150)
        XCTAssertEqual(r.unverifiedUpdates(from: hostile.publicKey), 75)
        XCTAssertEqual(r.unverifiedUpdates(from: other.publicKey), 75)
        XCTAssertEqual(r.stats.drops[.verificationBacklogFull], 100)
    }

    /// The verification budget per neighbour: a neighbour flooding ten times its backlog's
    /// share gives up its own oldest updates (its newest wait), and an honest newcomer from
    /// another neighbour is checked in the very next slice. Fails when the over-share update
    /// is refused instead (the flood's newest are missing) or when neighbours are not served
    /// in turn (the newcomer waits behind 50 fakes).
    func testAFloodingNeighbourLosesItsOldestAndAnHonestNewcomerIsCheckedNext() {
        var config = RouterConfig()
        config.verificationsPerTurn = 4
        config.maxUnverifiedPerNeighbour = 50
        let r = router(config)
        let fakes = fakeOrigins(500, seed: 8)
        send(fakes, from: hostile, to: r)
        XCTAssertEqual(r.unverifiedUpdates(from: hostile.publicKey), 50)
        XCTAssertEqual(r.stats.drops[.verificationBacklogFull], 450)
        let slot = r.neighbours[hostile.publicKey]!.slot
        XCTAssertFalse(r.backlog.holds(slot: slot, origin: origin(fakes[0])), "the flood's oldest update still waits")
        XCTAssertFalse(r.backlog.holds(slot: slot, origin: origin(fakes[449])))
        XCTAssertTrue(r.backlog.holds(slot: slot, origin: origin(fakes[450])), "the flood's newest update was given up")
        XCTAssertTrue(r.backlog.holds(slot: slot, origin: origin(fakes[499])))
        send([update(honest, seqno: 1)], from: honest, to: r)
        r.tick(now: t0)
        XCTAssertEqual(r.nextHop(to: honest.publicKey), honest.publicKey, "the honest newcomer waited behind the flood")
        XCTAssertEqual(r.unverifiedUpdates(from: hostile.publicKey), 47)
    }

    /// Within one neighbour, a new seqno of an origin the router holds is checked before
    /// updates that would add origins: fake origins queued first do not delay it.
    func testKnownOriginsAreCheckedBeforeNewOnes() throws {
        var config = RouterConfig()
        config.verificationsPerTurn = 1
        let r = router(config)
        let origin = RouterHarness.identity(9)
        send([update(origin, seqno: 1)], from: honest, to: r)
        r.tick(now: t0)
        XCTAssertEqual(r.nextHop(to: origin.publicKey), honest.publicKey)
        send(fakeOrigins(50, seed: 5) + [update(origin, seqno: 2)], from: honest, to: r)
        r.tick(now: t0)
        let route = try XCTUnwrap(r.routes().first { $0.origin == origin.publicKey })
        XCTAssertEqual(route.seqno, 2, "the known origin's new seqno waited behind new origins")
        XCTAssertEqual(r.unverifiedUpdates(from: honest.publicKey), 50)
    }

    /// A repeated update for an origin already waiting replaces it rather than growing the
    /// backlog, and a neighbour going down takes its backlog with it.
    func testRepeatsReplaceAndANeighbourDownClearsItsBacklog() {
        let r = router(RouterConfig())
        let fakes = fakeOrigins(20, seed: 6)
        send(fakes, from: hostile, to: r)
        send(fakes, from: hostile, to: r)
        XCTAssertEqual(r.unverifiedUpdates(from: hostile.publicKey), 20)
        r.neighbourDown(hostile.publicKey, now: t0)
        XCTAssertFalse(r.hasUnverifiedUpdates)
        XCTAssertEqual(r.stats.verificationBacklog, 0)
        r.tick(now: t0)
        XCTAssertEqual(r.stats.signaturesVerified, 0)
    }
}
