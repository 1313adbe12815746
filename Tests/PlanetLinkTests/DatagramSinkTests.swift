import XCTest
import PlanetCore
@testable import PlanetLink
import PlanetTesting

/// `LinkLayer.send(frameLength:…)` seals into memory the runtime lends (`DatagramSink`): the
/// datagram it leaves there must be the one the event path would have sent, and it must not
/// overtake datagrams the link queued before it.
final class DatagramSinkTests: XCTestCase {
    /// A send batch in miniature: slots in one buffer, what was committed, and a switch to lend
    /// nothing.
    final class Slots: DatagramSink {
        var lending = true
        var sent: [(bytes: [UInt8], to: Endpoint)] = []
        var fills = 0
        private var slot = [UInt8](repeating: 0xee, count: 4096)

        func send(to endpoint: Endpoint, maxLength: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
            guard lending, maxLength <= slot.count else { return false }
            fills += 1
            let n = slot.withUnsafeMutableBytes { fill(UnsafeMutableRawBufferPointer(rebasing: $0[..<maxLength])) }
            if n > 0 { sent.append((Array(slot[..<n]), endpoint)) }
            return true
        }
    }

    func linkedPair() -> (TestNetwork, LinkLayer, LinkLayer) {
        let net = TestNetwork()
        let a = net.add(.generate(), at: Endpoint(ipv4: 10, 0, 0, 1, port: 7001))
        let b = net.add(.generate(), at: Endpoint(ipv4: 10, 0, 0, 2, port: 7002))
        a.addPeer(uri: net.uri(of: b), now: net.now)
        net.pump()
        return (net, a, b)
    }

    func fill(_ inner: [UInt8]) -> (UnsafeMutableRawBufferPointer) -> Bool {
        { frame in frame.copyBytes(from: inner); return true }
    }

    func testAFrameSealedInTheSinkIsWhatThePeerOpens() throws {
        let (net, a, b) = linkedPair()
        XCTAssertTrue(a.isUp(b.identity.publicKey))
        let slots = Slots()
        a.sink = slots
        let txBefore = a.stats.txPackets
        for sealed in [false, true] {
            let inner: [UInt8] = [0x20] + (1..<300).map { UInt8(truncatingIfNeeded: $0 * 7) }
            XCTAssertTrue(a.send(frameLength: inner.count, to: b.identity.publicKey, now: net.now, payloadSealed: sealed, fill: fill(inner)))
            var events: [LinkEvent] = []
            a.drainEvents(into: &events)
            XCTAssertTrue(events.isEmpty, "nothing through the event path")
            let d = try XCTUnwrap(slots.sent.popLast())
            XCTAssertEqual(d.to, net.endpoint(of: b))
            XCTAssertEqual(d.bytes.count, inner.count + Keypair.overhead)
            XCTAssertEqual(d.bytes.first, sealed ? LinkFrameType.transportTagBound.rawValue : LinkFrameType.transport.rawValue)
            net.deliver(.init(bytes: d.bytes, from: net.endpoint(of: a), to: d.to))
            net.pump()
            XCTAssertEqual(net.frames(b).last, inner)
        }
        XCTAssertEqual(a.stats.txPackets, txBefore + 2)
    }

    func testWithoutALoanOrWithEventsPendingTheFrameQueuesAsAnEvent() throws {
        let (net, a, b) = linkedPair()
        let slots = Slots()
        a.sink = slots
        let inner: [UInt8] = [0x20, 1, 2, 3]
        slots.lending = false
        XCTAssertTrue(a.send(frameLength: inner.count, to: b.identity.publicKey, now: net.now, fill: fill(inner)))
        XCTAssertEqual(slots.fills, 0)
        // The first frame's event is still pending: the second must queue behind it.
        slots.lending = true
        let second: [UInt8] = [0x20, 4, 5, 6]
        XCTAssertTrue(a.send(frameLength: second.count, to: b.identity.publicKey, now: net.now, fill: fill(second)))
        XCTAssertEqual(slots.fills, 0, "a slot would have overtaken the pending datagram")
        net.pump()
        XCTAssertEqual(net.frames(b).suffix(2), [inner, second])
    }

    func testAFillThatDeclinesSendsNothingAndNoLinkMeansNoFill() {
        let (net, a, b) = linkedPair()
        let slots = Slots()
        a.sink = slots
        XCTAssertFalse(a.send(frameLength: 10, to: b.identity.publicKey, now: net.now) { _ in false })
        XCTAssertTrue(slots.sent.isEmpty)
        var called = false
        XCTAssertFalse(a.send(frameLength: 10, to: NodeIdentity.generate().publicKey, now: net.now) { _ in called = true; return true })
        XCTAssertFalse(called)
        a.sink = nil
        XCTAssertFalse(a.send(frameLength: 10, to: b.identity.publicKey, now: net.now) { _ in false })
        var events: [LinkEvent] = []
        a.drainEvents(into: &events)
        XCTAssertFalse(events.contains { if case .transmit = $0 { return true } else { return false } })
    }
}
