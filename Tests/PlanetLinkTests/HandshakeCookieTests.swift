import XCTest
import PlanetCore
@testable import PlanetLink
import PlanetTesting

/// Return-routability cookies (Docs/protocol.md, "Cookies under load"): a flood of inits from
/// forged source addresses must not spend the budget honest peers need. Each test fails when
/// the check it names is removed.
final class HandshakeCookieTests: XCTestCase {
    let epA = Endpoint(ipv4: 10, 0, 0, 1, port: 7001)
    let epB = Endpoint(ipv4: 10, 0, 0, 2, port: 7002)

    /// A small global budget (10, so cookies are asked for below 5 tokens) keeps floods short.
    func smallBudget() -> LinkConfig {
        var config = LinkConfig()
        config.initsGlobalPerSecond = 10
        config.initBurstGlobal = 10
        return config
    }

    func forged(_ i: Int) -> Endpoint {
        // Spread over many /64s and ports, as a spoofing host would.
        Endpoint(address: IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64(i), low: UInt64(i) &* 0x9e37_79b9), port: UInt16(truncatingIfNeeded: 1024 + i))
    }

    func initDatagram(index: UInt32 = UInt32.random(in: 1...UInt32.max), cookie: [UInt8]? = nil) -> [UInt8] {
        let hs = HandshakeInitiator(local: .generate(), localIndex: index, expectedPeer: nil, domain: LinkConfig().domain)
        var out = [LinkFrameType.handshakeInit.rawValue] + hs.initMessage()
        if let cookie { out.replaceSubrange(39..<55, with: cookie) }
        return out
    }

    func transmitted(_ node: LinkLayer, type: LinkFrameType) -> [(bytes: [UInt8], to: Endpoint)] {
        node.transmits.drain().filter { $0.bytes.first == type.rawValue }
    }

    /// The scenario in memory: while forged inits arrive, an honest peer still links.
    /// Without the cookie check the flood spends the whole global budget and the honest init
    /// is refused as `rate_limited_global`.
    func testFloodFromForgedSourcesDoesNotLockOutAnHonestPeer() {
        let net = TestNetwork()
        let b = net.add(.generate(), at: epB, config: smallBudget())
        for i in 0..<2000 { b.receive(datagram: initDatagram(), from: forged(i), now: net.now) }
        let answered = transmitted(b, type: .handshakeResponse).count
        XCTAssertEqual(answered, 6, "only the budget above the load threshold goes to unproven sources")
        XCTAssertEqual(b.stats[.cookieRequired], 1994)
        XCTAssertEqual(b.stats.cookieRepliesSent, 1994)
        XCTAssertEqual(b.stats[.rateLimitedGlobal], 0)
        XCTAssertLessThanOrEqual(b.tableSizes.pendingResponders, 6, "unproven sources made the responder keep state")
        XCTAssertLessThanOrEqual(b.tableSizes.rateLimitedSources, 6, "unproven sources churned the per-source table")
        let a = net.add(.generate(), at: epA)
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertTrue(a.isUp(b.identity.publicKey), "the honest peer was locked out")
        XCTAssertEqual(a.stats.cookiesAccepted, 1)
        XCTAssertEqual(b.stats[.rateLimitedGlobal], 0)
    }

    /// A cookie proves one address and port: presented from another source it is refused and
    /// a new cookie is sent there instead of msg2.
    func testCookieIsBoundToTheSourceAddress() throws {
        let b = LinkLayer(identity: .generate(), config: smallBudget(), rng: SplitMix64(seed: 3), now: Instant(seconds: 1))
        let now = Instant(seconds: 1)
        for i in 0..<10 { b.receive(datagram: initDatagram(), from: forged(i), now: now) }
        _ = b.drainEvents()
        b.transmits.removeAll()
        let victim = forged(5000)
        b.receive(datagram: initDatagram(), from: victim, now: now)
        let replies = transmitted(b, type: .cookieReply)
        XCTAssertEqual(replies.count, 1)
        let reply = try XCTUnwrap(replies.first).bytes
        XCTAssertEqual(reply.count, HandshakeCookie.replyLength)
        XCTAssertLessThan(reply.count, 1 + HandshakeMessages.initLength, "a cookie reply must not amplify")
        let cookie = Array(reply[5..<21])
        // Another host replays the cookie it saw (or guessed) from its own address.
        b.receive(datagram: initDatagram(cookie: cookie), from: forged(5001), now: now)
        XCTAssertEqual(transmitted(b, type: .handshakeResponse).count, 0, "a cookie for another address was accepted")
        XCTAssertEqual(b.stats[.cookieInvalid], 1)
        // Same address, other port: also refused.
        b.receive(datagram: initDatagram(cookie: cookie), from: Endpoint(address: victim.address, port: victim.port &+ 1), now: now)
        XCTAssertEqual(transmitted(b, type: .handshakeResponse).count, 0, "a cookie for another port was accepted")
        // The address it was issued to gets msg2.
        b.receive(datagram: initDatagram(cookie: cookie), from: victim, now: now)
        XCTAssertEqual(transmitted(b, type: .handshakeResponse).count, 1)
    }

    /// The secret rotates: a cookie stays good for one more lifetime, then is refused.
    func testCookieExpiresWithTheSecret() throws {
        var config = smallBudget()
        config.initsGlobalPerSecond = 0.001
        let start = Instant(seconds: 1)
        let b = LinkLayer(identity: .generate(), config: config, rng: SplitMix64(seed: 4), now: start)
        for i in 0..<10 { b.receive(datagram: initDatagram(), from: forged(i), now: start) }
        _ = b.drainEvents()
        b.transmits.removeAll()
        let source = forged(77)
        b.receive(datagram: initDatagram(), from: source, now: start)
        let cookie = Array(try XCTUnwrap(transmitted(b, type: .cookieReply).first).bytes[5..<21])
        let oneRotation = start.adding(seconds: LinkConstants.cookieSecretLifetime + 1)
        b.receive(datagram: initDatagram(cookie: cookie), from: source, now: oneRotation)
        XCTAssertEqual(b.stats[.cookieInvalid], 0, "the previous secret's cookie must still be good")
        let twoRotations = oneRotation.adding(seconds: LinkConstants.cookieSecretLifetime + 1)
        b.receive(datagram: initDatagram(cookie: cookie), from: source, now: twoRotations)
        XCTAssertEqual(b.stats[.cookieInvalid], 1, "a cookie outlived two secret rotations")
    }

    /// The cookies an initiator keeps, one per endpoint it dialled, are bounded
    /// (`maxStoredCookies`): expired ones go first, then an arbitrary one. Only replies to
    /// our own inits get here, so the endpoints are ones we dial (configured peers, beacons,
    /// punching candidates a session peer named).
    func testStoredCookiesAreBounded() {
        var jar = CookieJar()
        let t0 = Instant(seconds: 1000)
        for i in 0..<(LinkConstants.maxStoredCookies + 500) {
            jar.store([UInt8](repeating: 1, count: HandshakeCookie.length), for: forged(i), now: t0)
            XCTAssertLessThanOrEqual(jar.count, LinkConstants.maxStoredCookies)
        }
        XCTAssertEqual(jar.count, LinkConstants.maxStoredCookies)
        XCTAssertNotNil(jar.cookie(for: forged(LinkConstants.maxStoredCookies + 499), now: t0), "the newest was not kept")
        // Once they have expired, a new one clears them.
        let later = t0.adding(seconds: LinkConstants.cookieLifetime + 1)
        jar.store([UInt8](repeating: 2, count: HandshakeCookie.length), for: epA, now: later)
        XCTAssertEqual(jar.count, 1)
    }

    /// Only a reply to one of our own inits gives us a cookie: a reply for an unknown index, or
    /// one whose tag does not match the init's ephemeral key, sends nothing.
    func testCookieReplyMustMatchOurInit() throws {
        let net = TestNetwork()
        let b = net.add(.generate(), at: epB, config: smallBudget())
        for i in 0..<10 { b.receive(datagram: initDatagram(), from: forged(i), now: net.now) }
        _ = b.drainEvents()
        b.transmits.removeAll()
        let a = net.add(.generate(), at: epA)
        net.holding = true
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        let aInit = try XCTUnwrap(net.held.first)
        net.held.removeAll()
        XCTAssertEqual(aInit.bytes.first, LinkFrameType.handshakeInit.rawValue)
        net.deliver(aInit)
        net.pump()
        let reply = try XCTUnwrap(net.held.first)
        net.held.removeAll()
        XCTAssertEqual(reply.bytes.first, LinkFrameType.cookieReply.rawValue)
        // Forged: right index, a cookie of the attacker's choosing, a tag it cannot compute.
        var forgedReply = reply.bytes
        forgedReply[5] ^= 1
        a.receive(datagram: forgedReply, from: epB, now: net.now)
        XCTAssertEqual(a.stats[.cookieReplyForged], 1)
        XCTAssertTrue(transmitted(a, type: .handshakeInit).isEmpty, "a forged cookie reply made the initiator resend")
        // Unknown index.
        var stale = reply.bytes
        stale[1] ^= 0xff
        a.receive(datagram: stale, from: epB, now: net.now)
        XCTAssertEqual(a.stats[.staleCookieReply], 1)
        a.receive(datagram: Array(reply.bytes.dropLast()), from: epB, now: net.now)
        XCTAssertEqual(a.stats[.cookieReplyMalformed], 1)
        // The genuine reply: one resend carrying the cookie, and a duplicate sends no more.
        a.receive(datagram: reply.bytes, from: epB, now: net.now)
        a.receive(datagram: reply.bytes, from: epB, now: net.now)
        let resent = transmitted(a, type: .handshakeInit)
        XCTAssertEqual(resent.count, 1)
        let again = try XCTUnwrap(resent.first).bytes
        XCTAssertEqual(Array(again[39..<55]), Array(reply.bytes[5..<21]))
        XCTAssertEqual(Array(again[..<39]), Array(aInit.bytes[..<39]), "the resend is the same init")
        net.holding = false
        net.deliver(TestNetwork.Datagram(bytes: again, from: epA, to: epB))
        net.pump()
        XCTAssertTrue(a.isUp(b.identity.publicKey))
    }

    /// A quiet responder does not ask for cookies and ignores the field: the transcript hashes
    /// it as zero on both sides, so an init carrying a stale cookie still links.
    func testQuietResponderIgnoresTheCookieField() {
        let b = LinkLayer(identity: .generate(), rng: SplitMix64(seed: 5), now: Instant(seconds: 1))
        b.receive(datagram: initDatagram(cookie: [UInt8](repeating: 0xab, count: 16)), from: forged(1), now: Instant(seconds: 1))
        XCTAssertEqual(transmitted(b, type: .handshakeResponse).count, 1)
        XCTAssertEqual(b.stats.cookieRepliesSent, 0)
    }

    /// Under load, garbage is not answered with a cookie (no reflection of junk).
    func testMalformedInitGetsNoCookie() {
        let now = Instant(seconds: 1)
        let b = LinkLayer(identity: .generate(), config: smallBudget(), rng: SplitMix64(seed: 6), now: now)
        for i in 0..<10 { b.receive(datagram: initDatagram(), from: forged(i), now: now) }
        _ = b.drainEvents()
        b.transmits.removeAll()
        var bad = initDatagram()
        bad[100] = 1
        b.receive(datagram: bad, from: forged(99), now: now)
        var oldVersion = initDatagram()
        oldVersion[1] = 1
        b.receive(datagram: oldVersion, from: forged(98), now: now)
        XCTAssertTrue(transmitted(b, type: .cookieReply).isEmpty)
        XCTAssertEqual(b.stats[.handshakeMalformed], 2)
    }
}
