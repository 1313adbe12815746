import XCTest
import PlanetCore
@testable import PlanetNode

final class DataPlaneCodecTests: XCTestCase {
    func echoRequest(from s: IPv6Address, to d: IPv6Address, payload: Int = 16, hopLimit: UInt8 = 64) -> [UInt8] {
        var body: [UInt8] = [ICMPv6.echoRequest, 0, 0, 0, 0x12, 0x34, 0, 1]
        body.append(contentsOf: (0..<payload).map { UInt8(truncatingIfNeeded: $0) })
        return ICMPv6.packet(from: s, to: d, icmp: body, hopLimit: hopLimit)
    }

    /// Checksum by the textbook method (sum 16-bit words of pseudo-header and message), written
    /// separately from ICMPv6.checksum: a packet with its checksum filled in sums to 0xffff.
    func onesComplementSum(_ packet: [UInt8]) -> UInt16 {
        var words = [UInt16]()
        func add(_ bytes: [UInt8]) {
            var b = bytes
            if b.count % 2 == 1 { b.append(0) }
            for i in stride(from: 0, to: b.count, by: 2) { words.append(UInt16(b[i]) << 8 | UInt16(b[i + 1])) }
        }
        let payload = Array(packet[40...])
        add(Array(packet[8..<40]))
        add([0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xff), 0, 0, 0, 58])
        add(payload)
        var sum: UInt32 = 0
        for w in words { sum += UInt32(w); sum = (sum & 0xffff) + (sum >> 16) }
        return UInt16(sum)
    }

    func testEchoAndErrorChecksumsVerify() {
        let a = NodeIdentity.generate().address, b = NodeIdentity.generate().address
        for size in [0, 1, 7, 100, 1232] {
            let p = echoRequest(from: a, to: b, payload: size)
            XCTAssertEqual(onesComplementSum(p), 0xffff, "echo \(size)")
            let e = ICMPv6.error(.noRoute, from: b, about: p)!
            XCTAssertEqual(onesComplementSum(e), 0xffff, "error about \(size)")
            let h = IPv6Header(e)!
            XCTAssertEqual(h.source, b)
            XCTAssertEqual(h.destination, a)
            XCTAssertEqual(e[40], 1)
            XCTAssertEqual(Array(e[48...].prefix(40)), Array(p.prefix(40)), "quotes the invoking packet")
        }
        let big = ICMPv6.error(.packetTooBig(mtu: 1380), from: b, about: echoRequest(from: a, to: b, payload: 3000))!
        XCTAssertLessThanOrEqual(big.count, 1280, "errors never exceed the minimum MTU")
        XCTAssertEqual(Array(big[44..<48]), [0, 0, 0x05, 0x64])
        XCTAssertEqual(onesComplementSum(big), 0xffff)
    }

    func testNoErrorAboutErrorsOrMulticast() {
        let a = NodeIdentity.generate().address, b = NodeIdentity.generate().address
        let err = ICMPv6.error(.noRoute, from: b, about: echoRequest(from: a, to: b))!
        XCTAssertNil(ICMPv6.error(.noRoute, from: a, about: err))
        XCTAssertNil(ICMPv6.error(.noRoute, from: a, about: echoRequest(from: a, to: IPv6Address("ff02::1")!)))
        XCTAssertNil(ICMPv6.error(.noRoute, from: a, about: [0x60, 0, 0]))
    }

    func testIPv6HeaderRejectsMalformed() {
        let a = NodeIdentity.generate().address
        let p = echoRequest(from: a, to: a)
        XCTAssertNotNil(IPv6Header(p))
        XCTAssertNil(IPv6Header(Array(p.prefix(39))))
        var v4 = p; v4[0] = 0x45
        XCTAssertNil(IPv6Header(v4))
        var long = p; long[4] = 0xff
        XCTAssertNil(IPv6Header(long), "payload length past the end")
    }

    func testOverlayHeaderRoundTrip() {
        let d = NodeIdentity.generate().address, s = NodeIdentity.generate().address
        let f = OverlayPacket.make(hopLimit: 7, destination: d, source: s, message: [4, 1, 2])
        XCTAssertEqual(OverlayPacket.parseHeader(f), OverlayPacket.Header(hopLimit: 7, destination: d, source: s))
        XCTAssertNil(OverlayPacket.parseHeader(Array(f.prefix(34))), "a header with no message")
        var g = [UInt8](repeating: 0, count: 40)
        OverlayPacket.writeHeader(into: &g, hopLimit: 3, destination: d, source: s)
        XCTAssertEqual(OverlayPacket.parseHeader(g)?.destination, d)
    }

    func testErrorReportSignedAndForgeryRejected() {
        let relay = NodeIdentity.generate()
        let invoking: [UInt8] = [4] + (0..<300).map { UInt8(truncatingIfNeeded: $0) }
        let bytes = ErrorReport.make(kind: .hopLimitExceeded, reporter: relay, invoking: invoking[...])
        let report = ErrorReport(bytes[...])
        XCTAssertEqual(report?.reporter, relay.publicKey)
        XCTAssertEqual(report?.kind, .hopLimitExceeded)
        XCTAssertEqual(report?.quoted.count, ErrorReport.maxQuoted)
        for offset in 1..<bytes.count {
            var t = bytes
            t[offset] ^= 0x01
            XCTAssertNil(ErrorReport(t[...]), "flipped byte \(offset) accepted")
        }
        XCTAssertNil(ErrorReport(bytes.prefix(50)))
    }

    func testPendingPacketsBounded() {
        var p = PendingPackets(perDestination: 4, total: 10)
        let keys = (0..<5).map { _ in NodeIdentity.generate().publicKey }
        var dropped = 0
        for i in 0..<100 { dropped += p.enqueue([UInt8(i)], for: keys[i % 5], now: Instant(seconds: Double(i))) }
        XCTAssertLessThanOrEqual(p.count, 10)
        XCTAssertEqual(dropped + p.count, 100)
        let expired = p.expire(queuedAtOrBefore: Instant(seconds: 97))
        // Queued at 97 or before goes (the boundary included), after 97 stays.
        XCTAssertTrue(expired.allSatisfy { $0.1[0] <= 97 })
        XCTAssertTrue(expired.contains { $0.1[0] == 97 }, "a packet queued exactly at the deadline was kept")
        let kept = p.take(for: keys[4])
        XCTAssertTrue(kept.allSatisfy { $0[0] % 5 == 4 && $0[0] > 97 })
    }

    func testTokenBucket() {
        var l = TokenBucket(rate: 10, burst: 5, now: .zero)
        let allowed = (0..<100).filter { _ in l.take(now: .zero) }.count
        XCTAssertEqual(allowed, 5)
        XCTAssertTrue(l.take(now: Instant(seconds: 1)))
        XCTAssertEqual((0..<100).filter { _ in l.take(now: Instant(seconds: 1)) }.count, 4, "refilled to the burst, not past it")
        XCTAssertFalse(l.take(now: Instant(seconds: 0.5)), "a clock stepping back adds nothing")
    }

    /// Byte budgets: one item may overdraw the bucket, and the debt says when the next may go.
    func testTokenBucketSpendsWithDebt() {
        let t0 = Instant(seconds: 10)
        var b = TokenBucket(rate: 1000, burst: 500, now: t0)
        XCTAssertTrue(b.spend(800, now: t0), "a full bucket lets one large item through")
        XCTAssertFalse(b.spend(1, now: t0), "nothing more while in debt")
        XCTAssertEqual(b.nextAvailable.seconds(since: t0), 0.3, accuracy: 1e-9)
        XCTAssertFalse(b.spend(1, now: t0.adding(seconds: 0.29)))
        XCTAssertTrue(b.spend(1, now: t0.adding(seconds: 0.31)))
        XCTAssertFalse(b.isFull(at: t0.adding(seconds: 0.5)))
        XCTAssertTrue(b.isFull(at: t0.adding(seconds: 1.0)))
    }
}
