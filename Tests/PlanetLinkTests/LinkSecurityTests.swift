import XCTest
import PlanetCore
import PlanetLink
import PlanetTesting

/// Checks of the link layer that no other test proves: remove one and its test here fails
/// (Docs/security.md lists every check and its test). Everything goes through
/// `LinkLayer.receive` and the events it emits.
final class LinkSecurityTests: XCTestCase {
    let epA = Endpoint(ipv4: 10, 0, 0, 1, port: 7001)
    let epB = Endpoint(ipv4: 10, 0, 0, 2, port: 7002)
    let epC = Endpoint(ipv4: 10, 0, 0, 3, port: 7003)

    /// An identity that claims `victim`'s public key but holds another secret key: it can run
    /// every step of a handshake except a signature that verifies under the key it claims.
    func impersonating(_ victim: NodeIdentity) -> NodeIdentity {
        NodeIdentity(secretKey: Sodium.signKeypair().secret, publicKey: victim.publicKey)
    }

    func initDatagram() -> [UInt8] {
        let hs = HandshakeInitiator(local: .generate(), localIndex: UInt32.random(in: 1...UInt32.max), expectedPeer: nil,
                                    domain: LinkConfig().domain)
        return [LinkFrameType.handshakeInit.rawValue] + hs.initMessage()
    }

    func responses(_ node: LinkLayer) -> Int {
        node.transmits.drain().filter { $0.bytes.first == LinkFrameType.handshakeResponse.rawValue }.count
    }

    // MARK: Identity

    /// The initiator checks the responder's signature: an impostor at the pinned peer's
    /// endpoint, claiming the pinned key, completes nothing.
    func testResponderClaimingAKeyItCannotSignForIsRefused() {
        let net = TestNetwork()
        let b = NodeIdentity.generate()
        let a = net.add(.generate(), at: epA)
        net.add(impersonating(b), at: epB)
        a.addPeer(uri: PeerURI(host: "10.0.0.2", port: 7002, pinnedKey: b.publicKey), now: net.now)
        net.pump()
        XCTAssertFalse(a.isUp(b.publicKey))
        XCTAssertEqual(a.stats.handshakesCompleted, 0)
        XCTAssertGreaterThan(a.stats[.handshakeAuthFailed], 0)
    }

    /// The responder checks the initiator's signature: an impostor claiming an allowed key is
    /// refused, so `allowedPublicKeys` can't be passed by naming an allowed key.
    func testInitiatorClaimingAKeyItCannotSignForIsRefused() {
        let net = TestNetwork()
        let a = NodeIdentity.generate()
        var config = LinkConfig()
        config.allowedPublicKeys = [a.publicKey]
        let b = net.add(.generate(), at: epB, config: config)
        let impostor = net.add(impersonating(a), at: epA)
        impostor.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertFalse(b.isUp(a.publicKey))
        XCTAssertEqual(b.stats.handshakesCompleted, 0)
        XCTAssertGreaterThan(b.stats[.handshakeAuthFailed], 0)
        // The genuine key is let in.
        let genuine = net.add(a, at: epC)
        genuine.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertTrue(b.isUp(a.publicKey))
    }

    // MARK: Roaming

    /// A peer's endpoint moves only when an authentic, fresh frame arrives from the new one:
    /// a replayed or forged frame from elsewhere leaves it where it is.
    func testRoamingFollowsOnlyAuthenticFreshFrames() {
        let net = TestNetwork()
        let a = net.add(.generate(), at: epA)
        let b = net.add(.generate(), at: epB)
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        let keyA = a.identity.publicKey
        XCTAssertTrue(b.isUp(keyA))
        net.holding = true
        XCTAssertTrue(a.send(frame: [0x10, 1, 2, 3], to: b.identity.publicKey, now: net.now))
        net.pump()
        net.holding = false
        let genuine = net.held.removeFirst()
        net.deliver(genuine)
        XCTAssertEqual(b.endpoint(of: keyA), epA)
        // Replayed from another endpoint (an attacker who copied it off the wire).
        b.receive(datagram: genuine.bytes, from: epC, now: net.now)
        XCTAssertEqual(b.stats[.replayed], 1)
        XCTAssertEqual(b.endpoint(of: keyA), epA, "a replayed frame moved the peer")
        // Forged: a fresh counter and the right index, but no valid tag.
        var forged = genuine.bytes
        forged[12] &+= 1
        b.receive(datagram: forged, from: epC, now: net.now)
        XCTAssertEqual(b.stats[.authenticationFailed], 1)
        XCTAssertEqual(b.endpoint(of: keyA), epA, "a forged frame moved the peer")
        // The peer really moves: its next frame comes from the new endpoint.
        net.place(a, at: epC)
        XCTAssertTrue(a.send(frame: [0x10, 4], to: b.identity.publicKey, now: net.now))
        net.pump()
        XCTAssertEqual(b.endpoint(of: keyA), epC)
    }

    // MARK: Handshake floods

    /// Each answered init costs an X25519 and a signature: one source address gets a burst
    /// of 8, and the others are still answered.
    func testInitsArePerSourceRateLimited() {
        let net = TestNetwork()
        let b = net.add(.generate(), at: epB)
        let flooder = Endpoint(ipv4: 192, 168, 1, 1, port: 1)
        for port in 0..<20 {
            b.receive(datagram: initDatagram(), from: Endpoint(address: flooder.address, port: UInt16(1000 + port)), now: net.now)
        }
        XCTAssertEqual(responses(b), 8)
        XCTAssertEqual(b.stats[.rateLimitedSource], 12)
        b.receive(datagram: initDatagram(), from: epC, now: net.now)
        XCTAssertEqual(responses(b), 1, "another source must still be answered")
    }

    /// Together, all sources get a global budget (here 10), however many addresses they use,
    /// even when each proves its address with a cookie (HandshakeCookieTests covers the rest).
    func testInitsAreGloballyRateLimited() {
        let net = TestNetwork()
        var config = LinkConfig()
        config.initsGlobalPerSecond = 10
        config.initBurstGlobal = 10
        let b = net.add(.generate(), at: epB, config: config)
        var cookies: [(Endpoint, [UInt8])] = []
        for i in 0..<30 {
            let source = Endpoint(ipv4: 192, 168, 2, UInt8(i), port: 1)
            b.receive(datagram: initDatagram(), from: source, now: net.now)
        }
        var answered = 0
        for (bytes, to) in b.transmits.drain() {
            if bytes.first == LinkFrameType.handshakeResponse.rawValue { answered += 1 }
            if bytes.first == LinkFrameType.cookieReply.rawValue { cookies.append((to, Array(bytes[5..<21]))) }
        }
        // Above half the budget inits are answered at once; below it they are asked for cookies.
        XCTAssertEqual(answered, 6)
        XCTAssertEqual(cookies.count, 24)
        for (source, cookie) in cookies {
            var datagram = initDatagram()
            datagram.replaceSubrange(39..<55, with: cookie)
            b.receive(datagram: datagram, from: source, now: net.now)
        }
        XCTAssertEqual(answered + responses(b), 10)
        XCTAssertEqual(b.stats[.rateLimitedGlobal], 20)
    }

    /// Links are bounded: past `maxPeers`, a completed inbound handshake makes no link.
    func testPeerTableIsBounded() {
        let net = TestNetwork()
        var config = LinkConfig()
        config.maxPeers = 1
        let b = net.add(.generate(), at: epB, config: config)
        let a = net.add(.generate(), at: epA)
        let c = net.add(.generate(), at: epC)
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        c.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertTrue(b.isUp(a.identity.publicKey))
        XCTAssertFalse(b.isUp(c.identity.publicKey))
        XCTAssertEqual(b.tableSizes.peers, 1)
        XCTAssertGreaterThan(b.stats[.peerLimit], 0)
    }

    /// Hole punching starts handshakes toward endpoints a session peer names: toward at most
    /// `maxConcurrentPunches` keys at once, each at most `maxPunchCandidates` endpoints.
    func testPunchingIsBounded() {
        let net = TestNetwork()
        let b = net.add(.generate(), at: epB)
        let candidates = (0..<10).map { Endpoint(ipv4: 10, 0, 2, UInt8($0), port: 7000) }
        let started = (0..<20).map { _ in b.punch(NodeIdentity.generate().publicKey, candidates: candidates, now: net.now) }
        XCTAssertEqual(started, Array(repeating: LinkConstants.maxPunchCandidates, count: LinkConstants.maxConcurrentPunches)
                       + Array(repeating: 0, count: 20 - LinkConstants.maxConcurrentPunches))
        XCTAssertEqual(b.tableSizes.initiations, LinkConstants.maxConcurrentPunches * LinkConstants.maxPunchCandidates)
    }

    // MARK: Beacons
    // MARK: Beacons

    /// Beacon signatures are verified at most 50 per second after a burst of 100; the rest
    /// are dropped before any verification.
    func testBeaconVerificationIsRateLimited() {
        let net = TestNetwork()
        var config = LinkConfig()
        config.dialBeaconPeers = false
        let b = net.add(.generate(), at: epB, config: config)
        for i in 0..<150 {
            let beacon = Beacon.make(identity: .generate(), port: 7000, timestamp: 1, domain: config.domain)
            b.receive(datagram: beacon, from: Endpoint(ipv4: 10, 0, 1, UInt8(i), port: 5353), now: net.now)
        }
        XCTAssertEqual(b.stats.beaconsAccepted, 100)
        XCTAssertEqual(b.stats[.beaconRateLimited], 50)
    }

    /// The replay table of beacon senders is bounded (oldest sender forgotten past 1024).
    func testBeaconSendersAreBounded() {
        let net = TestNetwork()
        var config = LinkConfig()
        config.dialBeaconPeers = false
        let b = net.add(.generate(), at: epB, config: config)
        for i in 0..<1100 {
            net.now = net.now.adding(seconds: 1.0 / 40)   // under the verification rate
            let beacon = Beacon.make(identity: .generate(), port: 7000, timestamp: 1, domain: config.domain)
            b.receive(datagram: beacon, from: Endpoint(ipv4: 10, 0, UInt8(i >> 8), UInt8(i & 0xff), port: 5353), now: net.now)
        }
        XCTAssertEqual(b.stats.beaconsAccepted, 1100)
        XCTAssertEqual(b.tableSizes.beaconSenders, 1024)
    }
}
