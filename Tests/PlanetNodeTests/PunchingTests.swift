import XCTest
import PlanetCore
import PlanetLink
@testable import PlanetNode
import PlanetTesting

/// Hole punching over the node harness: u and n are linked only to p; their session carries
/// traffic through p, they trade candidates inside it and probe each other. The harness has no
/// NAT, so a pair can be made unreachable only by cutting it (`NodeHarness.cut`), which stands
/// in for two NATs that refuse each other; NAT behaviour itself is tested in namespaces
/// (Tests/Integration/test_nat_*.sh).
final class PunchingTests: XCTestCase {
    func echo(from s: IPv6Address, to d: IPv6Address, seq: UInt16) -> [UInt8] {
        var body: [UInt8] = [ICMPv6.echoRequest, 0, 0, 0, 0x12, 0x34, UInt8(seq >> 8), UInt8(seq & 0xff)]
        body.append(contentsOf: [UInt8](repeating: 0x5a, count: 32))
        return ICMPv6.packet(from: s, to: d, icmp: body, hopLimit: 64)
    }

    /// p public; u and n each linked to p only.
    func relayed(punchU: Bool = true, punchN: Bool = true) -> NodeHarness {
        let h = NodeHarness()
        h.add("p", punch: true)
        h.add("u", peers: ["p"], punch: punchU)
        h.add("n", peers: ["p"], punch: punchN)
        h.run(seconds: 10)
        return h
    }

    /// Sends u → n one echo every `interval` for `seconds`; returns how many were sent.
    @discardableResult
    func traffic(_ h: NodeHarness, seconds: Double, interval: Double = 0.1, startSeq: Int = 0) -> Int {
        let u = h.nodes["u"]!, n = h.nodes["n"]!
        let count = Int(seconds / interval)
        for i in 0..<count {
            h.sendFromTun("u", echo(from: u.address, to: n.address, seq: UInt16(truncatingIfNeeded: startSeq + i)))
            h.run(seconds: interval)
        }
        return count
    }

    func testLinksReportWhereTheySeeEachOther() {
        let h = relayed()
        let u = h.nodes["u"]!, p = h.nodes["p"]!
        XCTAssertEqual(u.links.observedEndpoints.map(\.peer), [p.identity.publicKey])
        XCTAssertEqual(u.links.observedEndpoints.first?.endpoint, h.endpoints["u"], "p did not tell u where it sees it")
        XCTAssertEqual(p.links.observedEndpoints.count, 2)
    }

    func testTrafficOverARelayPunchesADirectLinkAndMovesOverWithoutLoss() throws {
        let h = relayed()
        let u = h.nodes["u"]!, n = h.nodes["n"]!, p = h.nodes["p"]!
        let uKey = u.identity.publicKey, nKey = n.identity.publicKey
        XCTAssertFalse(u.links.isUp(nKey))
        let sent = traffic(h, seconds: 10)
        XCTAssertTrue(u.links.isUp(nKey), "no direct link formed")
        XCTAssertTrue(u.links.isPunched(nKey) || n.links.isPunched(uKey), "the direct link is not marked punched")
        XCTAssertTrue(u.links.snapshot(now: h.now).contains { $0.publicKey == nKey && $0.punched } ||
                      n.links.snapshot(now: h.now).contains { $0.publicKey == uKey && $0.punched })
        XCTAssertEqual(u.router.route(forAddress: n.address)?.nextHop, nKey, "routing does not prefer the direct link")
        XCTAssertEqual(h.takeTun("n").count, sent, "packets were lost while traffic moved to the direct link")
        XCTAssertGreaterThanOrEqual(u.punchStats.succeeded + n.punchStats.succeeded, 1)
        XCTAssertGreaterThanOrEqual(u.links.stats.punchInitsSent + n.links.stats.punchInitsSent, 1)
        // From now on p carries none of it.
        let forwarded = p.stats.forwardedPackets
        let more = traffic(h, seconds: 3)
        XCTAssertEqual(p.stats.forwardedPackets, forwarded, "p still relays u's traffic")
        XCTAssertEqual(h.takeTun("n").count, more)
        XCTAssertEqual(u.sessionPath(nKey).path, u.links.isPunched(nKey) ? "direct-punched" : "direct")
    }

    /// A punched link that dies (a NAT forgot the mapping for good) hands the traffic back to
    /// the relay: routing falls back as for any lost link, and the session goes on.
    func testTrafficFallsBackToTheRelayWhenThePunchedLinkDies() {
        let h = relayed()
        let u = h.nodes["u"]!, n = h.nodes["n"]!, p = h.nodes["p"]!
        let nKey = n.identity.publicKey
        traffic(h, seconds: 5)
        XCTAssertTrue(u.links.isUp(nKey))
        _ = h.takeTun("n")
        h.cut.insert(["u", "n"])
        let forwarded = p.stats.forwardedPackets
        let sent = traffic(h, seconds: 15, startSeq: 1000)
        XCTAssertFalse(u.links.isUp(nKey), "the dead direct link stayed up")
        XCTAssertEqual(u.router.route(forAddress: n.address)?.nextHop, p.identity.publicKey)
        XCTAssertGreaterThan(p.stats.forwardedPackets, forwarded, "the relay carries nothing")
        // Lost: what was sent into the dead link before it was declared down (4 s of probing)
        // and the relayed route was feasible again (a seqno request's round trip: the direct
        // route had lowered the feasibility distance below the relayed metric).
        let arrived = h.takeTun("n").count
        XCTAssertGreaterThanOrEqual(arrived, sent - 60, "more than ~6 s of traffic was lost")
        XCTAssertLessThan(arrived, sent, "nothing was lost: the cut did not cut")
        let more = traffic(h, seconds: 2, startSeq: 2000)
        XCTAssertEqual(h.takeTun("n").count, more, "the relayed path loses packets")
    }

    /// A punched link kept for nothing costs keepalives and route dumps: idle for 5 min it is
    /// taken down, and the next traffic punches a new one.
    func testIdlePunchedLinkIsRetiredAndPunchedAgainOnDemand() {
        let h = relayed()
        let u = h.nodes["u"]!, n = h.nodes["n"]!
        let nKey = n.identity.publicKey
        traffic(h, seconds: 5)
        XCTAssertTrue(u.links.isUp(nKey))
        h.run(seconds: 200)
        XCTAssertTrue(u.links.isUp(nKey), "retired before the idle timeout")
        h.run(seconds: 120)
        XCTAssertFalse(u.links.isUp(nKey), "an idle punched link was kept")
        XCTAssertGreaterThanOrEqual(u.punchStats.retired + n.punchStats.retired, 1)
        XCTAssertTrue(u.links.isUp(h.nodes["p"]!.identity.publicKey), "the configured link went too")
        _ = h.takeTun("n")
        let sent = traffic(h, seconds: 5)
        XCTAssertTrue(u.links.isUp(nKey), "new traffic did not punch again")
        XCTAssertEqual(h.takeTun("n").count, sent)
    }

    /// A node with its quota of punched links punches no more: its sessions stay relayed, the
    /// refusal is counted once per backoff period, not once a second.
    func testNoMorePunchedLinksThanTheLimit() {
        let h = relayed()
        let u = h.nodes["u"]!, n = h.nodes["n"]!
        u.punching.punchedLinkLimit = 0
        n.punching.punchedLinkLimit = 0
        let sent = traffic(h, seconds: 30, interval: 0.5)
        XCTAssertEqual(h.takeTun("n").count, sent)
        XCTAssertFalse(u.links.isUp(n.identity.publicKey))
        XCTAssertEqual(u.links.stats.punchInitsSent + n.links.stats.punchInitsSent, 0)
        XCTAssertEqual(u.punchStats.offersSent + n.punchStats.offersSent, 0)
        XCTAssertGreaterThanOrEqual(u.punchStats.refusedLinkLimit, 1)
        XCTAssertLessThanOrEqual(u.punchStats.refusedLinkLimit, 2, "counted every second")
    }

    /// The limit holds against a peer that offers anyway: u, at its limit, acts on none of
    /// n's offers (it probes nothing; n's own probes reach u as inbound handshakes, which
    /// any peer may start).
    func testANodeAtItsLimitActsOnNoOffer() {
        let h = relayed()
        h.cut.insert(["u", "n"])
        let u = h.nodes["u"]!, n = h.nodes["n"]!
        u.punching.punchedLinkLimit = 0
        traffic(h, seconds: 10, interval: 0.5)
        XCTAssertGreaterThanOrEqual(n.punchStats.offersSent, 1, "n offered nothing")
        XCTAssertEqual(u.links.stats.punchInitsSent, 0, "u probed past its limit")
        XCTAssertEqual(u.punchStats.attempts, 0)
        XCTAssertGreaterThanOrEqual(u.punchStats.refusedLinkLimit, 1)
    }

    /// Two NATs that refuse each other: nothing answers, traffic stays on the relay, and the
    /// attempts back off instead of repeating every few seconds.
    func testUnreachablePairKeepsTheRelayAndBacksOff() {
        let h = relayed()
        h.cut.insert(["u", "n"])
        let u = h.nodes["u"]!, n = h.nodes["n"]!, p = h.nodes["p"]!
        let forwarded = p.stats.forwardedPackets
        let sent = traffic(h, seconds: 120, interval: 0.5)
        XCTAssertFalse(u.links.isUp(n.identity.publicKey))
        XCTAssertEqual(h.takeTun("n").count, sent, "traffic through the relay suffered")
        XCTAssertGreaterThanOrEqual(p.stats.forwardedPackets - forwarded, UInt64(sent))
        // Probe runs at ~0, ~48 s and ~128 s at the latest (20 s doubling, after an ~8 s run):
        // without backoff a 1 s check would have started dozens.
        let attempts = u.punchStats.attempts
        XCTAssertGreaterThanOrEqual(attempts, 2)
        XCTAssertLessThanOrEqual(attempts, 3)
        XCTAssertGreaterThanOrEqual(u.punchStats.failed, 2)
        XCTAssertEqual(u.punchStats.succeeded, 0)
        XCTAssertGreaterThanOrEqual(u.punching.peers[n.identity.publicKey]?.failures ?? 0, 2)
    }

    /// A peer that offers endpoints that are someone else's gets nothing: every probe is pinned
    /// to its key, so the node that answers there fails the pin and the attempt is given up.
    func testSpoofedCandidatesYieldNothing() throws {
        let h = relayed(punchN: false)
        h.cut.insert(["u", "n"])
        let u = h.nodes["u"]!, n = h.nodes["n"]!
        traffic(h, seconds: 3)
        h.run(seconds: 1)
        XCTAssertGreaterThanOrEqual(u.punchStats.offersSent, 1)
        XCTAssertEqual(n.punchStats.refusedDisabled, u.punchStats.offersSent, "n with punching off acted on an offer")
        let nKey = n.identity.publicKey, pKey = h.nodes["p"]!.identity.publicKey
        let lie = EndpointCandidates([.init(kind: .observed, endpoint: h.endpoints["p"]!)])
        XCTAssertTrue(n.sendControl(.endpoints, body: lie.encode(), to: u.identity.publicKey, now: h.now))
        h.collect("n")
        h.run(seconds: 10)
        XCTAssertFalse(u.links.isUp(nKey))
        XCTAssertEqual(u.links.upPeers, [pKey], "a spoofed candidate made a link")
        XCTAssertGreaterThanOrEqual(u.links.stats[.peerKeyMismatch], 1, "p's answer was not checked against n's key")
        XCTAssertEqual(u.punchStats.attempts, 1)
        XCTAssertEqual(u.punchStats.failed, 1)
        XCTAssertFalse(u.links.isPunching(nKey))
        // And a malformed offer is counted, not probed.
        XCTAssertTrue(n.sendControl(.endpoints, body: [9, 1, 2], to: u.identity.publicKey, now: h.now))
        h.collect("n")
        h.run(seconds: 1)
        XCTAssertEqual(u.punchStats.refusedMalformed, 1)
        XCTAssertEqual(u.punchStats.attempts, 1)
    }

    /// A node with an allow-list punches toward no key outside it. Its session with that key
    /// stays relayed (sessions are end to end, the allow-list governs links): the key's own
    /// probes are refused by u's responder check, and u's probes are never sent, since the
    /// outbound handshake they start would otherwise make a link the list does not allow.
    func testPunchingMakesNoLinkWithAKeyOutsideTheAllowList() {
        let h = relayed()
        let u = h.nodes["u"]!, n = h.nodes["n"]!
        let pKey = h.nodes["p"]!.identity.publicKey, nKey = n.identity.publicKey
        u.links.allowedPublicKeys = [pKey]
        let sent = traffic(h, seconds: 10)
        XCTAssertEqual(h.takeTun("n").count, sent, "the relayed session suffered")
        XCTAssertGreaterThanOrEqual(u.punchStats.offersSent + n.punchStats.offersSent, 1, "nobody tried to punch")
        XCTAssertFalse(u.links.isUp(nKey), "punching linked u to a key its allow-list refuses")
        XCTAssertEqual(u.links.upPeers, [pKey])
        XCTAssertEqual(u.links.stats.punchInitsSent, 0, "u probed a key outside its allow-list")
        XCTAssertFalse(u.links.isPunching(nKey))
        // A direct call is refused the same way.
        XCTAssertEqual(u.links.punch(nKey, candidates: [h.endpoints["n"]!], now: h.now), 0)
    }

    func testPunchingOffSendsNoOffers() {
        let h = relayed(punchU: false, punchN: false)
        let u = h.nodes["u"]!, n = h.nodes["n"]!
        let sent = traffic(h, seconds: 10)
        XCTAssertEqual(h.takeTun("n").count, sent)
        XCTAssertEqual(u.punchStats.offersSent + n.punchStats.offersSent, 0)
        XCTAssertEqual(u.links.stats.punchInitsSent + n.links.stats.punchInitsSent, 0)
        XCTAssertFalse(u.links.isUp(n.identity.publicKey))
    }

    /// Offers go only to session peers with traffic: once the traffic stops no more are sent,
    /// and when the session is gone its state is forgotten and its probes stopped.
    func testOffersStopWithTheTrafficAndStateWithTheSession() {
        let h = relayed()
        h.cut.insert(["u", "n"])
        let u = h.nodes["u"]!, n = h.nodes["n"]!
        traffic(h, seconds: 2)
        XCTAssertGreaterThanOrEqual(u.punchStats.offersSent, 1)
        h.run(seconds: 30)
        let offers = u.punchStats.offersSent
        h.run(seconds: 170)
        XCTAssertEqual(u.punchStats.offersSent, offers, "offers went on without traffic")
        // An idle session lives until its keypair expires (180 s) and then 180 s more.
        h.run(seconds: 200)
        XCTAssertNil(u.sessions.session(n.identity.publicKey), "the idle session was not removed")
        XCTAssertNil(u.punching.peers[n.identity.publicKey], "punching state outlived the session")
        XCTAssertFalse(u.links.isPunching(n.identity.publicKey))
    }

    /// The probe budget bounds how many runs a node starts, whoever asks.
    func testProbeStartsAreRateLimitedPerNode() {
        var p = Punching(enabled: true, now: Instant(seconds: 0))
        var started = 0
        for i in 0..<20 {
            let key = NodeIdentity.generate().publicKey
            if p.receivedOffer(from: key, now: Instant(seconds: Double(i) * 0.01)).probe { started += 1 }
        }
        XCTAssertEqual(started, Int(Punching.probeBurst))
        XCTAssertEqual(p.stats.refusedRateLimited, UInt64(20 - started))
        // One peer: a second offer while its run is going is refused, and answering is
        // suppressed right after our own offer (no echo of crossing offers).
        var q = Punching(enabled: true, now: Instant(seconds: 0))
        let key = NodeIdentity.generate().publicKey
        XCTAssertTrue(q.shouldOffer(to: key, now: Instant(seconds: 1)))
        q.offered(to: key, now: Instant(seconds: 1))
        let first = q.receivedOffer(from: key, now: Instant(seconds: 1.5))
        XCTAssertTrue(first.probe)
        XCTAssertFalse(first.answer, "answered an offer that crossed ours")
        XCTAssertFalse(q.receivedOffer(from: key, now: Instant(seconds: 2)).probe)
        XCTAssertEqual(q.stats.refusedBusy, 1)
        XCTAssertFalse(q.shouldOffer(to: key, now: Instant(seconds: 3)), "offered while probing")
        q.probeEnded(toward: key, linked: false, now: Instant(seconds: 9))
        XCTAssertFalse(q.shouldOffer(to: key, now: Instant(seconds: 30)), "retried before the backoff")
        XCTAssertTrue(q.shouldOffer(to: key, now: Instant(seconds: 9 + Punching.retryDelay(failures: 1))))
    }

    func testRetryDelayDoublesToItsMaximum() {
        XCTAssertEqual(Punching.retryDelay(failures: 0), 20)
        XCTAssertEqual(Punching.retryDelay(failures: 1), 40)
        XCTAssertEqual(Punching.retryDelay(failures: 3), 160)
        XCTAssertEqual(Punching.retryDelay(failures: 10), Punching.retryMaximum)
    }

    func testCandidatesCodec() throws {
        let list = EndpointCandidates([
            .init(kind: .observed, endpoint: Endpoint(ipv4: 198, 51, 100, 7, port: 40000)),
            .init(kind: .local, endpoint: Endpoint(address: IPv6Address("2001:db8::5")!, port: 8470)),
        ])
        let bytes = list.encode()
        XCTAssertEqual(bytes.count, 1 + 2 * 19)
        XCTAssertEqual(Array(bytes[0...2]), [2, 0x01, 0x00])
        XCTAssertEqual(Array(bytes[10...17]), [0, 0, 0xff, 0xff, 198, 51, 100, 7], "IPv4 is not carried v4-mapped")
        XCTAssertEqual(Array(bytes[18...19]), [0x9c, 0x40])
        XCTAssertEqual(EndpointCandidates.decode(bytes[...]), list)
        var badKind = bytes; badKind[1] = 9
        var portZero = bytes; portZero[18] = 0; portZero[19] = 0
        var countTooHigh = bytes; countTooHigh[0] = 3
        for bad in [[], [0], Array(bytes.dropLast()), badKind, portZero, countTooHigh, [9] + [UInt8](repeating: 1, count: 9 * 19)] {
            XCTAssertNil(EndpointCandidates.decode(bad[...]), "\(bad.prefix(4)) decoded")
        }
        XCTAssertEqual(EndpointCandidates(Array(repeating: list.candidates[0], count: 12)).candidates.count, EndpointCandidates.maxCount)
    }

    /// A peer names the addresses we probe, so it must not aim them at this host, at many
    /// hosts, or into the overlay.
    func testCandidatesAimedAtUsOrEveryoneAreNotProbed() {
        let refused: [Endpoint] = [
            Endpoint(ipv4: 127, 0, 0, 1, port: 53), Endpoint(ipv4: 0, 0, 0, 0, port: 1), Endpoint(ipv4: 224, 0, 0, 251, port: 5353),
            Endpoint(ipv4: 255, 255, 255, 255, port: 8470), Endpoint(ipv4: 169, 254, 1, 1, port: 8470),
            Endpoint(address: IPv6Address("::1")!, port: 8470), Endpoint(address: IPv6Address("ff02::1")!, port: 8470),
            Endpoint(address: IPv6Address("fe80::1")!, port: 8470), Endpoint(address: IPv6Address("200:1234::1")!, port: 8470),
            Endpoint(address: IPv6Address("300:1234::1")!, port: 8470), Endpoint(ipv4: 198, 51, 100, 7, port: 0),
        ]
        for e in refused { XCTAssertFalse(EndpointCandidates.isProbeable(e), "\(e) would be probed") }
        for e in [Endpoint(ipv4: 198, 51, 100, 7, port: 8470), Endpoint(ipv4: 10, 1, 0, 2, port: 8470),
                  Endpoint(address: IPv6Address("2001:db8::5")!, port: 8470)] {
            XCTAssertTrue(EndpointCandidates.isProbeable(e), "\(e) would not be probed")
        }
        // Over a session: an offer of only such endpoints starts no probe at all.
        let h = relayed(punchN: false)
        h.cut.insert(["u", "n"])
        let u = h.nodes["u"]!, n = h.nodes["n"]!
        traffic(h, seconds: 3)
        let sentBefore = u.links.stats.punchInitsSent
        let offer = EndpointCandidates(refused.filter { $0.port != 0 }.prefix(8).map { .init(kind: .observed, endpoint: $0) })
        XCTAssertTrue(n.sendControl(.endpoints, body: offer.encode(), to: u.identity.publicKey, now: h.now))
        h.collect("n")
        h.run(seconds: 1)
        XCTAssertEqual(u.punchStats.candidatesRefused, 8)
        XCTAssertEqual(u.links.stats.punchInitsSent, sentBefore, "a probe went to a refused candidate")
        XCTAssertEqual(u.punchStats.refusedBusy, 0)
    }

    func testMappingKindFromObservedEndpoints() {
        let pub1 = Endpoint(ipv4: 198, 51, 100, 7, port: 40000), pub2 = Endpoint(ipv4: 198, 51, 100, 7, port: 51234)
        let lan = Endpoint(ipv4: 192, 168, 1, 5, port: 8470)
        XCTAssertEqual(NATMapping(observed: [], local: [lan]), .unknown)
        XCTAssertEqual(NATMapping(observed: [lan, lan], local: [lan]), .none)
        XCTAssertEqual(NATMapping(observed: [pub1], local: [lan]), .unknownKind)
        XCTAssertEqual(NATMapping(observed: [pub1, pub1, lan], local: [lan]), .endpointIndependent)
        XCTAssertEqual(NATMapping(observed: [pub1, pub2], local: [lan]), .symmetric)
        // One IPv4 and one IPv6 observation are two paths, not a symmetric NAT.
        let v6 = Endpoint(address: IPv6Address("2001:db8::5")!, port: 8470)
        XCTAssertEqual(NATMapping(observed: [pub1, pub1, v6], local: [lan]), .endpointIndependent)
    }

    /// Two stubs behind one hub punch a direct link like any other pair, and then use it: a
    /// stub routes to a linked neighbour directly (issue #25: "direct links made later are used
    /// as routes to those neighbours"), so the hub stops relaying their traffic.
    func testTwoStubsPunchADirectLinkAndTheHubStopsRelaying() throws {
        var stub = RoutingConfig(); stub.stub = .on
        let h = NodeHarness()
        h.add("p", punch: true)
        h.add("u", peers: ["p"], punch: true, routing: stub)
        h.add("n", peers: ["p"], punch: true, routing: stub)
        h.run(seconds: 10)
        let u = h.nodes["u"]!, n = h.nodes["n"]!, p = h.nodes["p"]!
        let nKey = n.identity.publicKey
        XCTAssertTrue(u.router.isStub && n.router.isStub)
        XCTAssertFalse(u.links.isUp(nKey))
        let sent = traffic(h, seconds: 10)
        XCTAssertTrue(u.links.isUp(nKey), "no direct link formed between the stubs")
        XCTAssertEqual(u.router.route(forAddress: n.address)?.nextHop, nKey, "the stub does not route over its direct link")
        XCTAssertEqual(h.takeTun("n").count, sent, "packets were lost while traffic moved to the direct link")
        let forwarded = p.stats.forwardedPackets
        let more = traffic(h, seconds: 3, startSeq: sent)
        XCTAssertEqual(p.stats.forwardedPackets, forwarded, "the hub still relays the stubs' traffic")
        XCTAssertEqual(h.takeTun("n").count, more)
        // A stub keeps no table for it: the direct neighbour is a link, not an origin.
        XCTAssertEqual(u.router.originCount, 0)
    }
}
