import XCTest
import PlanetCore
@testable import PlanetLink
import PlanetTesting

final class LinkLayerTests: XCTestCase {
    let epA = Endpoint(ipv4: 10, 0, 0, 1, port: 7001)
    let epB = Endpoint(ipv4: 10, 0, 0, 2, port: 7002)
    let epC = Endpoint(ipv4: 10, 0, 0, 3, port: 7003)

    /// Two nodes; A dials B. Returns once both are up.
    func linkedPair(_ net: TestNetwork, configB: LinkConfig = LinkConfig()) -> (LinkLayer, LinkLayer) {
        let a = net.add(.generate(), at: epA)
        let b = net.add(.generate(), at: epB, config: configB)
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertTrue(a.isUp(b.identity.publicKey))
        XCTAssertTrue(b.isUp(a.identity.publicKey))
        return (a, b)
    }

    func testHappyPathFramesBothWaysAndRTT() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        XCTAssertEqual(net.ups(a).map(\.0), [b.identity.publicKey])
        XCTAssertEqual(net.ups(a).map(\.1), [false])
        XCTAssertEqual(net.ups(b).map(\.1), [true])
        XCTAssertTrue(a.send(frame: [0x10, 1, 2, 3], to: b.identity.publicKey, now: net.now))
        XCTAssertTrue(b.send(frame: [0x20, 9], to: a.identity.publicKey, now: net.now))
        net.pump()
        XCTAssertEqual(net.frames(b), [[0x10, 1, 2, 3]])
        XCTAssertEqual(net.frames(a), [[0x20, 9]])
        // Link-layer inner frames (< 0x10) are not handed up.
        XCTAssertTrue(a.send(frame: [0x05, 1], to: b.identity.publicKey, now: net.now))
        net.pump()
        XCTAssertEqual(net.frames(b).count, 1)
        XCTAssertEqual(b.stats[.unknownInnerFrame], 1)
        XCTAssertTrue(a.send(headroomFrame: [UInt8](repeating: 0, count: 13) + [0x21, 5, 6], to: b.identity.publicKey, now: net.now))
        net.pump()
        XCTAssertEqual(net.frames(b).last, [0x21, 5, 6])
        XCTAssertFalse(a.send(headroomFrame: [UInt8](repeating: 0, count: 13), to: b.identity.publicKey, now: net.now))
        net.advance(by: 1)
        let rtts = net.events(a).compactMap { if case .rtt(let k, let s) = $0 { return (k, s) } else { return nil } }
        XCTAssertFalse(rtts.isEmpty)
        XCTAssertEqual(rtts.first?.0, b.identity.publicKey)
        let snap = a.snapshot(now: net.now)
        XCTAssertEqual(snap.count, 1)
        XCTAssertEqual(snap[0].state, .up)
        XCTAssertEqual(snap[0].publicKey, b.identity.publicKey)
        XCTAssertEqual(snap[0].uri, net.uri(of: b))
        XCTAssertEqual(snap[0].uptime, 1, accuracy: 0.001)
        XCTAssertGreaterThan(snap[0].txBytes, 0)
        XCTAssertFalse(snap[0].inbound)
        XCTAssertEqual(b.snapshot(now: net.now).first?.inbound, true)
        XCTAssertEqual(a.stats.handshakesCompleted, 1)
        XCTAssertEqual(b.stats.handshakesCompleted, 1)
        XCTAssertFalse(a.send(frame: [0x10], to: NodeIdentity.generate().publicKey, now: net.now))
        XCTAssertEqual(a.stats[.sendNoLink], 2)   // this one and the empty headroom frame
    }

    func testPinMismatchAbortsWithLoggedReason() {
        let net = TestNetwork()
        let logs = LogCollector()
        let a = net.add(.generate(), at: epA, logger: logs.logger)
        let b = net.add(.generate(), at: epB)
        let wrong = NodeIdentity.generate().publicKey
        let uri = PeerURI(host: "10.0.0.2", port: 7002, pinnedKey: wrong)
        a.addPeer(uri: uri, now: net.now)
        net.pump()
        XCTAssertFalse(a.isUp(b.identity.publicKey))
        XCTAssertFalse(b.isUp(a.identity.publicKey))
        XCTAssertEqual(a.stats[.peerKeyMismatch], 1)
        XCTAssertTrue(logs.all.contains { $0.contains("mismatch") && $0.contains(b.identity.publicKey.short) })
        XCTAssertEqual(a.snapshot(now: net.now).first?.state, .backoff)
        // It keeps backing off rather than linking.
        net.advance(by: 30)
        XCTAssertFalse(a.isUp(b.identity.publicKey))
        XCTAssertGreaterThan(a.stats[.peerKeyMismatch], 2)
        XCTAssertTrue(a.tableSizes.peers == 0)
    }

    func testAllowListRefusesThenAccepts() {
        let net = TestNetwork()
        var config = LinkConfig()
        config.allowedPublicKeys = [NodeIdentity.generate().publicKey]
        let a = net.add(.generate(), at: epA)
        let b = net.add(.generate(), at: epB, config: config)
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertFalse(b.isUp(a.identity.publicKey))
        XCTAssertEqual(b.stats[.notAllowed], 1)
        XCTAssertEqual(b.tableSizes.pendingResponders, 0)
        b.allowedPublicKeys.insert(a.identity.publicKey)
        net.advance(by: 20)
        XCTAssertTrue(b.isUp(a.identity.publicKey))
        XCTAssertTrue(a.isUp(b.identity.publicKey))
        // Narrowing the list takes the inbound link down.
        b.setAllowedPublicKeys([NodeIdentity.generate().publicKey], now: net.now)
        net.pump()
        XCTAssertEqual(net.downs(b).map(\.1), [.removed])
        XCTAssertFalse(b.isUp(a.identity.publicKey))
    }

    func testReplayedInitAndFinish() {
        let net = TestNetwork()
        net.recordSent = true
        let (a, b) = linkedPair(net)
        let msg1 = net.sent.first { $0.bytes[0] == LinkFrameType.handshakeInit.rawValue }!
        let msg3 = net.sent.first { $0.bytes[0] == LinkFrameType.handshakeFinish.rawValue }!
        net.deliver(msg1)           // replayed init: answered, but the answer leads nowhere
        XCTAssertEqual(b.tableSizes.pendingResponders, 1)
        net.deliver(msg3)           // replayed finish: no pending state for its index
        XCTAssertEqual(b.stats[.staleFinish], 1)
        net.pump()
        XCTAssertEqual(a.stats[.staleResponse], 1)   // A is not waiting for that response
        XCTAssertEqual(b.stats.handshakesCompleted, 1)
        XCTAssertEqual(net.ups(b).count, 1)
        XCTAssertTrue(a.send(frame: [0x10, 7], to: b.identity.publicKey, now: net.now))
        net.pump()
        XCTAssertEqual(net.frames(b), [[0x10, 7]])
        net.advance(by: LinkConstants.pendingResponderTimeout + 1)
        XCTAssertEqual(b.tableSizes.pendingResponders, 0)
    }

    func testTamperingEveryOffsetOfEveryHandshakeMessage() {
        for type in [LinkFrameType.handshakeInit, .handshakeResponse, .handshakeFinish] {
            let length = 1 + (type == .handshakeFinish ? HandshakeMessages.finishLength : HandshakeMessages.initLength)
            for offset in 0..<length {
                let net = TestNetwork()
                var done = false
                net.filter = { d in
                    guard !done, d.bytes[0] == type.rawValue else { return d.bytes }
                    done = true
                    var t = d.bytes
                    t[offset] ^= 0x20
                    return t
                }
                let a = net.add(.generate(), at: epA)
                let b = net.add(.generate(), at: epB)
                a.addPeer(uri: net.uri(of: b), now: net.now)
                net.pump()
                XCTAssertTrue(done)
                // msg1's cookie field is outside the transcript (Docs/protocol.md, "Cookies
                // under load"), and a responder that is not busy ignores it: the link comes up.
                if type == .handshakeInit, (39..<55).contains(offset) {
                    XCTAssertTrue(a.isUp(b.identity.publicKey), "a changed cookie field broke a quiet handshake (offset \(offset))")
                    continue
                }
                XCTAssertFalse(a.isUp(b.identity.publicKey), "\(type) offset \(offset)")
                XCTAssertFalse(b.isUp(a.identity.publicKey), "\(type) offset \(offset)")
                XCTAssertGreaterThan(a.stats.totalDrops + b.stats.totalDrops, 0, "\(type) offset \(offset) not counted")
                net.advance(by: 15)
                XCTAssertTrue(a.isUp(b.identity.publicKey), "\(type) offset \(offset): link must recover")
                XCTAssertTrue(b.isUp(a.identity.publicKey), "\(type) offset \(offset): link must recover")
            }
        }
    }

    func testTamperingEveryOffsetOfTransportFrame() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        net.holding = true
        XCTAssertTrue(a.send(frame: [0x10] + Array(repeating: 0xab, count: 20), to: b.identity.publicKey, now: net.now))
        net.pump()
        net.holding = false
        let original = net.held.removeFirst()
        let before = b.stats.totalDrops
        for offset in 0..<original.bytes.count {
            var t = original
            t.bytes[offset] ^= 0x01
            net.deliver(t)
        }
        net.pump()
        XCTAssertEqual(net.frames(b), [])
        XCTAssertEqual(b.stats.totalDrops - before, UInt64(original.bytes.count))
        XCTAssertGreaterThan(b.stats[.authenticationFailed], 0)
        net.deliver(original)
        net.pump()
        XCTAssertEqual(net.frames(b).count, 1)
    }

    func testReorderingAndDuplicates() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        let keyB = b.identity.publicKey
        net.holding = true
        for i in 0..<100 { a.send(frame: [0x10, UInt8(i)], to: keyB, now: net.now) }
        net.pump()
        net.holding = false
        let batch = net.held
        net.held = []
        for d in batch.reversed() { net.deliver(d) }
        for d in batch.prefix(10) { net.deliver(d) }   // duplicates
        net.pump()
        XCTAssertEqual(Set(net.frames(b).map { $0[1] }).count, 100)
        XCTAssertEqual(net.frames(b).count, 100)
        XCTAssertEqual(b.stats[.replayed], 10)

        // Outside the window: 9000 newer packets arrive first; the oldest are then too old.
        net.holding = true
        for _ in 0..<9000 { a.send(frame: [0x11], to: keyB, now: net.now) }
        net.pump()
        net.holding = false
        let many = net.held
        net.held = []
        net.deliver(many.last!)
        for d in many.prefix(500) { net.deliver(d) }
        let width = Int(ReplayWindow.width)
        for d in many[(many.count - 100)..<(many.count - 1)] { net.deliver(d) }
        net.pump()
        let received = net.frames(b).filter { $0 == [0x11] }.count
        XCTAssertEqual(received, 1 + 99)
        XCTAssertEqual(b.stats[.replayed], 10 + 500)
        XCTAssertLessThan(many.count - 500, width + 1000)
    }

    func testRekeyWhileTrafficFlowsLosesNothing() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        let keyA = a.identity.publicKey, keyB = b.identity.publicKey
        // Transport packets take 0.5 s while handshake messages are instant, so packets sealed
        // with the old keys are still in flight when each rekey completes.
        var delayed: [TestNetwork.Datagram] = []
        net.filter = { d in
            if d.bytes[0] == LinkFrameType.transport.rawValue { delayed.append(d); return nil }
            return d.bytes
        }
        var sent = 0
        for _ in 0..<1000 {   // 500 s: four rekeys at 120 s
            XCTAssertTrue(a.send(frame: [0x10, UInt8(sent & 0xff)], to: keyB, now: net.now))
            XCTAssertTrue(b.send(frame: [0x10, UInt8(sent & 0xff)], to: keyA, now: net.now))
            sent += 1
            net.advance(by: 0.5)
            let batch = delayed
            delayed = []
            for d in batch { net.deliver(d) }
        }
        net.filter = nil
        for d in delayed { net.deliver(d) }
        net.pump()
        XCTAssertEqual(net.frames(b).count, sent)
        XCTAssertEqual(net.frames(a).count, sent)
        XCTAssertGreaterThanOrEqual(a.stats.handshakesCompleted, 4)
        XCTAssertTrue(net.downs(a).isEmpty && net.downs(b).isEmpty)
        XCTAssertEqual(net.ups(a).count, 1)
        XCTAssertEqual(net.ups(b).count, 1)
        XCTAssertEqual(a.stats[.authenticationFailed] + b.stats[.authenticationFailed], 0)
        XCTAssertEqual(a.stats[.unknownIndex] + b.stats[.unknownIndex], 0)
        // Only current + previous (+ unconfirmed next) per peer: old keypairs are released.
        XCTAssertLessThanOrEqual(a.tableSizes.indices, 3)
    }

    func testCounterExhaustionForcesRekey() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        let keyB = b.identity.publicKey
        let kp = a.peers[keyB]!.current!
        kp.sendCounter = LinkConstants.rejectAfterMessages - 1  // near exhaustion, not 2⁶⁴ sends
        XCTAssertTrue(a.send(frame: [0x10, 1], to: keyB, now: net.now))
        XCTAssertFalse(a.send(frame: [0x10, 2], to: keyB, now: net.now))
        XCTAssertEqual(a.stats[.sendExhausted], 1)
        net.pump()   // the exhaustion started a handshake, which completes here
        XCTAssertFalse(a.peers[keyB]!.current! === kp)
        XCTAssertTrue(a.send(frame: [0x10, 3], to: keyB, now: net.now))
        net.pump()
        XCTAssertEqual(net.frames(b), [[0x10, 1], [0x10, 3]])
    }

    func testDialerRestartRestoresLink() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        let keyA = a.identity.publicKey, keyB = b.identity.publicKey
        // The dialer restarts with the same identity: a fresh handshake replaces the keys.
        net.remove(a)
        let a2 = net.add(a.identity, at: epA)
        a2.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        XCTAssertTrue(a2.isUp(keyB))
        XCTAssertEqual(b.tableSizes.peers, 1)
        XCTAssertTrue(a2.send(frame: [0x10, 1], to: keyB, now: net.now))
        XCTAssertTrue(b.send(frame: [0x10, 2], to: keyA, now: net.now))
        net.pump()
        XCTAssertEqual(net.frames(b), [[0x10, 1]])
        XCTAssertEqual(net.frames(a2), [[0x10, 2]])

        // The listener restarts: the dialer notices silence and re-handshakes, staying up.
        net.remove(b)
        let b2 = net.add(b.identity, at: epB)
        net.advance(by: 30)
        XCTAssertTrue(b2.isUp(keyA))
        XCTAssertTrue(a2.isUp(keyB))
        XCTAssertTrue(net.downs(a2).isEmpty)
        XCTAssertTrue(a2.send(frame: [0x10, 3], to: keyB, now: net.now))
        net.pump()
        XCTAssertEqual(net.frames(b2).last, [0x10, 3])
    }

    func testRoamingKeepsLink() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        let keyA = a.identity.publicKey, keyB = b.identity.publicKey
        net.place(a, at: epC)
        XCTAssertTrue(a.send(frame: [0x10, 1], to: keyB, now: net.now))
        net.pump()
        XCTAssertEqual(b.endpoint(of: keyA), epC)
        XCTAssertEqual(b.peer(at: epC), keyA)
        XCTAssertNil(b.peer(at: epA))
        XCTAssertTrue(b.send(frame: [0x10, 2], to: keyA, now: net.now))
        net.pump()
        XCTAssertEqual(net.frames(a), [[0x10, 2]])
        XCTAssertEqual(net.ups(b).count, 1)
        // A forged packet from elsewhere does not move the endpoint.
        var garbage: [UInt8] = [LinkFrameType.transport.rawValue]
        garbage += Array(repeating: 0, count: 40)
        b.receive(datagram: garbage, from: epA, now: net.now)
        XCTAssertEqual(b.endpoint(of: keyA), epC)
    }

    /// Outbound handshakes in flight are bounded (`maxPendingInitiators`): those the wire can
    /// start (beacon dials, punching) are rate limited far below it, so this is the last guard.
    func testHandshakesInFlightAreBounded() {
        let net = TestNetwork()
        let b = net.add(.generate(), at: epB)
        var started = 0
        for i in 0..<(LinkConstants.maxPendingInitiators + 100) {
            let key = NodeIdentity.generate().publicKey
            if b.startAttempt(.beacon(key), to: Endpoint(ipv4: 10, 1, UInt8(i >> 8), UInt8(i & 0xff), port: 7000),
                              expectedPeer: key, attempt: 1, now: net.now) != nil { started += 1 }
        }
        XCTAssertEqual(started, LinkConstants.maxPendingInitiators)
        XCTAssertEqual(b.tableSizes.initiations, LinkConstants.maxPendingInitiators)
    }

    func testGarbageDatagramsKeepTablesBounded() {
        let net = TestNetwork()
        var config = LinkConfig()
        config.maxPendingResponders = 64
        let (_, b) = linkedPair(net, configB: config)
        var rng = SplitMix64(seed: 42)
        let lengths: [UInt8: Int] = [1: 154, 2: 154, 3: 117, 4: 29 + 8, 5: Beacon.length]
        for i in 0..<100_000 {
            let type = UInt8(truncatingIfNeeded: rng.next() % 7)
            let length = (lengths[type] != nil && rng.next() % 2 == 0) ? lengths[type]! : Int(rng.next() % 200)
            var d = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if length > 0 { d[0] = type }
            if type == 1, length == 154, rng.next() % 2 == 0 {   // plausible inits do real work
                d[1] = HandshakeMessages.version
                d[38] = TransportCipher.chacha20Poly1305.rawValue
                for j in 39..<154 { d[j] = 0 }
            }
            let source = Endpoint(ipv4: 192, 168, UInt8(truncatingIfNeeded: rng.next()), UInt8(truncatingIfNeeded: rng.next()),
                                  port: UInt16(truncatingIfNeeded: rng.next()))
            b.receive(datagram: d, from: source, now: net.now)
            _ = b.drainEvents()
            b.transmits.removeAll()
            if i % 100 == 0 { net.now = net.now.adding(seconds: 0.05); b.tick(now: net.now) }
            let sizes = b.tableSizes
            XCTAssertLessThanOrEqual(sizes.pendingResponders, 64)
            XCTAssertLessThanOrEqual(sizes.rateLimitedSources, LinkConstants.maxRateLimitedSources)
            if sizes.pendingResponders > 64 { break }
        }
        XCTAssertLessThanOrEqual(b.tableSizes.peers, 1)   // A went quiet meanwhile and timed out
        XCTAssertLessThanOrEqual(b.tableSizes.indices, 64 + 3)
        XCTAssertGreaterThan(b.stats.totalDrops, 90_000)
        XCTAssertGreaterThan(b.stats[.rateLimitedSource] + b.stats[.rateLimitedGlobal] + b.stats[.pendingEvicted], 0)
        XCTAssertGreaterThan(b.stats[.unknownIndex], 0)
        XCTAssertGreaterThan(b.stats[.unknownType], 0)
    }

    func testKeepaliveAndDeadPeerDetection() {
        let net = TestNetwork()
        net.recordSent = true
        let (a, b) = linkedPair(net)
        let keyA = a.identity.publicKey, keyB = b.identity.publicKey
        net.sent = []
        net.advance(by: 100)
        XCTAssertTrue(a.isUp(keyB) && b.isUp(keyA))
        for node in [a, b] {
            let count = net.sent.filter { $0.from == net.endpoint(of: node) }.count
            XCTAssertGreaterThanOrEqual(count, 100 / 15)
        }
        // Gaps between an idle node's transmissions stay under NAT timeouts.
        let start = net.now
        var stamps: [Instant] = []
        net.filter = { [unowned net] d in
            if d.from == net.endpoint(of: a) { stamps.append(net.now) }
            return d.bytes
        }
        net.advance(by: 100)
        let maxGap = zip(stamps, stamps.dropFirst()).map { $1.seconds(since: $0) }.max() ?? 0
        XCTAssertGreaterThan(stamps.count, 5)
        XCTAssertLessThanOrEqual(maxGap, 15)
        XCTAssertLessThanOrEqual(stamps.first!.seconds(since: start), 15)

        // Partition: both sides declare the peer dead after the timeout.
        // The timeout counts from the last packet heard, which can be up to a ping interval
        // before the partition began.
        net.filter = { _ in nil }
        let partitioned = net.now
        net.advance(by: LinkConstants.deadPeerTimeout - 1 - net.now.seconds(since: a.peers[keyB]!.lastReceived))
        XCTAssertTrue(a.isUp(keyB))
        net.advance(by: LinkConstants.deadPeerTimeout + 5 - net.now.seconds(since: partitioned))
        XCTAssertEqual(net.downs(a).map(\.1), [.timeout])
        XCTAssertEqual(net.downs(b).map(\.1), [.timeout])
        XCTAssertEqual(b.tableSizes.peers, 0)
        XCTAssertEqual(b.tableSizes.indices, 0)
        // Heal: the configured side redials (backoff ≤ 60 s) and the link returns.
        net.filter = nil
        net.advance(by: 75)
        XCTAssertTrue(a.isUp(keyB) && b.isUp(keyA))
        XCTAssertEqual(net.ups(a).count, 2)
    }

    func testRedialBackoffGrowsToMaximum() {
        let net = TestNetwork()
        let a = net.add(.generate(), at: epA)
        net.recordSent = true
        a.addPeer(uri: PeerURI(host: "10.9.9.9", port: 1), now: net.now)
        net.advance(by: 1000)
        let inits = net.sent.filter { $0.bytes[0] == LinkFrameType.handshakeInit.rawValue }
        // With 4 attempts per dial (20 s) and backoff capped at 60 s (+20 %), 1000 s holds
        // at least 1000 / 92 dials and far fewer than without backoff.
        XCTAssertGreaterThanOrEqual(inits.count, 4 * 10)
        XCTAssertLessThan(inits.count, 4 * 30)
        XCTAssertEqual(a.snapshot(now: net.now).count, 1)
        XCTAssertLessThanOrEqual(a.tableSizes.initiations, 1)
    }

    func testSimultaneousInitiationConvergesToOneLink() {
        let net = TestNetwork()
        let a = net.add(.generate(), at: epA)
        let b = net.add(.generate(), at: epB)
        a.addPeer(uri: net.uri(of: b), now: net.now)
        b.addPeer(uri: net.uri(of: a), now: net.now)
        net.pump()
        let keyA = a.identity.publicKey, keyB = b.identity.publicKey
        XCTAssertTrue(a.isUp(keyB) && b.isUp(keyA))
        XCTAssertEqual(net.ups(a).count, 1)
        XCTAssertEqual(net.ups(b).count, 1)
        XCTAssertEqual(a.tableSizes.peers, 1)
        XCTAssertEqual(b.tableSizes.peers, 1)
        for i in 0..<600 {
            XCTAssertTrue(a.send(frame: [0x10, UInt8(i & 0xff)], to: keyB, now: net.now))
            XCTAssertTrue(b.send(frame: [0x10, UInt8(i & 0xff)], to: keyA, now: net.now))
            net.advance(by: 0.5)
        }
        XCTAssertEqual(net.frames(a).count, 600)
        XCTAssertEqual(net.frames(b).count, 600)
        XCTAssertTrue(net.downs(a).isEmpty && net.downs(b).isEmpty)
        XCTAssertEqual(a.snapshot(now: net.now).count, 1)
        XCTAssertEqual(b.snapshot(now: net.now).count, 1)
    }

    func testBeaconsSignedForgedReplayedAndDialed() {
        let net = TestNetwork()
        var ids = [NodeIdentity.generate(), NodeIdentity.generate()]
        ids.sort { $0.publicKey < $1.publicKey }
        let low = net.add(ids[0], at: epA)
        let high = net.add(ids[1], at: epB)
        let beacon = high.makeBeacon(listenPort: 7002, timestamp: 100)
        XCTAssertEqual(beacon.count, Beacon.length)
        let mcastSource = Endpoint(ipv4: 10, 0, 0, 2, port: 5353)

        var forged = beacon
        forged[Beacon.length - 1] ^= 1
        low.receive(datagram: forged, from: mcastSource, now: net.now)
        XCTAssertEqual(low.stats[.beaconForged], 1)
        var retargeted = beacon
        retargeted[34] ^= 1   // the port
        low.receive(datagram: retargeted, from: mcastSource, now: net.now)
        XCTAssertEqual(low.stats[.beaconForged], 2)

        // The smaller key dials the beacon's advertised port at the sender's address.
        low.receive(datagram: beacon, from: mcastSource, now: net.now)
        XCTAssertEqual(low.stats.beaconsAccepted, 1)
        net.pump()
        XCTAssertTrue(net.events(low).contains { if case .discovered(let k, let e) = $0 { return k == ids[1].publicKey && e == epB } else { return false } })
        XCTAssertTrue(low.isUp(ids[1].publicKey))
        XCTAssertTrue(high.isUp(ids[0].publicKey))

        low.receive(datagram: beacon, from: mcastSource, now: net.now)
        XCTAssertEqual(low.stats[.beaconReplayed], 1)
        low.receive(datagram: low.makeBeacon(listenPort: 1, timestamp: 1), from: epA, now: net.now)
        XCTAssertEqual(low.stats[.ownBeacon], 1)
        // The larger key hears the smaller's beacon but leaves the dialing to it.
        high.receive(datagram: low.makeBeacon(listenPort: 7001, timestamp: 5), from: epA, now: net.now)
        XCTAssertEqual(high.stats.beaconsAccepted, 1)
        XCTAssertEqual(high.tableSizes.initiations, 0)
        XCTAssertEqual(net.ups(low).count, 1)
    }

    /// A node with an allow-list dials no beacon sender outside it: the dial is an outbound
    /// handshake, which the responder-side check never sees.
    func testBeaconsFromKeysOutsideTheAllowListAreNotDialed() {
        let net = TestNetwork()
        var ids = [NodeIdentity.generate(), NodeIdentity.generate()]
        ids.sort { $0.publicKey < $1.publicKey }
        var config = LinkConfig()
        config.allowedPublicKeys = [NodeIdentity.generate().publicKey]
        let low = net.add(ids[0], at: epA, config: config)
        let high = net.add(ids[1], at: epB)
        low.receive(datagram: high.makeBeacon(listenPort: 7002, timestamp: 100), from: Endpoint(ipv4: 10, 0, 0, 2, port: 5353), now: net.now)
        XCTAssertEqual(low.stats.beaconsAccepted, 1)
        XCTAssertEqual(low.tableSizes.initiations, 0, "dialled a key outside the allow-list")
        net.pump()
        XCTAssertFalse(low.isUp(ids[1].publicKey))
    }

    func testRemovePeerTakesLinkDown() {
        let net = TestNetwork()
        let (a, b) = linkedPair(net)
        a.removePeer(uri: net.uri(of: b), now: net.now)
        XCTAssertEqual(net.downs(a).count, 0)   // not drained yet
        net.pump()
        XCTAssertEqual(net.downs(a).map(\.1), [.removed])
        XCTAssertTrue(a.snapshot(now: net.now).isEmpty)
        net.advance(by: 100)
        XCTAssertFalse(a.isUp(b.identity.publicKey))
        XCTAssertFalse(b.isUp(a.identity.publicKey))
    }

    func testNameResolutionRequestedFromRuntime() {
        let net = TestNetwork()
        let a = net.add(.generate(), at: epA)
        let b = net.add(.generate(), at: epB)
        let uri = PeerURI(host: "b.example", port: 7002, pinnedKey: b.identity.publicKey)
        a.addPeer(uri: uri, now: net.now)
        net.pump()
        XCTAssertTrue(net.events(a).contains { if case .resolve(let u) = $0 { return u == uri } else { return false } })
        XCTAssertEqual(a.snapshot(now: net.now).first?.state, .resolving)
        a.resolved(uri: uri, endpoints: [epB], now: net.now)
        net.pump()
        XCTAssertTrue(a.isUp(b.identity.publicKey))
    }
}
