import XCTest
import PlanetCore
@testable import PlanetLink
import PlanetTesting

/// The retry schedule of handshake inits: a first contact retries fast (0.5 s doubling to 5 s,
/// jittered) because its peer is most often just not listening yet; rekeys of an established
/// link keep the fixed 5 s. Times are the test network's clock, never the wall clock.
final class DialScheduleTests: XCTestCase {
    let initType = LinkFrameType.handshakeInit.rawValue

    /// Records the clock at every init a node sends (delivered or not).
    func recordInits(_ net: TestNetwork, from endpoint: Endpoint) -> () -> [Double] {
        var times: [Double] = []
        let start = net.now
        let previous = net.filter
        net.filter = { [unowned net] d in
            if d.from == endpoint, d.bytes.first == self.initType { times.append(net.now.seconds(since: start)) }
            return previous.map { $0(d) } ?? d.bytes
        }
        return { times }
    }

    func gaps(_ times: [Double]) -> [Double] { zip(times.dropFirst(), times).map { $0 - $1 } }

    func testUnansweredDialRetriesAtHalfASecondDoublingToFiveSeconds() {
        let net = TestNetwork()
        let epA = Endpoint(ipv4: 10, 0, 0, 1, port: 7001)
        let a = net.add(.generate(), at: epA)
        let inits = recordInits(net, from: epA)
        a.addPeer(uri: PeerURI(host: "10.9.9.9", port: 1), now: net.now)   // nobody there
        net.advance(by: 120)
        let g = gaps(inits())
        XCTAssertGreaterThan(g.count, 10)
        // Each first-contact delay is its base ±20 %.
        XCTAssertEqual(g[0], 0.5, accuracy: 0.1)
        XCTAssertEqual(g[1], 1.0, accuracy: 0.2)
        XCTAssertEqual(g[2], 2.0, accuracy: 0.4)
        // The fourth init waits 4 s (±20 %), then the dial round fails and backs off 1 s (±20 %).
        XCTAssertEqual(g[3], 5.0, accuracy: 1.6)
        // From then on the pace is no faster than the old fixed 5 s: a dead host is not hammered.
        for (i, gap) in g.enumerated().dropFirst(4) {
            XCTAssertGreaterThanOrEqual(gap, 4.0 - 1e-9, "gap \(i)")
            XCTAssertLessThanOrEqual(gap, LinkConstants.redialMaximum * 1.2 + LinkConstants.handshakeRetryAfter, "gap \(i)")
        }
        XCTAssertEqual(a.snapshot(now: net.now).count, 1)
        XCTAssertLessThanOrEqual(a.tableSizes.initiations, 1)
    }

    func testPeerThatStartsLateIsLinkedWithinTheNextFastRetry() {
        let idB = NodeIdentity.generate()
        let epA = Endpoint(ipv4: 10, 0, 0, 1, port: 7001)
        let epB = Endpoint(ipv4: 10, 0, 0, 2, port: 7002)
        let uriB = PeerURI(host: "10.0.0.2", port: 7002, pinnedKey: idB.publicKey)
        // b starts this long after a began dialing it; before that a's inits go nowhere.
        for late in [0.1, 0.3, 0.6, 0.9, 1.3] {
            let net = TestNetwork()
            let a = net.add(.generate(), at: epA)
            a.addPeer(uri: uriB, now: net.now)
            net.advance(by: late)
            XCTAssertFalse(a.isUp(idB.publicKey))
            let b = net.add(idB, at: epB)
            var waited = 0.0
            while !a.isUp(idB.publicKey), waited < 10 {
                net.advance(by: 0.01)
                waited += 0.01
            }
            XCTAssertTrue(a.isUp(idB.publicKey) && b.isUp(a.identity.publicKey), "b started after \(late) s")
            // Within 1.5 s of b listening the next fast retry has reached it (the old fixed
            // schedule left it waiting up to 5 s).
            XCTAssertLessThanOrEqual(waited, 1.5, "b started after \(late) s")
        }
    }

    /// A line of four, each node dialing its right-hand neighbour (as the testbed does), started
    /// in every order with 0.25 s between starts: all three links are up within 1.5 s of the
    /// last start.
    func testLineOfFourInAnyStartOrderLinksSoonAfterTheLastStart() {
        let ids = (0..<4).map { _ in NodeIdentity.generate() }
        let eps = (0..<4).map { Endpoint(ipv4: 10, 0, 1, UInt8($0 + 1), port: 8470) }
        let uris = (0..<4).map { PeerURI(host: "10.0.1.\($0 + 1)", port: 8470, pinnedKey: ids[$0].publicKey) }
        var worst = 0.0
        for order in permutations([0, 1, 2, 3]) {
            let net = TestNetwork()
            var nodes: [Int: LinkLayer] = [:]
            for (k, i) in order.enumerated() {
                if k > 0 { net.advance(by: 0.25) }
                let node = net.add(ids[i], at: eps[i])
                if i < 3 { node.addPeer(uri: uris[i + 1], now: net.now) }
                nodes[i] = node
            }
            func allUp() -> Bool {
                (0..<3).allSatisfy { nodes[$0]!.isUp(ids[$0 + 1].publicKey) && nodes[$0 + 1]!.isUp(ids[$0].publicKey) }
            }
            var waited = 0.0
            net.pump()
            while !allUp(), waited < 20 {
                net.advance(by: 0.01)
                waited += 0.01
            }
            XCTAssertTrue(allUp(), "start order \(order)")
            XCTAssertLessThanOrEqual(waited, 1.5, "start order \(order)")
            worst = max(worst, waited)
        }
        XCTAssertGreaterThan(worst, 0, "some order must have had to wait for a retry, or the test proves nothing")
    }

    /// A peer that is up but slow to answer (still starting) answers the first init after the
    /// retry went out: that late msg2 completes the link instead of arriving stale.
    func testLateAnswerToAnEarlierInitStillLinks() {
        let (net, a, b, held) = pairHoldingAnswers()
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.advance(by: 0.8)   // past the first retry (0.5 s ± 20 %), before the second
        XCTAssertEqual(held.answers.count, 2, "b answered the first init and its retry")
        XCTAssertFalse(a.isUp(b.identity.publicKey))
        net.filter = nil
        net.deliver(held.answers[0])   // the answer to the first init, late
        net.pump()
        XCTAssertTrue(a.isUp(b.identity.publicKey) && b.isUp(a.identity.publicKey))
        XCTAssertEqual(a.stats[.staleResponse], 0)
        // The retry's own answer, later still, is harmless: one link, and it carries frames.
        net.deliver(held.answers[1])
        net.pump()
        net.advance(by: 10)
        XCTAssertEqual(net.ups(a).count, 1)
        XCTAssertTrue(a.send(frame: [0x10, 7], to: b.identity.publicKey, now: net.now))
        net.pump()
        XCTAssertEqual(net.frames(b).last, [0x10, 7])
        XCTAssertEqual(a.tableSizes.initiations, 0, "no init is left waiting once the link is up")
    }

    /// Removing a configured peer also forgets the earlier inits kept for a late msg2, so an
    /// answer arriving afterwards cannot bring back a link the admin removed.
    func testRemovedPeerIsNotLinkedByALateAnswer() {
        let (net, a, b, held) = pairHoldingAnswers()
        let uri = net.uri(of: b)
        a.addPeer(uri: uri, now: net.now)
        net.advance(by: 0.8)
        XCTAssertEqual(held.answers.count, 2)
        a.removePeer(uri: uri, now: net.now)
        XCTAssertEqual(a.tableSizes.initiations, 0)
        net.filter = nil
        for d in held.answers { net.deliver(d) }
        net.pump()
        XCTAssertFalse(a.isUp(b.identity.publicKey))
        XCTAssertEqual(a.stats[.staleResponse], 2)
    }

    func testRekeyOfEstablishedLinkKeepsFiveSecondRetries() {
        let net = TestNetwork()
        let epA = Endpoint(ipv4: 10, 0, 0, 1, port: 7001)
        let epB = Endpoint(ipv4: 10, 0, 0, 2, port: 7002)
        let a = net.add(.generate(), at: epA)
        let b = net.add(.generate(), at: epB)
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertTrue(a.isUp(b.identity.publicKey))
        // Lose every further init from a: its rekey (due at 120 s) goes unanswered.
        var inits: [Double] = []
        let start = net.now
        net.filter = { [unowned net] d in
            guard d.from == epA, d.bytes.first == self.initType else { return d.bytes }
            inits.append(net.now.seconds(since: start))
            return nil
        }
        net.advance(by: 150)
        XCTAssertTrue(a.isUp(b.identity.publicKey), "the old keys still carry the link")
        XCTAssertGreaterThanOrEqual(inits.count, 4)
        XCTAssertEqual(inits.first ?? 0, LinkConstants.rekeyAfterTime, accuracy: 1e-6)
        for gap in gaps(inits) { XCTAssertEqual(gap, LinkConstants.handshakeRetryAfter, accuracy: 1e-6) }
    }

    func permutations(_ items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i -> [[Int]] in
            var rest = items
            let head = rest.remove(at: i)
            return permutations(rest).map { [head] + $0 }
        }
    }

    /// What `pairHoldingAnswers` kept back.
    final class HeldAnswers { var answers: [TestNetwork.Datagram] = [] }

    /// Two link layers a and b whose msg2s from b are held back (in `held`) instead of delivered,
    /// so a test can hand them to a late, in any order.
    func pairHoldingAnswers() -> (TestNetwork, LinkLayer, LinkLayer, HeldAnswers) {
        let net = TestNetwork()
        let epA = Endpoint(ipv4: 10, 0, 0, 1, port: 7001)
        let epB = Endpoint(ipv4: 10, 0, 0, 2, port: 7002)
        let a = net.add(.generate(), at: epA)
        let b = net.add(.generate(), at: epB)
        let held = HeldAnswers()
        net.filter = { d in
            guard d.from == epB, d.bytes.first == LinkFrameType.handshakeResponse.rawValue else { return d.bytes }
            held.answers.append(d)
            return nil
        }
        return (net, a, b, held)
    }
}
