import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// Two session layers wired back to back (the router between them is a perfect pipe), on a
/// virtual clock. `wire` records every session message that crossed.
final class SessionPair {
    let aIdentity = NodeIdentity.generate()
    let bIdentity = NodeIdentity.generate()
    var a: IronwoodSessions
    var b: IronwoodSessions
    var now = Instant(seconds: 1000)
    var unix: UInt64 = 1_796_620_000
    var wire: [(from: PublicKey, to: PublicKey, payload: [UInt8])] = []
    var deliveredToA: [[UInt8]] = []
    var deliveredToB: [[UInt8]] = []

    init(config: IronwoodSessionsConfig = IronwoodSessionsConfig()) {
        a = IronwoodSessions(identity: aIdentity, now: now, unixSeconds: unix, networkMTU: 65535, config: config)
        b = IronwoodSessions(identity: bIdentity, now: now, unixSeconds: unix, networkMTU: 65535, config: config)
    }

    var aKey: PublicKey { aIdentity.publicKey }
    var bKey: PublicKey { bIdentity.publicKey }

    func advance(_ seconds: Double) {
        now = now.adding(seconds: seconds)
        a.tick(now: now)
        b.tick(now: now)
    }

    /// Restarts B: a new session layer with B's key and no memory.
    func restartB() {
        b = IronwoodSessions(identity: bIdentity, now: now, unixSeconds: unix + UInt64(now.seconds(since: Instant(seconds: 1000))),
                             networkMTU: 65535)
    }

    /// Carries every output across until both sides are quiet.
    func pump(filter: ((PublicKey, [UInt8]) -> [UInt8]?)? = nil) {
        var moved = true
        while moved {
            moved = false
            for (side, other) in [(a, b), (b, a)] {
                let from = side === a ? aKey : bKey
                for out in side.takeOutput() {
                    moved = true
                    switch out {
                    case .network(let to, var payload):
                        XCTAssertEqual(to, side === a ? bKey : aKey)
                        if let filter {
                            guard let kept = filter(from, payload) else { continue }
                            payload = kept
                        }
                        wire.append((from, to, payload))
                        other.receive(from: from, payload: payload, now: now)
                    case .deliver(let sender, let message):
                        XCTAssertEqual(sender, side === a ? bKey : aKey)
                        if side === a { deliveredToA.append(message) } else { deliveredToB.append(message) }
                    }
                }
            }
        }
    }

    /// Opens the session with one message from A to B.
    func open() {
        a.send(to: bKey, message: Array("open".utf8), now: now)
        pump()
    }

    func types(from key: PublicKey) -> [UInt8] { wire.filter { $0.from == key }.map { $0.payload[0] } }
}

final class IronwoodSessionsTests: XCTestCase {
    /// A's first message waits while the handshake runs: Init, Ack, A's own Ack (B was new to
    /// A when B's Ack came), then the message — the exchange the real nodes had in the capture.
    func testOpenAndDataBothWays() throws {
        let p = SessionPair()
        p.open()
        XCTAssertEqual(p.deliveredToB, [Array("open".utf8)])
        XCTAssertEqual(p.types(from: p.aKey), [1, 2, 3])
        XCTAssertEqual(p.types(from: p.bKey), [2])
        // B's Ack and A's Ack carry the same second: B ignores A's (ironwood does too).
        XCTAssertEqual(p.b.drops[.staleInit], 1)
        XCTAssertEqual(p.a.sessionCount, 1)
        XCTAssertEqual(p.b.sessionCount, 1)
        XCTAssertTrue(p.a.waitingKeys.isEmpty)

        for i in 0..<20 {
            p.a.send(to: p.bKey, message: [UInt8](repeating: UInt8(i), count: i), now: p.now)
            p.b.send(to: p.aKey, message: [UInt8](repeating: UInt8(100 + i), count: 3 * i), now: p.now)
            p.pump()
        }
        XCTAssertEqual(p.deliveredToB.count, 21)
        XCTAssertEqual(p.deliveredToA.count, 20)
        XCTAssertEqual(p.deliveredToA.last, [UInt8](repeating: 119, count: 57))
        XCTAssertEqual(p.types(from: p.aKey).filter { $0 != 3 }.count, 2, "no more handshakes once open")
        XCTAssertEqual(p.types(from: p.bKey).filter { $0 != 3 }.count, 1)
        XCTAssertEqual(p.a.drops.total, 0)
        let summary = try XCTUnwrap(p.a.sessionSummaries.first)
        XCTAssertEqual(summary.key, p.bKey)
        XCTAssertEqual(summary.txBytes, UInt64(4 + (0..<20).reduce(0, +)))
        XCTAssertEqual(summary.rxBytes, UInt64((0..<20).reduce(0) { $0 + 3 * $1 }))
    }

    /// Data alone moves the keys forward, at most once a minute, with no handshake: over ten
    /// minutes of traffic both ends' key numbers climb together and every message arrives.
    func testRatchetRotatesKeysOverTime() throws {
        let p = SessionPair()
        p.open()
        var sent = 0
        var keySeqs: [UInt64] = []
        for round in 0..<120 {
            p.advance(5)
            for _ in 0..<3 {
                p.a.send(to: p.bKey, message: [UInt8(round & 0xff)], now: p.now)
                p.b.send(to: p.aKey, message: [UInt8(round & 0xff), 1], now: p.now)
                sent += 1
            }
            p.pump()
            keySeqs.append(try XCTUnwrap(p.a.sessionSummaries.first).localKeySeq)
        }
        XCTAssertEqual(p.deliveredToB.count, sent + 1)
        XCTAssertEqual(p.deliveredToA.count, sent)
        XCTAssertEqual(p.a.initsSent, 1)
        XCTAssertEqual(p.b.initsSent, 0)
        XCTAssertEqual(p.a.drops.total, 0)
        XCTAssertEqual(p.b.drops.total, 1) // the stale second Ack of the opening
        let aSeq = try XCTUnwrap(p.a.sessionSummaries.first), bSeq = try XCTUnwrap(p.b.sessionSummaries.first)
        // 600 s: one rotation a minute on each side, about ten.
        XCTAssertGreaterThanOrEqual(aSeq.localKeySeq, 9)
        XCTAssertLessThanOrEqual(aSeq.localKeySeq, 13)
        // Each side's idea of the other's key number is at most one step behind.
        XCTAssertLessThanOrEqual(max(aSeq.remoteKeySeq, bSeq.localKeySeq) - min(aSeq.remoteKeySeq, bSeq.localKeySeq), 1)
        XCTAssertLessThanOrEqual(max(bSeq.remoteKeySeq, aSeq.localKeySeq) - min(bSeq.remoteKeySeq, aSeq.localKeySeq), 1)
        // Never more than one step per minute: 12 rounds of 5 s.
        for (x, y) in zip(keySeqs, keySeqs.dropFirst(12)) { XCTAssertLessThanOrEqual(y - x, 2) }
        // The ratchet happens because the peer seals with its next key: the data packets carry
        // more than one key number.
        XCTAssertGreaterThan(Set(p.wire.filter { $0.payload[0] == 3 }.map { IronwoodSessionTraffic(payload: $0.payload)!.senderKeySeq }).count, 8)
    }

    /// No replay window: a packet seen again, or one older than the newest, is dropped silently
    /// (no Init: it is not a sign of lost keys). Checked for both key pairs data arrives under:
    /// within a minute of B's last ratchet A's packets use B's "next to send" pair, after it
    /// (once B has moved on) the current one.
    func testReplayedAndReorderedPacketsDropped() throws {
        let p = SessionPair()
        p.open()
        p.b.send(to: p.aKey, message: [0], now: p.now) // B's first packet ratchets A; settle it
        p.pump()
        try checkReplays(p, pair: "next to send")
        p.advance(61)
        p.a.send(to: p.bKey, message: [0], now: p.now) // B ratchets on it: the pair becomes current
        p.pump()
        try checkReplays(p, pair: "current")
        XCTAssertEqual(p.b.drops[.replayed], 6)
        XCTAssertEqual(p.b.initsSent, 0)
    }

    func checkReplays(_ p: SessionPair, pair: String) throws {
        let keySeqs = try XCTUnwrap(p.b.sessionSummaries.first)
        var captured: [[UInt8]] = []
        for i in 1...3 { p.a.send(to: p.bKey, message: [UInt8(i)], now: p.now) }
        for out in p.a.takeOutput() { if case .network(_, let payload) = out { captured.append(payload) } }
        XCTAssertEqual(captured.count, 3)
        let header = try XCTUnwrap(IronwoodSessionTraffic(payload: captured[0]))
        if pair == "current" {
            XCTAssertEqual(header.senderKeySeq, keySeqs.remoteKeySeq)
        } else {
            XCTAssertEqual(header.senderKeySeq, keySeqs.remoteKeySeq + 1)
        }
        for payload in [captured[0], captured[0], captured[2], captured[1], captured[2]] {
            p.b.receive(from: p.aKey, payload: payload, now: p.now)
        }
        let out = p.b.takeOutput()
        XCTAssertEqual(out, [.deliver(from: p.aKey, message: [1]), .deliver(from: p.aKey, message: [3])], pair)
    }

    /// A send nonce that wraps moves the sender's keys on by itself (no nonce repeats under a
    /// key), so the receiver sees the third case: the sender's next key to its receive key
    /// ("ratcheted early"). The first packet after the wrap carries nonce 0 and is lost, as in
    /// ironwood; the next opens, and its replay is dropped by that pair's own counter.
    func testNonceWrapMovesKeysAndTheEarlyPairIsReplayChecked() throws {
        let p = SessionPair()
        p.open()
        p.b.send(to: p.aKey, message: [0], now: p.now)
        p.pump()
        p.advance(61)
        p.a.send(to: p.bKey, message: [0], now: p.now) // B ratchets: A's data now uses B's recv pair
        p.pump()
        let session = try XCTUnwrap(p.a.sessions[p.bKey])
        let before = session.localKeySeq
        session.sendNonce = .max - 1
        for i in 1...3 { p.a.send(to: p.bKey, message: [UInt8(i)], now: p.now) }
        let captured = p.a.takeOutput().compactMap { out -> [UInt8]? in
            if case .network(_, let payload) = out { return payload } else { return nil }
        }
        XCTAssertEqual(session.localKeySeq, before + 1)
        XCTAssertEqual(captured.map { IronwoodSessionTraffic(payload: $0)!.nonce }, [.max, 0, 1])
        let bSession = try XCTUnwrap(p.b.sessionSummaries.first)
        let early = try XCTUnwrap(IronwoodSessionTraffic(payload: captured[2]))
        XCTAssertEqual(early.senderKeySeq, bSession.remoteKeySeq + 1)
        XCTAssertEqual(early.receiverKeySeq + 1, bSession.localKeySeq)
        for payload in captured + [captured[2]] { p.b.receive(from: p.aKey, payload: payload, now: p.now) }
        XCTAssertEqual(p.b.takeOutput(), [.deliver(from: p.aKey, message: [1]), .deliver(from: p.aKey, message: [3])])
        XCTAssertEqual(p.b.drops[.replayed], 2)
    }

    /// A box that does not open, or key numbers that fit no pair, answer with an Init that
    /// carries B's current keys; A takes it and both go on.
    func testFailedOpenAndUnknownKeySeqAnsweredWithInit() throws {
        let p = SessionPair()
        p.open()
        p.advance(2)
        p.a.send(to: p.bKey, message: [7, 7, 7], now: p.now)
        guard case .network(_, var payload)? = p.a.takeOutput().first else { return XCTFail("no packet") }
        payload[payload.count - 1] ^= 1
        p.b.receive(from: p.aKey, payload: payload, now: p.now)
        var out = p.b.takeOutput()
        XCTAssertEqual(out.count, 1)
        guard case .network(let to, let initBytes)? = out.first else { return XCTFail("no answer") }
        XCTAssertEqual(to, p.aKey)
        let answer = try IronwoodSessionInit.open(initBytes, recipient: p.aIdentity, sender: p.bKey)
        XCTAssertEqual(answer.kind, .initiate)
        XCTAssertEqual(p.b.drops[.failedOpen], 1)

        // Unplaceable key numbers (a second later: answers are one a second per key).
        p.advance(1)
        var header = try XCTUnwrap(IronwoodSessionTraffic(payload: payload))
        header.senderKeySeq += 5
        p.b.receive(from: p.aKey, payload: header.encoded, now: p.now)
        out = p.b.takeOutput()
        XCTAssertEqual(out.count, 1)
        guard case .network(_, let second)? = out.first else { return XCTFail("no answer") }
        XCTAssertEqual(second[0], 1)
        XCTAssertEqual(p.b.drops[.unknownKeySeq], 1)
        XCTAssertTrue(p.deliveredToB.count == 1)

        // The Init reaches A, which updates and acknowledges; traffic flows both ways after.
        p.a.receive(from: p.bKey, payload: initBytes, now: p.now)
        p.pump()
        p.advance(1)
        p.a.send(to: p.bKey, message: [1], now: p.now)
        p.b.send(to: p.aKey, message: [2], now: p.now)
        p.pump()
        XCTAssertEqual(p.deliveredToB.last, [1])
        XCTAssertEqual(p.deliveredToA.last, [2])
    }

    /// Data from a key with no session: an Init with keys nobody keeps, nothing stored.
    func testDataWithoutSessionAnsweredWithThrowawayInit() throws {
        let p = SessionPair()
        p.open()
        var captured: [UInt8] = []
        p.a.send(to: p.bKey, message: [9], now: p.now)
        if case .network(_, let payload)? = p.a.takeOutput().first { captured = payload }
        let fresh = IronwoodSessions(identity: p.bIdentity, now: p.now, unixSeconds: p.unix, networkMTU: 65535)
        fresh.receive(from: p.aKey, payload: captured, now: p.now)
        let out = fresh.takeOutput()
        XCTAssertEqual(out.count, 1)
        guard case .network(_, let initBytes)? = out.first else { return XCTFail("no Init") }
        XCTAssertEqual(try IronwoodSessionInit.open(initBytes, recipient: p.aIdentity, sender: p.bKey).keySeq, 0)
        XCTAssertEqual(fresh.sessionCount, 0)
        XCTAssertTrue(fresh.waitingKeys.isEmpty)
        XCTAssertEqual(fresh.drops[.noSession], 1)
    }

    /// Data we cannot open is answered with an Init at most once a second per key and
    /// `answersPerSecond` in all: the source key of Traffic is unproven, so forged packets would
    /// otherwise make us sign and send an Init for each, toward any key they name.
    func testInitAnswersAreThrottledPerKeyAndInAll() throws {
        var config = IronwoodSessionsConfig()
        config.answersPerSecond = 20
        let p = SessionPair(config: config)
        // Enough to pass for data: type, three key numbers and a box that will not open.
        let junk: [UInt8] = [IronwoodSessionTraffic.type, 0, 0, 1] + [UInt8](repeating: 0x5a, count: IronwoodSessionTraffic.minimumBytes)
        let one = NodeIdentity.generate().publicKey
        for _ in 0..<5 { p.b.receive(from: one, payload: junk, now: p.now) }
        XCTAssertEqual(p.b.takeOutput().count, 1, "one Init a second per key")
        XCTAssertEqual(p.b.drops[.noSession], 5)
        XCTAssertEqual(p.b.drops[.answerThrottled], 4)
        p.advance(1)
        p.b.receive(from: one, payload: junk, now: p.now)
        XCTAssertEqual(p.b.takeOutput().count, 1, "and again a second later")

        // Many keys within one second: the budget in all (20, one already spent this second).
        p.advance(1)
        for _ in 0..<50 { p.b.receive(from: NodeIdentity.generate().publicKey, payload: junk, now: p.now) }
        XCTAssertEqual(p.b.takeOutput().count, 20)
        XCTAssertEqual(p.b.drops[.answerThrottled], 4 + 30)
        // Refilled after a second.
        p.advance(1)
        p.b.receive(from: NodeIdentity.generate().publicKey, payload: junk, now: p.now)
        XCTAssertEqual(p.b.takeOutput().count, 1)
    }

    /// B restarts with no memory of the session while A still has it: A's data makes B answer
    /// with Inits until the two agree again, within a few seconds of traffic; after that every
    /// message arrives both ways.
    func testRestartOfOneEndRecovers() throws {
        let p = SessionPair()
        p.open()
        for i in 0..<5 {
            p.a.send(to: p.bKey, message: [UInt8(i)], now: p.now)
            p.b.send(to: p.aKey, message: [UInt8(i)], now: p.now)
            p.pump()
        }
        p.advance(3)
        p.restartB()
        var recoveredAt: Int?
        for round in 0..<10 {
            p.advance(2)
            let (beforeA, beforeB) = (p.deliveredToA.count, p.deliveredToB.count)
            p.a.send(to: p.bKey, message: [0xa0, UInt8(round)], now: p.now)
            p.b.send(to: p.aKey, message: [0xb0, UInt8(round)], now: p.now)
            p.pump()
            let both = p.deliveredToB.count > beforeB && p.deliveredToA.count > beforeA
            if let r = recoveredAt {
                XCTAssertTrue(both, "round \(round): recovered at \(r) but lost a message")
            } else if both {
                recoveredAt = round
            }
        }
        XCTAssertNotNil(recoveredAt)
        XCTAssertLessThanOrEqual(try XCTUnwrap(recoveredAt), 2)
        XCTAssertEqual(p.a.sessionCount, 1)
        XCTAssertEqual(p.b.sessionCount, 1)
    }

    /// Restart of the other end, the one that opened the session.
    func testRestartOfOpenerRecovers() throws {
        let p = SessionPair()
        p.open()
        p.b.send(to: p.aKey, message: [1], now: p.now)
        p.pump()
        p.advance(3)
        // Swap roles by restarting A: a fresh layer with A's key.
        p.a = IronwoodSessions(identity: p.aIdentity, now: p.now, unixSeconds: p.unix + 3, networkMTU: 65535)
        var ok = 0
        for round in 0..<6 {
            p.advance(2)
            let (beforeA, beforeB) = (p.deliveredToA.count, p.deliveredToB.count)
            p.b.send(to: p.aKey, message: [UInt8(round)], now: p.now)
            p.a.send(to: p.bKey, message: [UInt8(round)], now: p.now)
            p.pump()
            if p.deliveredToB.count > beforeB && p.deliveredToA.count > beforeA { ok += 1 }
        }
        XCTAssertGreaterThanOrEqual(ok, 4)
    }

    /// Every single-bit change of a data packet is refused: nothing is delivered until the
    /// original arrives, which still opens (failed attempts consume no nonce).
    func testTamperedDataRefused() throws {
        let p = SessionPair()
        p.open()
        p.a.send(to: p.bKey, message: Array("secret message".utf8), now: p.now)
        guard case .network(_, let payload)? = p.a.takeOutput().first else { return XCTFail() }
        for i in 0..<payload.count {
            for bit in [0x01, 0x80] as [UInt8] {
                var bad = payload
                bad[i] ^= bit
                p.b.receive(from: p.aKey, payload: bad, now: p.now)
                for out in p.b.takeOutput() {
                    if case .deliver = out { XCTFail("byte \(i) bit \(bit) delivered") }
                }
            }
        }
        p.b.receive(from: p.aKey, payload: payload, now: p.now)
        XCTAssertEqual(p.b.takeOutput(), [.deliver(from: p.aKey, message: Array("secret message".utf8))])
        // Truncations too.
        for n in 0..<payload.count {
            p.b.receive(from: p.aKey, payload: Array(payload.prefix(n)), now: p.now)
            for out in p.b.takeOutput() { if case .deliver = out { XCTFail("prefix \(n) delivered") } }
        }
    }

    /// A changed Init opens no session and sends nothing.
    func testTamperedInitRefused() throws {
        let p = SessionPair()
        p.a.send(to: p.bKey, message: [1], now: p.now)
        guard case .network(_, let initBytes)? = p.a.takeOutput().first else { return XCTFail() }
        for i in 0..<initBytes.count {
            var bad = initBytes
            bad[i] ^= 0x04
            p.b.receive(from: p.aKey, payload: bad, now: p.now)
        }
        // The right Init from the wrong key: the signature is A's.
        p.b.receive(from: NodeIdentity.generate().publicKey, payload: initBytes, now: p.now)
        XCTAssertEqual(p.b.sessionCount, 0)
        XCTAssertTrue(p.b.takeOutput().isEmpty)
        XCTAssertEqual(p.b.drops[.badInit] + p.b.drops[.unknownType], UInt64(initBytes.count + 1))
        p.b.receive(from: p.aKey, payload: initBytes, now: p.now)
        XCTAssertEqual(p.b.sessionCount, 1)
        // Replayed: same seq, ignored, no second Ack.
        _ = p.b.takeOutput()
        p.b.receive(from: p.aKey, payload: initBytes, now: p.now)
        XCTAssertTrue(p.b.takeOutput().isEmpty)
        XCTAssertEqual(p.b.drops[.staleInit], 1)
    }

    /// Idle sessions end after a minute; a message waiting for a handshake that never finishes
    /// is dropped after a minute; the deadline says when.
    func testTimeouts() throws {
        let p = SessionPair()
        p.open()
        let lonely = NodeIdentity.generate().publicKey
        p.a.send(to: lonely, message: [1], now: p.now)
        _ = p.a.takeOutput()
        XCTAssertEqual(p.a.waitingKeys, [lonely])
        let deadline = try XCTUnwrap(p.a.nextDeadline)
        XCTAssertLessThanOrEqual(deadline, p.now.adding(seconds: 60))
        p.advance(30)
        p.a.send(to: p.bKey, message: [2], now: p.now)
        p.pump()
        p.advance(31)
        XCTAssertEqual(p.a.waitingKeys, [])
        XCTAssertEqual(p.a.drops[.bufferExpired], 1)
        XCTAssertEqual(p.a.sessionCount, 1, "used 31 s ago")
        XCTAssertEqual(p.b.sessionCount, 1, "opened a packet 31 s ago")
        p.advance(30)
        XCTAssertEqual(p.a.sessionCount, 0)
        XCTAssertEqual(p.b.sessionCount, 0)
        XCTAssertNil(p.a.nextDeadline)
        // A new message opens a new session.
        p.a.send(to: p.bKey, message: [3], now: p.now)
        p.pump()
        XCTAssertEqual(p.deliveredToB.last, [3])
    }

    /// B's Acks are lost (in the field: they wait for a lookup that went out before B's blooms
    /// knew A). ironwood would stay half open for a minute: every later Init is the same copy,
    /// stale to B. Here both ends heal it: A's copies sent a second later carry a newer seq,
    /// which B acknowledges; and B acknowledges a repeated copy again, at most once a second.
    func testLostAckHealsByANewerInitAndByAckingARepeatedCopyAgain() throws {
        let p = SessionPair()
        var dropAcks = true
        let lossy: (PublicKey, [UInt8]) -> [UInt8]? = { _, payload in
            dropAcks && payload[0] == IronwoodSessionInit.Kind.acknowledge.rawValue ? nil : payload
        }
        func initSeqs() throws -> [UInt64] {
            try p.wire.filter { $0.from == p.aKey && $0.payload[0] == IronwoodSessionInit.Kind.initiate.rawValue }
                .map { try IronwoodSessionInit.open($0.payload, recipient: p.bIdentity, sender: p.aKey).seq }
        }
        p.a.send(to: p.bKey, message: [1], now: p.now)
        p.pump(filter: lossy)
        XCTAssertEqual(p.b.acksSent, 1)
        let firstCopy = try XCTUnwrap(p.wire.first { $0.from == p.aKey }).payload

        // Within the second: the same copy, not acknowledged again.
        p.advance(0.4)
        p.a.send(to: p.bKey, message: [2], now: p.now)
        p.pump(filter: lossy)
        XCTAssertEqual(try initSeqs().count, 2)
        XCTAssertEqual(Set(try initSeqs()).count, 1, "one copy within a second")
        XCTAssertEqual(p.b.acksSent, 1)
        XCTAssertEqual(p.b.drops[.staleInit], 1)

        // A second later B gets the first copy once more (ironwood's peer sends only that one):
        // acknowledged again.
        p.advance(0.7)
        p.b.receive(from: p.aKey, payload: firstCopy, now: p.now)
        p.pump(filter: lossy)
        XCTAssertEqual(p.b.acksSent, 2)

        // A's next copy is stamped anew: newer than the first, so B takes it as an update and
        // acknowledges it, whatever its re-ack throttle says.
        p.a.send(to: p.bKey, message: [3], now: p.now)
        p.pump(filter: lossy)
        let seqs = try initSeqs()
        XCTAssertGreaterThan(seqs.last!, seqs.first!)
        XCTAssertEqual(p.b.acksSent, 3)

        // An Ack that arrives opens A's side; the latest message goes through.
        dropAcks = false
        p.advance(1.1)
        p.a.send(to: p.bKey, message: [4], now: p.now)
        p.pump()
        XCTAssertEqual(p.deliveredToB.last, [4])
        XCTAssertEqual(p.a.sessionCount, 1)
    }

    /// The tables fed by the wire and the sender are bounded; what is pushed out is counted.
    func testBounds() throws {
        var config = IronwoodSessionsConfig()
        config.maxSessions = 3
        config.maxBuffers = 2
        let me = IronwoodSessions(identity: NodeIdentity.generate(), now: .zero, unixSeconds: 1_800_000_000, networkMTU: 2000, config: config)
        var now = Instant(seconds: 1)
        for _ in 0..<5 {
            let peer = NodeIdentity.generate()
            let init_ = IronwoodSessionInit(kind: .initiate, current: Sodium.x25519Keypair().publicKey,
                                            next: Sodium.x25519Keypair().publicKey, keySeq: 0, seq: 1_800_000_000)
            me.receive(from: peer.publicKey, payload: init_.sealed(from: peer, to: me.identity.publicKey, ephemeralSecret: Sodium.randomBytes(32))!, now: now)
            now = now.adding(seconds: 1)
        }
        XCTAssertEqual(me.sessionCount, 3)
        XCTAssertEqual(me.drops[.sessionTableFull], 2)
        for _ in 0..<4 { me.send(to: NodeIdentity.generate().publicKey, message: [1], now: now); now = now.adding(seconds: 1) }
        XCTAssertEqual(me.waitingKeys.count, 2)
        XCTAssertEqual(me.drops[.bufferFull], 2)
        me.send(to: NodeIdentity.generate().publicKey, message: [UInt8](repeating: 0, count: me.messageMTU + 1), now: now)
        XCTAssertEqual(me.drops[.oversized], 1)
        XCTAssertEqual(me.messageMTU, 2000 - 79)
    }

    // MARK: Against the real nodes

    func payloads(_ f: CaptureFixture, _ side: CaptureFixture.Side) throws -> [[UInt8]] {
        try f.bodies(side, .traffic).map { try IronwoodTraffic(body: $0).payload }
    }

    /// We play the dialer B and receive what the real listener A sent it: its Init opens a
    /// session and we answer with an Ack A can open; A's own Ack follows; A's data was sealed
    /// for keys the real B made, so it does not open here, and we answer with an Init, as
    /// ironwood would.
    func testRealInitAckAndDataAsTheDialer() throws {
        let f = try CaptureFixture.load(.traffic)
        let fromListener = try payloads(f, .listener)
        let initMessage = try IronwoodSessionInit.open(fromListener[0], recipient: f.dialer, sender: f.listener.publicKey)
        let me = IronwoodSessions(identity: f.dialer, now: .zero, unixSeconds: initMessage.seq, networkMTU: 65535)
        me.receive(from: f.listener.publicKey, payload: fromListener[0], now: .zero)
        var out = me.takeOutput()
        XCTAssertEqual(out.count, 1)
        guard case .network(let to, let ack)? = out.first else { return XCTFail() }
        XCTAssertEqual(to, f.listener.publicKey)
        let opened = try IronwoodSessionInit.open(ack, recipient: f.listener, sender: f.dialer.publicKey)
        XCTAssertEqual(opened.kind, .acknowledge)
        XCTAssertEqual(opened.keySeq, 1)
        XCTAssertEqual(me.sessionSummaries.first?.remoteKeySeq, initMessage.keySeq)

        me.receive(from: f.listener.publicKey, payload: fromListener[1], now: .zero)
        XCTAssertTrue(me.takeOutput().isEmpty)
        XCTAssertEqual(me.drops[.badInit], 0)
        for (i, data) in fromListener.dropFirst(2).enumerated() {
            // A second apart: answers are one a second per key.
            me.receive(from: f.listener.publicKey, payload: data, now: Instant.zero.adding(seconds: Double(i + 1)))
            out = me.takeOutput()
            XCTAssertEqual(out.count, 1)
            guard case .network(_, let answer)? = out.first else { return XCTFail() }
            XCTAssertEqual(try IronwoodSessionInit.open(answer, recipient: f.listener, sender: f.dialer.publicKey).kind, .initiate)
        }
        XCTAssertEqual(me.drops[.failedOpen] + me.drops[.unknownKeySeq], 3)
    }

    /// We play the listener A with no memory: the real dialer's Ack is taken as an Init
    /// (acknowledged), its data answered with Inits.
    func testRealAckAsTheListener() throws {
        let f = try CaptureFixture.load(.traffic)
        let fromDialer = try payloads(f, .dialer)
        let me = IronwoodSessions(identity: f.listener, now: .zero, unixSeconds: 1_796_620_017, networkMTU: 65535)
        me.receive(from: f.dialer.publicKey, payload: fromDialer[0], now: .zero)
        let out = me.takeOutput()
        XCTAssertEqual(me.sessionCount, 1)
        guard case .network(_, let ack)? = out.first, out.count == 1 else { return XCTFail() }
        XCTAssertEqual(try IronwoodSessionInit.open(ack, recipient: f.dialer, sender: f.listener.publicKey).kind, .acknowledge)
        // A fresh layer and the dialer's data: no session, a throwaway Init.
        let fresh = IronwoodSessions(identity: f.listener, now: .zero, unixSeconds: 1_796_620_017, networkMTU: 65535)
        fresh.receive(from: f.dialer.publicKey, payload: fromDialer[1], now: .zero)
        XCTAssertEqual(fresh.drops[.noSession], 1)
        XCTAssertEqual(fresh.takeOutput().count, 1)
    }
}
