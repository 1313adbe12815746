import XCTest
import PlanetCore
import PlanetLink
@testable import PlanetNode
import PlanetTesting

/// planetd relays data packets in the receive buffer itself (`Node.receiveDatagram(inPlace:)`);
/// these check that path carries traffic intact, leaves everything unusual to the ordinary
/// path, and drops what fails authentication.
extension NodeMeshTests {
    func testInPlaceRelaysCarryDataAndTheArrayPathAgrees() throws {
        for inPlace in [true, false] {
            let h = line4()
            h.inPlace = inPlace
            h.run(seconds: 10)
            let a = h.nodes["a"]!, b = h.nodes["b"]!, r1 = h.nodes["r1"]!, r2 = h.nodes["r2"]!
            var sent: [[UInt8]] = []
            for i in 0..<50 {
                let p = echo(from: a.address, to: b.address, seq: UInt16(i), payload: 1000 + i)
                sent.append(p)
                h.sendFromTun("a", p)
                h.run(seconds: 0.01)
            }
            h.run(seconds: 1)
            let got = h.takeTun("b")
            // The first packets wait for the session and are sent once it is up, in order.
            XCTAssertEqual(got, sent, "inPlace=\(inPlace): b's packets differ from a's")
            XCTAssertGreaterThanOrEqual(r1.stats.forwardedPackets, 50)
            XCTAssertGreaterThanOrEqual(r2.stats.forwardedPackets, 50)
            // A neighbour's direct packets reach its TUN as sent (in place: from the receive buffer).
            let direct = (0..<20).map { echo(from: a.address, to: r1.address, seq: UInt16($0), payload: 800 + $0) }
            for p in direct { h.sendFromTun("a", p) }
            h.run(seconds: 1)
            XCTAssertEqual(h.takeTun("r1"), direct, "inPlace=\(inPlace): r1's direct packets differ from a's")
            if inPlace {
                // Every data packet a relay forwarded left from its receive buffer.
                XCTAssertGreaterThanOrEqual(h.relayedInPlace["r1", default: 0], 50)
                XCTAssertGreaterThanOrEqual(h.relayedInPlace["r2", default: 0], 50)
                // Session data for b and direct packets for r1 went to the TUN from the buffer.
                XCTAssertGreaterThanOrEqual(h.tunInPlace["b", default: 0], 50)
                XCTAssertEqual(h.tunInPlace["r1", default: 0], 20)
                XCTAssertEqual(h.relayedInPlace["a", default: 0], 0, "an end node relayed in place")
                XCTAssertEqual(h.relayedInPlace["b", default: 0], 0, "an end node relayed in place")
            } else {
                XCTAssertTrue(h.relayedInPlace.isEmpty)
                XCTAssertTrue(h.tunInPlace.isEmpty)
            }
        }
    }

    /// A converged line of four whose a–b session is up (one packet already delivered).
    func line4WithSession() throws -> NodeHarness {
        let h = line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        h.sendFromTun("a", echo(from: a.address, to: b.address))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b").count, 1, "the first packet a sent to b did not arrive")
        return h
    }

    /// A packet whose hop limit runs out at a relay is not relayed in place: the ordinary path
    /// drops it and sends the source a signed report (traceroute depends on it).
    func testInPlaceRelayLeavesHopLimitExpiryToTheReportingPath() throws {
        let h = try line4WithSession()
        let a = h.nodes["a"]!, b = h.nodes["b"]!, r1 = h.nodes["r1"]!
        h.sendFromTun("a", echo(from: a.address, to: b.address, seq: 2, hopLimit: 2))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b").count, 0)
        XCTAssertEqual(r1.stats.dropped(.hopLimit), 0, "r1 had hop limit to spare")
        XCTAssertEqual(h.nodes["r2"]!.stats.dropped(.hopLimit), 1)
        let errors = h.takeTun("a")
        XCTAssertEqual(errors.count, 1, "a got no ICMPv6 time exceeded")
        XCTAssertEqual(errors.first?[40], 3, "not an ICMPv6 time exceeded")
    }

    /// Flips one byte of a's next datagram to r1 (a tag-bound frame, 0x08) at `offsetFromEnd`.
    func tamperWithNextFrameToR1(_ h: NodeHarness, offsetFromEnd: Int) throws {
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        h.sendFromTun("a", echo(from: a.address, to: b.address, seq: 2, payload: 500))
        let r1Endpoint = h.endpoints["r1"]!
        let index = try XCTUnwrap(h.inFlight.lastIndex { (d: NodeHarness.Datagram) -> Bool in
            d.to == r1Endpoint && d.bytes.first == LinkFrameType.transportTagBound.rawValue
        })
        var bytes = h.inFlight[index].bytes
        bytes[bytes.count - offsetFromEnd] ^= 0x40
        let d = h.inFlight[index]
        h.inFlight[index] = NodeHarness.Datagram(at: d.at, bytes: bytes, from: d.from, to: d.to)
    }

    /// A relayed frame whose authenticated parts (headers, end-to-end tag) were damaged on the
    /// wire fails the link's authentication in place: dropped, counted, nothing sent on.
    func testInPlaceRelayDropsAFrameWithTamperedHeadersOrTag() throws {
        let h = try line4WithSession()
        let r1 = h.nodes["r1"]!
        // 16 (link tag) + 10: inside the end-to-end tag, the inner frame's last 16 bytes.
        try tamperWithNextFrameToR1(h, offsetFromEnd: 26)
        let failedBefore = r1.links.stats[LinkDropReason.authenticationFailed]
        let forwardedBefore = r1.stats.forwardedPackets
        h.run(seconds: 1)
        XCTAssertEqual(r1.links.stats[LinkDropReason.authenticationFailed], failedBefore + 1)
        XCTAssertEqual(r1.stats.forwardedPackets, forwardedBefore)
        XCTAssertEqual(h.takeTun("b").count, 0)
    }

    /// In a tag-bound frame the ciphertext between the headers and the end-to-end tag is
    /// vouched for by that tag alone: damaged there, the packet is relayed on and dropped by the
    /// destination's session, never delivered.
    func testATamperedCiphertextIsDroppedByTheDestinationsSession() throws {
        let h = try line4WithSession()
        let r1 = h.nodes["r1"]!, b = h.nodes["b"]!
        try tamperWithNextFrameToR1(h, offsetFromEnd: 100)
        let forwardedBefore = r1.stats.forwardedPackets
        let decryptBefore = b.stats.dropped(.sessionDecrypt)
        h.run(seconds: 1)
        XCTAssertEqual(r1.stats.forwardedPackets, forwardedBefore + 1, "r1 cannot tell, and relays it")
        XCTAssertEqual(b.stats.dropped(.sessionDecrypt), decryptBefore + 1)
        XCTAssertEqual(h.takeTun("b").count, 0)
    }
}

extension NodeMeshTests {
    /// A direct packet whose source is not the sending neighbour's is dropped where it lies and
    /// counted; the neighbour's own packets still go through.
    func testInPlaceDirectPacketWithAForeignSourceIsDropped() throws {
        let h = line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!, r1 = h.nodes["r1"]!
        let r1Key = r1.identity.publicKey
        // a's link layer seals whatever it is handed; the spoof is b's address as source.
        let spoofed = echo(from: b.address, to: r1.address)
        XCTAssertTrue(a.links.send(frame: [InnerFrameType.direct.rawValue] + spoofed, to: r1Key, now: h.now))
        let genuine = echo(from: a.address, to: r1.address, seq: 2)
        XCTAssertTrue(a.links.send(frame: [InnerFrameType.direct.rawValue] + genuine, to: r1Key, now: h.now))
        a.pumpData(now: h.now)
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(r1.stats.dropped(.directSpoofed), 1)
        XCTAssertEqual(h.takeTun("r1"), [genuine])
    }
}
