import XCTest
import PlanetCore
import PlanetLink
@testable import PlanetNode
import PlanetTesting

/// Control messages inside an end-to-end session (type 0x07): sealed with the session's keys,
/// relayed like data, opened only by the peer, replay-protected, each type to its handler.
final class ControlRecorder: SessionControlHandler {
    let controlType = SessionControlType.experimental
    var got: [(body: [UInt8], from: PublicKey)] = []
    func receive(_ body: ArraySlice<UInt8>, from peer: PublicKey, now: Instant) { got.append((Array(body), peer)) }
}

extension NodeMeshTests {
    func testControlMessagesCrossRelaysSealedToTheirHandler() throws {
        let h = try line4WithSession()
        let a = h.nodes["a"]!, b = h.nodes["b"]!, r1 = h.nodes["r1"]!
        let recorder = ControlRecorder()
        b.register(recorder)
        let forwarded = r1.stats.forwardedPackets, inPlace = h.relayedInPlace["r1", default: 0]
        let body: [UInt8] = Array("candidate [2001:db8::1]:8470".utf8)
        XCTAssertTrue(a.sendControl(.experimental, body: body, to: b.identity.publicKey, now: h.now))
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(recorder.got.map(\.body), [body])
        XCTAssertEqual(recorder.got.first?.from, a.identity.publicKey)
        XCTAssertEqual(b.stats.controlReceived, 1)
        XCTAssertEqual(h.takeTun("b"), [], "a control message reached the TUN")
        XCTAssertEqual(r1.stats.forwardedPackets, forwarded + 1)
        XCTAssertEqual(h.relayedInPlace["r1", default: 0], inPlace + 1, "the relay did not forward it in place")
    }

    func testControlWaitsForASessionAndStartsOne() throws {
        let h = line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        let recorder = ControlRecorder()
        b.register(recorder)
        XCTAssertFalse(a.sendControl(.experimental, body: [1], to: b.identity.publicKey, now: h.now), "sent without a session")
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(a.sessions.session(b.identity.publicKey)?.isEstablished, true, "no session was started")
        XCTAssertTrue(a.sendControl(.experimental, body: [2], to: b.identity.publicKey, now: h.now))
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(recorder.got.map(\.body), [[2]])
        XCTAssertFalse(a.sendControl(.experimental, body: [UInt8](repeating: 0, count: Node.maxControlBody + 1),
                                     to: b.identity.publicKey, now: h.now), "an oversized body was sent")
    }

    func testControlOfAnUnregisteredTypeIsCounted() throws {
        let h = try line4WithSession()
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        XCTAssertTrue(a.sendControl(.experimental, body: [7], to: b.identity.publicKey, now: h.now))
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(b.stats.dropped(.controlUnknownType), 1)
        XCTAssertEqual(b.stats.controlReceived, 0)
    }

    /// The session's replay window and authentication cover control messages: the same sealed
    /// message delivered again (under a fresh link frame, as a relay could) reaches its handler
    /// once; one with a flipped ciphertext bit never.
    func testControlMessagesAreReplayProtectedAndAuthenticated() throws {
        let h = try line4WithSession()
        let a = h.nodes["a"]!, b = h.nodes["b"]!, r1 = h.nodes["r1"]!, r2 = h.nodes["r2"]!
        let recorder = ControlRecorder()
        b.register(recorder)
        XCTAssertTrue(a.sendControl(.experimental, body: [9, 9], to: b.identity.publicKey, now: h.now))
        // Take a's datagram off the wire and open it with r1's link, as r1 would.
        let (datagram, _) = try XCTUnwrap(a.transmits.drain().last)
        r1.links.receive(datagram: datagram, from: h.endpoints["a"]!, now: h.now)
        let overlay = try XCTUnwrap(r1.links.drainEvents().compactMap { e -> [UInt8]? in
            if case .frame(let f, _) = e { return Array(f) } else { return nil }
        }.first)
        XCTAssertEqual(overlay.first, InnerFrameType.overlay.rawValue)
        XCTAssertEqual(overlay[OverlayPacket.headerLength], SessionMessageType.control.rawValue)
        let bKey = b.identity.publicKey
        for _ in 0..<2 { XCTAssertTrue(r2.links.send(frame: overlay, to: bKey, now: h.now)) }
        r2.pumpData(now: h.now)
        h.collect("r2")
        h.run(seconds: 0.5)
        XCTAssertEqual(recorder.got.count, 1, "a replayed control message was handled again")
        XCTAssertEqual(b.stats.dropped(.sessionReplay), 1)
        // A fresh message with one ciphertext bit flipped on the way fails the session's AEAD.
        XCTAssertTrue(a.sendControl(.experimental, body: [5, 5, 5], to: bKey, now: h.now))
        let (second, _) = try XCTUnwrap(a.transmits.drain().last)
        r1.links.receive(datagram: second, from: h.endpoints["a"]!, now: h.now)
        var forged = try XCTUnwrap(r1.links.drainEvents().compactMap { e -> [UInt8]? in
            if case .frame(let f, _) = e { return Array(f) } else { return nil }
        }.first)
        forged[forged.count - 20] ^= 0x01
        XCTAssertTrue(r2.links.send(frame: forged, to: bKey, now: h.now))
        r2.pumpData(now: h.now)
        h.collect("r2")
        h.run(seconds: 0.5)
        XCTAssertEqual(recorder.got.count, 1, "a forged control message was handled")
        XCTAssertEqual(b.stats.dropped(.sessionDecrypt), 1)
    }
}
