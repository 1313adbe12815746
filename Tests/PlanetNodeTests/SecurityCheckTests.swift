import XCTest
import PlanetCore
import PlanetLink
import PlanetRouting
import PlanetNode

/// A hand-built neighbour of one real `Node`, playing the attacker: its own link layer
/// (PlanetLink's public API), its own signed routing announcements, and session handshakes
/// and data sealed by hand, so a test can send the node exactly the bytes a malicious
/// neighbour or a malicious end node could. Everything reaches the node through
/// `receiveDatagram` and leaves through `output`, so these tests don't depend on how the node
/// is built inside; Docs/security.md lists which check each test proves.
final class Intruder {
    let identity: NodeIdentity
    let link: LinkLayer
    let node: Node
    let nodeEndpoint = Endpoint(ipv4: 10, 9, 0, 1, port: 8470)
    let endpoint: Endpoint
    /// Datagrams the node sent to another intruder linked to the same node (`init(joining:)`).
    var deliverElsewhere: ((Endpoint, [UInt8]) -> Void)?
    var now = Instant(seconds: 1000)
    /// Hand datagrams to the node in place, as planetd does; false takes the array entry point.
    var inPlace = true
    /// Upper-layer frames the node sent us, as the link opened them.
    var frames: [[UInt8]] = []
    /// Packets the node wrote to its TUN.
    var tun: [[UInt8]] = []
    var seqno: UInt32 = 1
    static let sessionDomain = "planetary-session-v1"

    init(nodeConfig: NodeConfig? = nil, identity: NodeIdentity = .generate()) {
        var config = nodeConfig ?? NodeConfig()
        config.multicast = []
        self.identity = identity
        endpoint = Endpoint(ipv4: 10, 9, 0, 2, port: 8470)
        node = Node(identity: .generate(), config: config, now: now, random: SplitMix64(seed: 7))
        link = LinkLayer(identity: identity, rng: SplitMix64(seed: 8), now: now)
        link.addPeer(uri: PeerURI(host: "10.9.0.1", port: 8470, pinnedKey: node.identity.publicKey), now: now)
        exchange()
    }

    /// A second neighbour of `other`'s node, at 10.9.0.`host`; each then hands the other the
    /// node's datagrams meant for it.
    init(joining other: Intruder, identity: NodeIdentity = .generate(), host: UInt8) {
        self.identity = identity
        endpoint = Endpoint(ipv4: 10, 9, 0, host, port: 8470)
        node = other.node
        now = other.now
        link = LinkLayer(identity: identity, rng: SplitMix64(seed: UInt64(host) + 100), now: now)
        link.addPeer(uri: PeerURI(host: "10.9.0.1", port: 8470, pinnedKey: node.identity.publicKey), now: now)
        other.deliverElsewhere = { [unowned self] to, bytes in if to == self.endpoint { self.link.receive(datagram: bytes, from: self.nodeEndpoint, now: self.now) } }
        deliverElsewhere = { [unowned other] to, bytes in if to == other.endpoint { other.link.receive(datagram: bytes, from: other.nodeEndpoint, now: other.now) } }
        exchange()
    }

    var isLinked: Bool { link.isUp(node.identity.publicKey) }

    /// Carries datagrams both ways until neither side has anything to say.
    func exchange() {
        for _ in 0..<10_000 {
            var moved = false
            for (bytes, _) in link.transmits.drain() {
                deliverToNode(bytes)
                moved = true
            }
            for event in link.drainEvents() {
                if case .frame(let frame, _) = event { frames.append(Array(frame)) }
            }
            if collectNodeOutput() { moved = true }
            if !moved { return }
        }
        XCTFail("the intruder and the node never went quiet")
    }

    private func deliverToNode(_ bytes: [UInt8]) {
        guard inPlace else {
            node.receiveDatagram(bytes, from: endpoint, now: now)
            return
        }
        var buffer = bytes
        buffer.withUnsafeMutableBytes { raw in
            node.receiveDatagram(inPlace: raw, from: endpoint, now: now)
            // As planetd: output (a relay queued from the slot too) is carried out before the
            // receive slot is reused.
            _ = collectNodeOutput()
        }
    }

    /// Takes the node's output: datagrams go to our link layer, TUN packets are kept.
    @discardableResult
    private func collectNodeOutput() -> Bool {
        let out = node.output
        node.output.removeAll()
        tun += out.tunPackets.map { Array($0.bytes) }
        let datagrams = node.transmits.drain()
        for (bytes, to) in datagrams {
            if let elsewhere = deliverElsewhere, to != endpoint { elsewhere(to, bytes); continue }
            link.receive(datagram: bytes, from: nodeEndpoint, now: now)
        }
        return !datagrams.isEmpty
    }

    /// Seals an upper-layer frame on the link and delivers it.
    func send(frame: [UInt8]) {
        XCTAssertTrue(link.send(frame: frame, to: node.identity.publicKey, now: now), "the intruder's link is down")
        exchange()
        // Signed updates wait for the node's next turns (ticks) to be checked, as in planetd.
        while node.router.hasUnverifiedUpdates {
            node.tick(now: now)
            exchange()
        }
    }

    /// Announces `origin`'s route with the origin's genuine signature (a relay may always
    /// relay what an origin signed), so the node routes `origin`'s addresses through us.
    func announce(_ origins: NodeIdentity...) { announce(origins) }

    func announce(_ origins: [NodeIdentity]) {
        var w = ByteWriter()
        w.u8(RoutingMessage.version)
        for origin in origins {
            RoutingTLV.update(origin: origin.publicKey, seqno: seqno, flags: 0, metric: 0,
                              signature: OriginSignature.sign(origin, seqno: seqno, flags: 0)).encode(into: &w)
        }
        send(frame: [0x10] + w.bytes)
    }

    func sendOverlay(_ message: [UInt8], from source: IPv6Address? = nil, to destination: IPv6Address? = nil, hopLimit: UInt8 = 64) {
        send(frame: OverlayPacket.make(hopLimit: hopLimit, destination: destination ?? node.address,
                                       source: source ?? identity.address, message: message))
    }

    /// Bodies (after the type byte) of the session messages of `type` the node sent us,
    /// whatever overlay address they were for.
    func sessionMessages(_ type: SessionMessageType) -> [[UInt8]] {
        frames.compactMap { f in
            f.count > OverlayPacket.headerLength + 1 && f[0] == OverlayPacket.frameType && f[OverlayPacket.headerLength] == type.rawValue
                ? Array(f[(OverlayPacket.headerLength + 1)...]) : nil
        }
    }

    /// Overlay frames the node sent us carrying session data.
    var dataFrames: [[UInt8]] {
        frames.filter { $0.count > OverlayPacket.headerLength && $0[0] == OverlayPacket.frameType
            && SessionMessageType.isData($0[OverlayPacket.headerLength]) }
    }

    /// Runs a session handshake with the node as initiator, with our own key, claiming `source`
    /// as our overlay address. Returns our keypair; throws if the node's answer doesn't verify.
    /// `as`: another identity the test holds (whose route the intruder announced), for a
    /// session in that node's name.
    func openSession(as peer: NodeIdentity? = nil, claiming source: IPv6Address? = nil,
                     domain: String = Intruder.sessionDomain) throws -> Keypair {
        let local = peer ?? identity
        let source = source ?? local.address
        let hs = HandshakeInitiator(local: local, localIndex: UInt32.random(in: 1...UInt32.max),
                                    expectedPeer: node.identity.publicKey, domain: domain, ciphers: [.chacha20Poly1305])
        frames.removeAll()
        sendOverlay([SessionMessageType.handshakeInit.rawValue] + hs.initMessage(), from: source)
        let response = try XCTUnwrap(sessionMessages(.handshakeResponse).last, "the node did not answer the init")
        let (finish, keys) = try hs.handleResponse(response)
        sendOverlay([SessionMessageType.handshakeFinish.rawValue] + finish, from: source)
        return Keypair(keys: keys, createdAt: now)
    }

    /// A session message (data unless said otherwise) sealed with `keypair`.
    func seal(_ plaintext: [UInt8], with keypair: Keypair, type: SessionMessageType = .data) -> [UInt8] {
        var message: [UInt8] = []
        XCTAssertTrue(keypair.seal(type: type.rawValue, plaintext: plaintext, appendingTo: &message))
        return message
    }

    /// A packet the node's own kernel wrote to its TUN.
    func fromTun(_ packet: [UInt8]) {
        node.receiveTunPacket(packet, now: now)
        exchange()
    }

    /// Moves the clock, ticking both sides at their deadlines. A deadline that is still due
    /// after its tick moves the clock on by a millisecond (see
    /// `testTickingAtThePendingDeadlineMovesIt`) instead of spinning.
    func advance(by seconds: Double) {
        let end = now.adding(seconds: seconds)
        var spins = 0
        while true {
            let due = min(node.nextDeadline, link.nextDeadline)
            guard due <= end else { break }
            if due > now { now = due; spins = 0 } else {
                spins += 1
                if spins > 1000 { XCTFail("a deadline does not move forward: node \(node.nextDeadline) link \(link.nextDeadline) now \(now)"); return }
                now = now.adding(seconds: 0.001)
            }
            node.tick(now: now)
            link.tick(now: now)
            exchange()
        }
        now = end
    }

    func takeTun() -> [[UInt8]] {
        defer { tun = [] }
        return tun
    }
}

/// Keeps the session control messages the node hands it.
final class RecordingControlHandler: SessionControlHandler {
    let controlType = SessionControlType.experimental
    var received: [(peer: PublicKey, body: [UInt8])] = []
    func receive(_ body: ArraySlice<UInt8>, from peer: PublicKey, now: Instant) { received.append((peer, Array(body))) }
}

/// An ICMPv6 echo request.
func echoPacket(from s: IPv6Address, to d: IPv6Address, seq: UInt16 = 1, hopLimit: UInt8 = 64) -> [UInt8] {
    var body: [UInt8] = [ICMPv6.echoRequest, 0, 0, 0, 0x12, 0x34, UInt8(seq >> 8), UInt8(seq & 0xff)]
    body.append(contentsOf: (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    return ICMPv6.packet(from: s, to: d, icmp: body, hopLimit: hopLimit)
}

/// An address inside `identity`'s /64.
func subnetAddress(of identity: NodeIdentity, host: UInt64 = 1) -> IPv6Address {
    IPv6Address(high: identity.subnet.address.high, low: host)
}

/// Each test proves that one receive-side check of the node exists: remove the check and the
/// test fails (Docs/security.md has the list). The attacker is a linked neighbour that also
/// holds sessions with the node, or relays for a third node whose identity the test owns.
final class SecurityCheckTests: XCTestCase {
    func linkedIntruder(config: NodeConfig? = nil) throws -> Intruder {
        let i = Intruder(nodeConfig: config)
        XCTAssertTrue(i.isLinked, "the intruder's link to the node did not come up")
        i.announce(i.identity)
        return i
    }

    // MARK: Session data

    /// The anti-spoofing check on delivery: a session's packet must come from the address or
    /// the subnet of the key that holds the session, whatever the overlay header says.
    func testSessionDataFromAnAddressTheSessionKeyDoesNotOwnIsDropped() throws {
        for inPlace in [true, false] {
            let i = try linkedIntruder()
            i.inPlace = inPlace
            let node = i.node
            let kp = try i.openSession()
            let genuine = echoPacket(from: i.identity.address, to: node.address)
            let fromSubnet = echoPacket(from: subnetAddress(of: i.identity), to: subnetAddress(of: node.identity, host: 9), seq: 2)
            i.sendOverlay(i.seal(genuine, with: kp))
            i.sendOverlay(i.seal(fromSubnet, with: kp))
            XCTAssertEqual(i.takeTun(), [genuine, fromSubnet], "inPlace=\(inPlace)")
            // Sealed by the intruder's session, claiming a third node's address, then the node's own.
            let third = NodeIdentity.generate()
            i.sendOverlay(i.seal(echoPacket(from: third.address, to: node.address, seq: 3), with: kp))
            i.sendOverlay(i.seal(echoPacket(from: subnetAddress(of: third), to: node.address, seq: 4), with: kp))
            i.sendOverlay(i.seal(echoPacket(from: node.address, to: node.address, seq: 5), with: kp))
            XCTAssertEqual(i.takeTun(), [], "inPlace=\(inPlace): a spoofed source reached the TUN")
            XCTAssertEqual(node.stats.dropped(.spoofedSource), 3, "inPlace=\(inPlace)")
        }
    }

    /// A session's packet addressed to someone else is not ours to deliver.
    func testSessionDataForAnAddressNotOursIsDropped() throws {
        for inPlace in [true, false] {
            let i = try linkedIntruder()
            i.inPlace = inPlace
            let node = i.node
            let kp = try i.openSession()
            let elsewhere = echoPacket(from: i.identity.address, to: NodeIdentity.generate().address)
            i.sendOverlay(i.seal(elsewhere, with: kp))
            XCTAssertEqual(i.takeTun(), [], "inPlace=\(inPlace)")
            XCTAssertEqual(node.stats.dropped(.sessionWrongDestination), 1, "inPlace=\(inPlace)")
        }
    }

    /// A session message delivered twice (each time in a fresh link frame, so the link's own
    /// replay window doesn't see it) reaches the TUN once.
    func testReplayedSessionDataIsDropped() throws {
        for inPlace in [true, false] {
            let i = try linkedIntruder()
            i.inPlace = inPlace
            let kp = try i.openSession()
            let packet = echoPacket(from: i.identity.address, to: i.node.address)
            let message = i.seal(packet, with: kp)
            i.sendOverlay(message)
            i.sendOverlay(message)
            XCTAssertEqual(i.takeTun(), [packet], "inPlace=\(inPlace)")
            XCTAssertEqual(i.node.stats.dropped(.sessionReplay), 1, "inPlace=\(inPlace)")
        }
    }

    /// A data message under an index no session has, or with any byte of its ciphertext or
    /// header changed, is dropped and counted, and doesn't spoil the genuine one after it.
    func testForgedSessionDataIsDropped() throws {
        for inPlace in [true, false] {
            let i = try linkedIntruder()
            i.inPlace = inPlace
            let node = i.node
            let kp = try i.openSession()
            let packet = echoPacket(from: i.identity.address, to: node.address)
            let message = i.seal(packet, with: kp)
            var unknownIndex = message
            unknownIndex[1] ^= 0x55
            i.sendOverlay(unknownIndex)
            XCTAssertEqual(node.stats.dropped(.sessionUnknownIndex), 1, "inPlace=\(inPlace)")
            for offset in [5, 12, 13, 40, message.count - 1] {
                var forged = message
                forged[offset] ^= 0x01
                i.sendOverlay(forged)
            }
            XCTAssertEqual(node.stats.dropped(.sessionDecrypt), 5, "inPlace=\(inPlace)")
            XCTAssertEqual(i.takeTun(), [], "inPlace=\(inPlace)")
            i.sendOverlay(message)
            XCTAssertEqual(i.takeTun(), [packet], "inPlace=\(inPlace): the genuine message was refused after forgeries")
        }
    }

    /// Control messages are sealed like data and their type byte is associated data: one
    /// reaches its handler with the key that sealed it, and a data message re-typed as control
    /// (or the other way round) fails authentication, so a relay can't feed packet bytes to a
    /// control handler or control bytes to the TUN.
    func testSessionMessagesCannotChangeBetweenDataAndControl() throws {
        let i = try linkedIntruder()
        let handler = RecordingControlHandler()
        i.node.register(handler)
        let kp = try i.openSession()
        i.sendOverlay(i.seal([SessionControlType.experimental.rawValue, 1, 2, 3], with: kp, type: .control))
        XCTAssertEqual(handler.received.map(\.peer), [i.identity.publicKey])
        XCTAssertEqual(handler.received.map(\.body), [[1, 2, 3]])
        var dataAsControl = i.seal([SessionControlType.experimental.rawValue, 9, 9], with: kp)
        dataAsControl[0] = SessionMessageType.control.rawValue
        i.sendOverlay(dataAsControl)
        var controlAsData = i.seal(echoPacket(from: i.identity.address, to: i.node.address), with: kp, type: .control)
        controlAsData[0] = SessionMessageType.data.rawValue
        i.sendOverlay(controlAsData)
        XCTAssertEqual(handler.received.count, 1, "a re-typed message reached the control handler")
        XCTAssertEqual(i.takeTun(), [], "a re-typed message reached the TUN")
        XCTAssertEqual(i.node.stats.dropped(.sessionDecrypt), 2)
    }

    // MARK: Session handshake

    /// The responder's identity check: the initiator proved its key, so its overlay source
    /// must be that key's address; otherwise it could open a session in another node's name
    /// (here the intruder relays for a third node and claims that node's address).
    func testSessionFromAKeyThatDoesNotOwnItsOverlaySourceIsRefused() throws {
        let i = try linkedIntruder()
        let node = i.node
        let third = NodeIdentity.generate()
        i.announce(third)   // the node's answer to the third node's address comes back through us
        let kp = try i.openSession(claiming: third.address)
        XCTAssertEqual(node.stats.dropped(.spoofedSource), 1)
        XCTAssertEqual(node.stats.sessionsEstablished, 0)
        // The keys the intruder holds open nothing at the node.
        i.sendOverlay(i.seal(echoPacket(from: i.identity.address, to: node.address), with: kp), from: third.address)
        XCTAssertEqual(i.takeTun(), [])
        XCTAssertEqual(node.stats.dropped(.sessionUnknownIndex), 1)
    }

    /// The initiator's identity check: a session to an address is only established with the
    /// key that address derives from. Here the intruder relays for a third node and answers
    /// the node's handshake with its own (valid, signed) identity.
    func testSessionAnsweredByAnotherKeyIsRefused() throws {
        let i = try linkedIntruder()
        let node = i.node
        let third = NodeIdentity.generate()
        i.announce(third)
        i.frames.removeAll()
        i.fromTun(echoPacket(from: node.address, to: third.address))
        let initBody = try XCTUnwrap(i.sessionMessages(.handshakeInit).first, "the node sent no session init")
        let (_, response) = try HandshakeResponder.respond(toInit: initBody, local: i.identity, localIndex: 77,
                                                           domain: Intruder.sessionDomain, ciphers: [.chacha20Poly1305])
        i.sendOverlay([SessionMessageType.handshakeResponse.rawValue] + response, from: third.address)
        XCTAssertEqual(node.stats.sessionsEstablished, 0)
        XCTAssertEqual(node.stats.dropped(.sessionHandshake), 1)
        XCTAssertEqual(i.sessionMessages(.handshakeFinish), [], "the node finished a handshake with the wrong key")
        XCTAssertEqual(i.dataFrames, [], "the node sealed its queued packet for the wrong key")
    }

    /// Link and session handshakes use different domains, so a handshake run for one can't
    /// complete as the other.
    func testALinkDomainHandshakeDoesNotCompleteAsASession() throws {
        let i = try linkedIntruder()
        XCTAssertThrowsError(try i.openSession(domain: LinkConfig().domain)) {
            XCTAssertEqual($0 as? HandshakeError, .authenticationFailed)
        }
        XCTAssertNoThrow(try i.openSession(), "the session domain itself must work")
        XCTAssertNotEqual(LinkConfig().domain, Intruder.sessionDomain)
    }

    /// Each answered init costs the node a signature and two key agreements: beyond the
    /// limit (a burst of 100 at 200 per second) inits are dropped unanswered, and answered again later.
    func testSessionInitsBeyondTheRateLimitAreNotAnswered() throws {
        let i = try linkedIntruder()
        i.frames.removeAll()
        for n in 0..<150 {
            let hs = HandshakeInitiator(local: i.identity, localIndex: UInt32(n + 1), expectedPeer: nil,
                                        domain: Intruder.sessionDomain, ciphers: [.chacha20Poly1305])
            i.sendOverlay([SessionMessageType.handshakeInit.rawValue] + hs.initMessage())
        }
        let answered = i.sessionMessages(.handshakeResponse).count
        XCTAssertEqual(answered, 100)
        XCTAssertEqual(i.node.stats.dropped(.sessionHandshakeRateLimited), 50)
        i.now = i.now.adding(seconds: 1)
        XCTAssertNoThrow(try i.openSession(), "inits must be answered again once the bucket refills")
    }

    /// The init budget is shared by neighbour and by source. A neighbour flooding inits from
    /// made-up sources gets its share (all 100 of the burst while it is alone) and no more; an
    /// honest neighbour that then relays an init is answered from its own share. And one
    /// source flooding through that honest neighbour spends its source's share, not the
    /// neighbour's: another node behind the same neighbour still opens a session. Fails when
    /// the budget is one bucket for all again (the honest init finds it empty), or when it is
    /// not shared by source (the source flood empties the honest neighbour's share).
    func testAnInitFloodFromOneNeighbourOrSourceLeavesOthersTheirShare() throws {
        let hostile = try linkedIntruder()
        let honest = Intruder(joining: hostile, host: 3)
        XCTAssertTrue(honest.isLinked, "the second neighbour's link did not come up")
        let flooder = NodeIdentity.generate(), newcomer = NodeIdentity.generate()
        honest.announce(honest.identity, flooder, newcomer)
        let initMessage = [SessionMessageType.handshakeInit.rawValue]
            + HandshakeInitiator(local: hostile.identity, localIndex: 1, expectedPeer: nil,
                                 domain: Intruder.sessionDomain, ciphers: [.chacha20Poly1305]).initMessage()
        for n in 0..<1000 {
            hostile.sendOverlay(initMessage, from: IPv6Address(high: 0x0200_0000_0000_0000 | UInt64(n + 1) << 16, low: 1))
        }
        XCTAssertEqual(hostile.node.stats.dropped(.sessionHandshakeRateLimited), 900)
        XCTAssertNoThrow(try honest.openSession(), "a flood through one neighbour kept another's init unanswered")
        XCTAssertEqual(honest.node.stats.sessionsEstablished, 1)
        // One source floods through the honest neighbour; another behind it still gets in.
        let fromFlooder = [SessionMessageType.handshakeInit.rawValue]
            + HandshakeInitiator(local: flooder, localIndex: 1, expectedPeer: nil,
                                 domain: Intruder.sessionDomain, ciphers: [.chacha20Poly1305]).initMessage()
        for _ in 0..<300 { honest.sendOverlay(fromFlooder, from: flooder.address) }
        XCTAssertGreaterThanOrEqual(honest.node.stats.dropped(.sessionHandshakeSourceLimited), 290)
        XCTAssertNoThrow(try honest.openSession(as: newcomer), "one source's flood kept another source behind the same neighbour out")
        XCTAssertEqual(honest.node.stats.sessionsEstablished, 2)
    }

    /// A session init of the wrong length is refused before any work, and never answered:
    /// the answer is no larger than the init, so the node can't be used as an amplifier.
    func testSessionInitsOfTheWrongLengthAreNotAnswered() throws {
        let i = try linkedIntruder()
        let genuine = HandshakeInitiator(local: i.identity, localIndex: 1, expectedPeer: nil,
                                         domain: Intruder.sessionDomain, ciphers: [.chacha20Poly1305]).initMessage()
        i.frames.removeAll()
        for body in [Array(genuine.prefix(10)), Array(genuine.prefix(100)), genuine + [0, 0, 0, 0]] {
            i.sendOverlay([SessionMessageType.handshakeInit.rawValue] + body)
        }
        XCTAssertEqual(i.sessionMessages(.handshakeResponse).count, 0)
        XCTAssertEqual(i.node.stats.dropped(.sessionHandshake), 3)
        i.sendOverlay([SessionMessageType.handshakeInit.rawValue] + genuine)
        XCTAssertEqual(i.sessionMessages(.handshakeResponse).map(\.count), [genuine.count])
    }

    /// Half-finished session handshakes are bounded (1024, oldest dropped first): the oldest
    /// init's finish no longer completes once 1024 newer inits have arrived.
    func testPendingSessionRespondersAreBounded() throws {
        let i = try linkedIntruder()
        func sendInit() -> HandshakeInitiator {
            let hs = HandshakeInitiator(local: i.identity, localIndex: UInt32.random(in: 1...UInt32.max),
                                        expectedPeer: nil, domain: Intruder.sessionDomain, ciphers: [.chacha20Poly1305])
            i.frames.removeAll(keepingCapacity: true)
            i.sendOverlay([SessionMessageType.handshakeInit.rawValue] + hs.initMessage())
            return hs
        }
        let oldest = sendInit()
        let oldestResponse = try XCTUnwrap(i.sessionMessages(.handshakeResponse).first)
        var newest = oldest
        for _ in 0..<1024 {
            i.now = i.now.adding(seconds: 1.0 / 150)   // under the init rate limit
            newest = sendInit()
        }
        let newestResponse = try XCTUnwrap(i.sessionMessages(.handshakeResponse).first)
        let before = i.node.stats.dropped(.sessionHandshake)
        let (oldFinish, _) = try oldest.handleResponse(oldestResponse)
        i.sendOverlay([SessionMessageType.handshakeFinish.rawValue] + oldFinish)
        XCTAssertEqual(i.node.stats.sessionsEstablished, 0, "the oldest responder outlived 1024 newer ones")
        XCTAssertEqual(i.node.stats.dropped(.sessionHandshake), before + 1)
        let (newFinish, _) = try newest.handleResponse(newestResponse)
        i.sendOverlay([SessionMessageType.handshakeFinish.rawValue] + newFinish)
        XCTAssertEqual(i.node.stats.sessionsEstablished, 1)
    }

    /// Sessions are bounded (4096, the least recently used one evicted): with one more peer,
    /// exactly one earlier session's keys stop opening anything.
    func testSessionTableIsBounded() throws {
        let i = try linkedIntruder()
        let node = i.node
        let peers = (0...4096).map { _ in NodeIdentity.generate() }
        for chunk in stride(from: 0, to: peers.count, by: 256) { i.announce(Array(peers[chunk..<min(chunk + 256, peers.count)])) }
        var keypairs: [Keypair] = []
        for peer in peers {
            i.now = i.now.adding(seconds: 1.0 / 150)   // under the init rate limit
            keypairs.append(try i.openSession(as: peer))
        }
        XCTAssertEqual(node.stats.sessionsEstablished, 4097)
        for (peer, kp) in zip(peers, keypairs) {
            i.sendOverlay(i.seal(echoPacket(from: peer.address, to: node.address), with: kp), from: peer.address)
        }
        XCTAssertEqual(i.takeTun().count, 4096)
        XCTAssertEqual(node.stats.dropped(.sessionUnknownIndex), 1)
    }

    /// A session keeps at most three keypairs, however often its peer completes a new
    /// handshake: data under the older ones names an index the node no longer holds.
    func testASessionKeepsAtMostThreeKeypairs() throws {
        let i = try linkedIntruder()
        let node = i.node
        let peer = NodeIdentity.generate()
        i.announce(peer)
        var keypairs: [Keypair] = []
        for _ in 0..<10 {
            i.now = i.now.adding(seconds: 0.1)
            keypairs.append(try i.openSession(as: peer))
        }
        XCTAssertEqual(node.stats.sessionsEstablished, 10)
        for kp in keypairs {
            i.sendOverlay(i.seal(echoPacket(from: peer.address, to: node.address), with: kp), from: peer.address)
        }
        XCTAssertEqual(i.takeTun().count, 3)
        XCTAssertEqual(node.stats.dropped(.sessionUnknownIndex), 7)
    }

    // MARK: Error reports

    /// A node with a session to `third` (whose identity the test holds, answering through the
    /// intruder) that has sent one data message; returns that overlay frame.
    func sessionThroughIntruder(_ i: Intruder, to third: NodeIdentity) throws -> [UInt8] {
        i.announce(third)
        i.frames.removeAll()
        let packet = echoPacket(from: i.node.address, to: third.address)
        i.fromTun(packet)
        let initBody = try XCTUnwrap(i.sessionMessages(.handshakeInit).first)
        let (pending, response) = try HandshakeResponder.respond(toInit: initBody, local: third, localIndex: 5,
                                                                 domain: Intruder.sessionDomain, ciphers: [.chacha20Poly1305])
        i.sendOverlay([SessionMessageType.handshakeResponse.rawValue] + response, from: third.address)
        let finish = try XCTUnwrap(i.sessionMessages(.handshakeFinish).first)
        _ = try pending.handleFinish(finish)
        XCTAssertEqual(i.node.stats.sessionsEstablished, 1)
        return try XCTUnwrap(i.dataFrames.first, "the queued packet was not sent")
    }

    /// A relay's signed report about a packet the node sent becomes a local ICMPv6 error; a
    /// report with a bad signature, or quoting a message the node never sent (unknown index,
    /// a counter not yet used), is dropped and counted.
    func testOnlySignedReportsAboutOurOwnPacketsBecomeICMP() throws {
        let i = try linkedIntruder()
        let node = i.node
        let third = NodeIdentity.generate()
        let frame = try sessionThroughIntruder(i, to: third)
        let quoted = frame[OverlayPacket.headerLength...]
        _ = i.takeTun()
        func report(_ quote: ArraySlice<UInt8>) -> [UInt8] {
            ErrorReport.make(kind: .noRoute, reporter: i.identity, invoking: quote)
        }
        var forged = report(quoted)
        forged[40] ^= 0x01   // in the signature
        i.sendOverlay(forged)
        var otherIndex = Array(quoted)
        otherIndex[2] ^= 0x01
        i.sendOverlay(report(otherIndex[...]))
        var unsentCounter = Array(quoted)
        unsentCounter[6] ^= 0x01   // a counter far beyond what was sent
        i.sendOverlay(report(unsentCounter[...]))
        XCTAssertEqual(i.takeTun(), [], "an invalid report became an ICMPv6 error")
        XCTAssertEqual(node.stats.dropped(.errorReportInvalid), 3)
        // The genuine report: "no route" (type 1 code 0) from the reporter, quoting our packet.
        i.sendOverlay(report(quoted))
        let icmp = i.takeTun()
        XCTAssertEqual(icmp.count, 1)
        guard let error = icmp.first, error.count > 48 + 40 else { return XCTFail("no ICMPv6 error") }
        XCTAssertEqual(Array(error[40...41]), [1, 0])
        XCTAssertEqual(IPv6Address(error[8..<24]), i.identity.address)
        XCTAssertEqual(IPv6Address(error[(48 + 24)..<(48 + 40)]), third.address, "the quoted packet is not ours")
    }

    /// A relay answers undeliverable data with signed reports, at most a burst of 50 at once.
    func testErrorReportsAreRateLimited() throws {
        let i = try linkedIntruder()
        let nowhere = NodeIdentity.generate().address
        i.frames.removeAll()
        let data = [SessionMessageType.data.rawValue] + [UInt8](repeating: 0xab, count: 60)
        for _ in 0..<60 { i.sendOverlay(data, to: nowhere) }
        XCTAssertEqual(i.node.stats.dropped(.noRoute), 60)
        XCTAssertEqual(i.sessionMessages(.errorReport).count, 50)
        XCTAssertEqual(i.node.stats.dropped(.icmpRateLimited), 10)
    }

    // MARK: Relaying

    /// A relay drops an overlay packet whose hop limit has run out instead of forwarding it,
    /// and tells the source (which the intruder is) with a signed report.
    func testHopLimitEndsAtTheRelay() throws {
        for inPlace in [true, false] {
            for type in [SessionMessageType.data, .handshakeInit] {
                let i = try linkedIntruder()
                i.inPlace = inPlace
                let third = NodeIdentity.generate()
                i.announce(third)   // the node's route to the third node leads back to us
                let message = [type.rawValue] + [UInt8](repeating: 0xab, count: 160)
                i.frames.removeAll()
                i.sendOverlay(message, to: third.address, hopLimit: 2)
                let relayed = i.frames.filter { $0.first == OverlayPacket.frameType && $0.count > 2 && IPv6Address($0[2..<18]) == third.address }
                XCTAssertEqual(relayed.map { $0[1] }, [1], "inPlace=\(inPlace) \(type): hop limit 2 is relayed with 1 left")
                i.frames.removeAll()
                i.sendOverlay(message, to: third.address, hopLimit: 1)
                let relayedAgain = i.frames.filter { $0.first == OverlayPacket.frameType && $0.count > 2 && IPv6Address($0[2..<18]) == third.address }
                XCTAssertEqual(relayedAgain.count, 0, "inPlace=\(inPlace) \(type): relayed with no hop limit left")
                XCTAssertEqual(i.node.stats.dropped(.hopLimit), 1, "inPlace=\(inPlace) \(type)")
                // Only data is reported (a report about a handshake would tell the source nothing).
                let reports = i.sessionMessages(.errorReport).compactMap { ErrorReport(([SessionMessageType.errorReport.rawValue] + $0)[...]) }
                XCTAssertEqual(reports.map(\.kind), type == .data ? [.hopLimitExceeded] : [], "inPlace=\(inPlace) \(type)")
            }
        }
    }

    // MARK: Direct packets

    /// A neighbour's direct packet (inside the link's encryption) must come from the
    /// neighbour's own address or subnet, and be for this node.
    func testDirectPacketsMustBeFromTheNeighbourAndForUs() throws {
        for inPlace in [true, false] {
            let i = try linkedIntruder()
            i.inPlace = inPlace
            let node = i.node
            let genuine = echoPacket(from: i.identity.address, to: node.address)
            i.send(frame: [0x21] + genuine)
            XCTAssertEqual(i.takeTun(), [genuine], "inPlace=\(inPlace)")
            let third = NodeIdentity.generate()
            i.send(frame: [0x21] + echoPacket(from: third.address, to: node.address, seq: 2))
            i.send(frame: [0x21] + echoPacket(from: node.address, to: node.address, seq: 3))
            XCTAssertEqual(node.stats.dropped(.directSpoofed), 2, "inPlace=\(inPlace)")
            i.send(frame: [0x21] + echoPacket(from: i.identity.address, to: third.address, seq: 4))
            XCTAssertEqual(node.stats.dropped(.overlayMalformed), 1, "inPlace=\(inPlace)")
            XCTAssertEqual(i.takeTun(), [], "inPlace=\(inPlace): a refused direct packet reached the TUN")
        }
    }

    // MARK: The TUN side

    /// What the node's own kernel sends must come from the node's address or subnet and go to
    /// an overlay address; nothing else leaves the node.
    func testTunPacketsMustBeFromUsAndForTheOverlay() throws {
        let i = try linkedIntruder()
        let node = i.node
        i.frames.removeAll()
        i.fromTun(echoPacket(from: NodeIdentity.generate().address, to: i.identity.address))
        i.fromTun(echoPacket(from: i.identity.address, to: i.identity.address, seq: 2))
        XCTAssertEqual(node.stats.dropped(.tunBadSource), 2)
        i.fromTun(echoPacket(from: node.address, to: IPv6Address("fd00::1")!, seq: 3))
        i.fromTun(echoPacket(from: node.address, to: IPv6Address("ff02::2")!, seq: 4))
        XCTAssertEqual(node.stats.dropped(.tunNotOverlay), 2)
        let routing: UInt8 = 0x10
        XCTAssertEqual(i.frames.filter { $0.first != routing }, [], "a refused TUN packet left the node")
        // From the node's address and its subnet, both go out (here as direct frames to us).
        let fromNode = echoPacket(from: node.address, to: i.identity.address, seq: 5)
        let fromSubnet = echoPacket(from: subnetAddress(of: node.identity), to: i.identity.address, seq: 6)
        i.fromTun(fromNode)
        i.fromTun(fromSubnet)
        XCTAssertEqual(i.frames.filter { $0.first != routing }, [[0x21] + fromNode, [0x21] + fromSubnet])
    }

    /// ICMPv6 errors the node writes to its own TUN are limited to a burst of 50.
    func testICMPErrorsAreRateLimited() throws {
        let i = try linkedIntruder()
        for n in 0..<60 { i.fromTun(echoPacket(from: i.node.address, to: NodeIdentity.generate().address, seq: UInt16(n))) }
        XCTAssertEqual(i.node.stats.dropped(.noRoute), 60)
        XCTAssertEqual(i.takeTun().count, 50)
        XCTAssertEqual(i.node.stats.dropped(.icmpRateLimited), 10)
    }

    // MARK: Packets waiting for a session

    /// Packets for a destination whose session never comes up wait in a bounded queue (64 per
    /// destination) and are answered with "address unreachable" after 5 s.
    func testPendingPacketsAreBoundedAndTimeOutWithICMP() throws {
        let i = try linkedIntruder()
        let node = i.node
        let third = NodeIdentity.generate()
        i.announce(third)   // a route, but the intruder never answers the session init
        for n in 0..<70 { i.fromTun(echoPacket(from: node.address, to: third.address, seq: UInt16(n))) }
        XCTAssertEqual(node.stats.dropped(.pendingOverflow), 6)
        XCTAssertEqual(i.takeTun(), [])
        i.advance(by: 6)
        XCTAssertEqual(node.stats.dropped(.pendingTimeout), 64)
        let errors = i.takeTun()
        XCTAssertFalse(errors.isEmpty, "no ICMPv6 address unreachable for the expired packets")
        for e in errors {
            XCTAssertEqual(Array(e[40...41]), [1, 3], "not an ICMPv6 address unreachable")
            XCTAssertEqual(IPv6Address(e[24..<40]), node.address)
        }
        XCTAssertEqual(errors.count + Int(node.stats.dropped(.icmpRateLimited)), 64)
    }

    /// A driver ticks the node at `nextDeadline`; with packets waiting for a session, that
    /// deadline is when the oldest expires, and the tick must expire it. Known bug (reported to
    /// the lead): `nextDeadline` names `oldest + pendingTimeout`, but expiry takes only packets
    /// strictly older than `now - pendingTimeout`, so at the deadline nothing expires and the
    /// deadline stays where it is (virtual time stalls; planetd spins until its clock moves
    /// past). Skipped while that holds; delete the skip when it is fixed.
    func testTickingAtThePendingDeadlineMovesIt() throws {
        let i = try linkedIntruder()
        let node = i.node
        let third = NodeIdentity.generate()
        i.announce(third)
        i.fromTun(echoPacket(from: node.address, to: third.address))
        XCTAssertEqual(node.stats.dropped(.pendingTimeout), 0)
        // Walk the deadlines up to the expiry the way a runtime does.
        for _ in 0..<20 where node.stats.dropped(.pendingTimeout) == 0 {
            let due = node.nextDeadline
            XCTAssertLessThanOrEqual(due, i.now.adding(seconds: Node.pendingTimeout), "no deadline for the waiting packet")
            i.now = max(i.now, due)
            node.tick(now: i.now)
            i.exchange()
            XCTAssertFalse(node.stats.dropped(.pendingTimeout) == 0 && node.nextDeadline <= i.now,
                           "the deadline stays at the pending timeout without expiring the packet")
        }
        XCTAssertEqual(node.stats.dropped(.pendingTimeout), 1)
    }

    // MARK: Links

    /// `allowedPublicKeys` in the node's configuration reaches its link layer: a key outside
    /// the list completes no link.
    func testAllowedPublicKeysRefusesOtherKeys() throws {
        var config = NodeConfig()
        config.allowedPublicKeys = [NodeIdentity.generate().publicKey]
        let refused = Intruder(nodeConfig: config)
        XCTAssertFalse(refused.isLinked)
        let me = NodeIdentity.generate()
        config.allowedPublicKeys.append(me.publicKey)
        let allowed = Intruder(nodeConfig: config, identity: me)
        XCTAssertTrue(allowed.isLinked)
    }
}
