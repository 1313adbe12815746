import XCTest
import PlanetCore
@testable import PlanetRouting
import PlanetTesting

/// Stub nodes (Router+Stub.swift): a router with `config.stub` keeps no table, resolves
/// destinations through its upstream and checks each origin's signature itself.
final class StubTests: XCTestCase {
    static var stubConfig: RouterConfig { var c = RouterConfig(); c.stub = true; return c }

    /// Routers 0..<count-1 in a ring with chords; the last one is made a stub (not linked yet).
    func network(_ count: Int) -> RouterHarness {
        let h = RouterHarness(count: count)
        let s = count - 1
        h.routers[s] = Router(identity: RouterHarness.identity(s), config: StubTests.stubConfig, origins: OriginDirectory(),
                              now: h.now, random: SplitMix64(seed: 99))
        for i in 0..<(s - 1) { h.connect(i, i + 1) }
        h.connect(s - 1, 0)
        if s > 4 { for i in stride(from: 0, to: s - 2, by: 3) { h.connect(i, i + 2) } }
        h.pump()
        return h
    }

    /// The kinds of the TLVs in a routing message.
    func kinds(_ m: [UInt8]) -> [RoutingTLV] {
        var unknown = 0
        guard case .success(let tlvs) = RoutingMessage.decode(m, unknown: &unknown) else { return [] }
        return tlvs
    }

    func message(_ tlvs: [RoutingTLV]) -> [UInt8] {
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        for t in tlvs { t.encode(into: &w) }
        return w.bytes
    }

    func testStubResolvesThroughItsUpstreamAndIsReached() {
        let h = network(7)
        let s = 6
        h.connect(s, 1)
        h.pump()
        let stub = h.routers[s]
        // Everyone reaches the stub, through its upstream.
        for i in 0..<s { XCTAssertNotNil(h.routers[i].nextHop(to: h.key(s)), "router \(i)") }
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(s)), h.key(1))
        // The stub holds no table: its neighbour is one hop away, the rest unknown until asked.
        XCTAssertEqual(stub.originCount, 0)
        XCTAssertEqual(stub.stubUpstream, h.key(1))
        XCTAssertEqual(stub.route(forAddress: h.key(1).address)?.nextHop, h.key(1))
        let far = h.key(3).address
        XCTAssertNil(stub.route(forAddress: far))
        stub.resolve(far, now: h.now)
        h.pump()
        XCTAssertEqual(stub.drainResolutions(), [.resolved(far, h.key(3))])
        XCTAssertEqual(stub.route(forAddress: far)?.destination, h.key(3))
        XCTAssertEqual(stub.route(forAddress: far)?.nextHop, h.key(1))
        // The origin's /64 is the same origin, already resolved: no second query.
        let inSubnet = IPv6Address(high: OverlayAddress.subnet(for: h.key(3)).address.high, low: 7)
        XCTAssertEqual(stub.route(forAddress: inSubnet)?.destination, h.key(3))
        XCTAssertEqual(stub.stats.originQueriesSent, 1)
        XCTAssertEqual(stub.stats.originsResolved, 1)
        // An address nobody owns is answered "unknown", and routes nowhere.
        let nobody = RouterHarness.identity(50).publicKey.address
        stub.resolve(nobody, now: h.now)
        h.pump()
        XCTAssertEqual(stub.drainResolutions(), [.unresolved(nobody)])
        XCTAssertNil(stub.route(forAddress: nobody))
        XCTAssertEqual(stub.originCount, 0)
    }

    /// The security check: an answer whose signature does not verify is refused (and the
    /// query stays out, to be retried); without the check the stub would route to a forged key.
    func testStubRefusesAnOriginWhoseSignatureDoesNotVerify() {
        let h = network(5)
        let s = 4
        h.connect(s, 1)
        h.pump()
        let stub = h.routers[s]
        let far = h.key(3).address
        stub.resolve(far, now: h.now)
        var forged = 0
        h.pump { from, to, m in
            guard from == 1, to == s else { return m }
            let tlvs = self.kinds(m).map { t -> RoutingTLV in
                guard case let .originAnswer(o, seq, f, sig) = t else { return t }
                forged += 1
                var bad = sig; bad[5] ^= 0x40
                return .originAnswer(origin: o, seqno: seq, flags: f, signature: bad)
            }
            return self.message(tlvs)
        }
        XCTAssertEqual(forged, 1)
        XCTAssertEqual(stub.stats.drops[.badSignature], 1)
        XCTAssertEqual(stub.drainResolutions(), [])
        XCTAssertNil(stub.route(forAddress: far))
        // An answer for another origin than the one asked about (validly signed) is refused too.
        let other = h.routers[2]
        let wrong = message([.originAnswer(origin: other.identity.publicKey, seqno: other.selfSeqno, flags: 0, signature: other.selfSignature)])
        stub.receive(wrong, from: h.key(1), now: h.now)
        XCTAssertEqual(stub.stats.drops[.unsolicitedAnswer], 1)
        XCTAssertNil(stub.route(forAddress: other.identity.address))
        // The retry gets the genuine answer.
        h.advance(1.5)
        XCTAssertEqual(stub.drainResolutions(), [.resolved(far, h.key(3))])
        XCTAssertEqual(stub.route(forAddress: far)?.destination, h.key(3))
    }

    func testStubFailsOverToItsSecondPeer() {
        let h = network(6)
        let s = 5
        let stub = h.routers[s]
        stub.setUpstreamPreference([h.key(1), h.key(3)], now: h.now)
        h.connect(s, 3)
        h.connect(s, 1)
        h.pump()
        XCTAssertEqual(stub.stubUpstream, h.key(1))
        let far = h.key(2).address
        stub.resolve(far, now: h.now)
        h.pump()
        XCTAssertEqual(stub.route(forAddress: far)?.nextHop, h.key(1))
        // A query out when the first upstream dies goes to the second.
        let other = h.key(4).address
        stub.resolve(other, now: h.now)
        h.disconnect(s, 1)
        h.pump()
        XCTAssertEqual(stub.stubUpstream, h.key(3))
        XCTAssertEqual(stub.drainResolutions(), [.resolved(far, h.key(2)), .resolved(other, h.key(4))])
        XCTAssertEqual(stub.route(forAddress: far)?.nextHop, h.key(3))
        XCTAssertEqual(stub.route(forAddress: other)?.nextHop, h.key(3))
        // And the network reaches the stub through the second upstream only.
        h.advance(5)
        for i in 0..<s where i != 3 { XCTAssertNotEqual(h.routers[i].nextHop(to: h.key(s)), h.key(s), "router \(i)") }
        XCTAssertEqual(h.routers[0].nextHop(to: h.key(s)) != nil, true)
        XCTAssertEqual(h.routers[3].nextHop(to: h.key(s)), h.key(s))
        XCTAssertNil(h.routers[1].routes().first { $0.origin == h.key(s) }?.candidates.first { $0.neighbour == h.key(s) })
    }

    /// A stub relays nothing: its upstream refuses a route for anyone else from it (else a stub
    /// could pull traffic for others through itself), and sends it no table, ever after the hello.
    func testUpstreamSendsAStubOnlyAnswersAndTakesOnlyItsOwnRoute() {
        let h = network(6)
        let s = 5
        h.connect(s, 1)
        h.pump()
        // Route changes elsewhere, summaries and dumps: none reaches the stub.
        var toStub: [RoutingTLV] = []
        let record: (Int, Int, [UInt8]) -> [UInt8]? = { from, to, m in
            if to == s { toStub += self.kinds(m) }
            return m
        }
        h.disconnect(2, 3)
        h.pump(intercept: record)
        h.connect(2, 3)
        h.pump(intercept: record)
        for _ in 0..<20 {
            h.now = h.now.adding(seconds: 30)
            for r in h.routers { r.tick(now: h.now) }
            h.pump(intercept: record)
        }
        // Only requests about the stub's own route (a seqno request when its route was lost
        // somewhere) may reach it: nothing about anyone else.
        let aboutOthers = toStub.filter { t in
            switch t {
            case .seqnoRequest(let o, _, _), .routeRequest(let o?): return o != h.key(s)
            default: return true
            }
        }
        XCTAssertEqual(aboutOthers, [], "the upstream sent the stub \(aboutOthers.count) TLVs about others")
        // A route for another origin, genuinely signed, coming from the stub: refused.
        let third = h.routers[3]
        let relayed = message([.update(origin: third.identity.publicKey, seqno: third.selfSeqno, flags: 0, metric: 1,
                                       signature: third.selfSignature)])
        h.routers[1].receive(relayed, from: h.key(s), now: h.now)
        XCTAssertEqual(h.routers[1].stats.drops[.stubRelay], 1)
        XCTAssertNil(h.routers[1].routes().first { $0.origin == third.identity.publicKey }?.candidates.first { $0.neighbour == h.key(s) })
    }

    /// Issue #25's targets: a stub's routing memory does not grow with the network, and its
    /// steady control traffic (both directions of its link) stays under 100 B/s.
    func testStubMemoryIsIndependentOfNetworkSizeAndItsTrafficIsSmall() {
        var memory: [Int] = []
        for size in [6, 40] {
            let h = network(size)
            let s = size - 1
            h.connect(s, 1)
            h.pump()
            h.advance(120)
            var bytes = 0
            h.advance(0)
            let start = h.now
            let record: (Int, Int, [UInt8]) -> [UInt8]? = { from, to, m in
                if from == s || to == s { bytes += m.count + 1 }
                return m
            }
            while h.now.seconds(since: start) < 1200 {
                h.now = h.now.adding(seconds: 1)
                for r in h.routers { r.tick(now: h.now) }
                h.pump(intercept: record)
            }
            XCTAssertEqual(h.routers[s].originCount, 0)
            XCTAssertLessThan(Double(bytes) / 1200, 100, "\(size) nodes: \(bytes) bytes in 1,200 s")
            print("stub steady control traffic, \(size) nodes: \(bytes) B in 1,200 s; memory \(h.routers[s].estimatedMemoryBytes + h.routers[s].stubMemoryBytes) B")
            // And the network still reaches it (its own route stays alive without a table).
            XCTAssertNotNil(h.routers[0].nextHop(to: h.key(s)))
            memory.append(h.routers[s].estimatedMemoryBytes + h.routers[s].stubMemoryBytes)
        }
        XCTAssertEqual(memory[0], memory[1])
    }

    func testStubTLVsRoundTripAndMalformedOnesDropTheMessage() {
        let key = RouterHarness.identity(3).publicKey
        let tlvs: [RoutingTLV] = [.stubHello, .originQuery(address: key.address),
                                  .originAnswer(origin: key, seqno: 7, flags: 0, signature: [UInt8](repeating: 9, count: 64)),
                                  .originUnknown(address: key.address)]
        let m = message(tlvs)
        XCTAssertEqual(m.count, 1 + tlvs.map(\.encodedSize).reduce(0, +))
        var unknown = 0
        XCTAssertEqual(try RoutingMessage.decode(m, unknown: &unknown).get(), tlvs)
        XCTAssertEqual(unknown, 0)
        // Each of the new types with a wrong length drops the whole message (counted), and
        // nothing of it takes effect: a query in front of the bad TLV gets no answer.
        let h = network(4)
        h.connect(3, 1)
        h.pump()
        let upstream = h.routers[1]
        for (type, length) in [(0x09, 1), (0x0A, 15), (0x0A, 17), (0x0B, 100), (0x0C, 0)] as [(UInt8, Int)] {
            var bad = message([.originQuery(address: h.key(2).address)])
            bad += [type, UInt8(length)] + [UInt8](repeating: 0, count: length)
            let before = upstream.stats.drops[.malformed]
            upstream.receive(bad, from: h.key(3), now: h.now)
            XCTAssertEqual(upstream.stats.drops[.malformed], before + 1, "type \(type) length \(length)")
        }
        XCTAssertEqual(upstream.stats.originQueriesAnswered, 0)
        // An older router skips them as unknown (here: counted unknown by type, the message kept).
        var old = message([.routeRequest(origin: nil)])
        old += [0x0D, 0]
        upstream.receive(old, from: h.key(3), now: h.now)
        XCTAssertEqual(upstream.stats.drops[.unknownTLV], 1)
    }

    /// Origin queries are answered within a rate per neighbour; the rest are counted.
    func testOriginQueriesAreRateLimitedPerNeighbour() {
        var c = RouterConfig()
        c.originQueryBurst = 10
        c.originQueriesPerSecond = 1
        let h = RouterHarness(count: 3, config: c)
        h.connect(0, 1); h.connect(1, 2)
        h.pump()
        let flood = message([RoutingTLV](repeating: .originQuery(address: h.key(2).address), count: 40))
        h.routers[1].receive(flood, from: h.key(0), now: h.now)
        XCTAssertEqual(h.routers[1].stats.originQueriesAnswered, 10)
        XCTAssertEqual(h.routers[1].stats.drops[.queryRateLimited], 30)
    }
}

extension StubTests {
    /// How many route updates a drain's output carries to `key`.
    func updates(_ out: [(to: PublicKey, message: [UInt8])], to key: PublicKey) -> Int {
        out.filter { $0.to == key }.reduce(0) { n, m in
            n + kinds(m.message).filter { if case .update = $0 { return true }; return false }.count
        }
    }
}

extension StubTests {
    /// A new neighbour's first dump waits until it has said what it is (Router+Due.swift): a
    /// stub, whose first message is its hello, is never sent the table; a router, whose first
    /// message is a full route request, gets it once that arrives.
    func testFirstDumpWaitsForTheNeighboursFirstMessage() {
        let h = network(6)  // routers 0…4 hold each other's routes
        let hub = h.routers[0], now = h.now
        let stubKey = NodeIdentity.generate().publicKey
        hub.neighbourUp(stubKey, cost: 10, now: now)
        XCTAssertEqual(updates(hub.drainOutgoing(), to: stubKey), 0, "nothing before it said what it is")
        hub.receive(message([.stubHello]), from: stubKey, now: now)
        XCTAssertEqual(updates(hub.drainOutgoing(), to: stubKey), 0, "a stub gets no table")

        let routerKey = NodeIdentity.generate().publicKey
        hub.neighbourUp(routerKey, cost: 10, now: now)
        XCTAssertEqual(updates(hub.drainOutgoing(), to: routerKey), 0)
        hub.receive(message([.routeRequest(origin: nil)]), from: routerKey, now: now)
        XCTAssertGreaterThanOrEqual(updates(hub.drainOutgoing(), to: routerKey), 5, "its own and the four others' routes")
    }
}

extension StubTests {
    /// Nor does a neighbour not heard yet get the changes meanwhile (its first dump will hold
    /// them): a hub whose stubs link at once does not send each new stub's route to every stub
    /// whose hello it has not read yet.
    func testNeighbourNotHeardYetGetsNoTriggeredUpdates() {
        let h = network(6)
        let hub = h.routers[0], now = h.now
        let quiet = NodeIdentity.generate().publicKey
        hub.neighbourUp(quiet, cost: 10, now: now)
        _ = hub.drainOutgoing()
        // A new origin arrives from a neighbour that was heard: everyone heard hears of it.
        let origin = NodeIdentity.generate()
        let sig = OriginSignature.sign(origin, seqno: 1, flags: 0)
        let from = RouterHarness.identity(1).publicKey
        hub.receive(message([.update(origin: origin.publicKey, seqno: 1, flags: 0, metric: 0, signature: sig)]), from: from, now: now)
        hub.verifyBacklog(now: now, budget: .max)
        let out = hub.drainOutgoing()
        XCTAssertEqual(updates(out, to: quiet), 0, "not heard yet: no triggered updates")
        XCTAssertGreaterThan(updates(out, to: RouterHarness.identity(4).publicKey), 0, "a neighbour heard from gets it")
    }
}
