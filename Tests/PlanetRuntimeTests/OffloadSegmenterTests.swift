import XCTest
import PlanetCore
@testable import PlanetRuntime

/// Packet builders and an independent (byte-by-byte) checksum, shared by the offload tests.
enum OffloadFixtures {
    static let src: [UInt8] = [0x02, 0x00] + (2..<16).map { UInt8($0) }
    static let dst: [UInt8] = [0x02, 0x01] + (2..<16).map { UInt8($0 * 3) }

    /// Slow reference checksum: 16-bit words summed one by one.
    static func referenceSum(_ bytes: [UInt8]) -> UInt32 {
        var s: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count { s += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.count { s += UInt32(bytes[i]) << 8 }
        while s > 0xffff { s = (s & 0xffff) + (s >> 16) }
        return s
    }

    static func pseudo(_ packet: [UInt8], proto: UInt8, length: Int) -> [UInt8] {
        Array(packet[8..<40]) + [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff), 0, 0, 0, proto]
    }

    /// True when the upper-layer checksum of an IPv6 packet (no extension headers) verifies.
    static func checksumValid(_ packet: [UInt8]) -> Bool {
        let upper = Array(packet[40...])
        return referenceSum(pseudo(packet, proto: packet[6], length: upper.count) + upper) == 0xffff
    }

    static func tcp(seq: UInt32, ack: UInt32 = 7, flags: UInt8 = 0x10, options: [UInt8] = [], payload: [UInt8],
                    window: UInt16 = 512, src: [UInt8] = src, dst: [UInt8] = dst, srcPort: UInt16 = 4000,
                    checksum: Bool = true) -> [UInt8] {
        let tcpLength = 20 + options.count
        var p: [UInt8] = [0x60, 0, 0, 0, UInt8((tcpLength + payload.count) >> 8), UInt8((tcpLength + payload.count) & 0xff), 6, 64]
        p += src + dst
        p += [UInt8(srcPort >> 8), UInt8(srcPort & 0xff), 0x14, 0x51]
        p += [UInt8(seq >> 24), UInt8((seq >> 16) & 0xff), UInt8((seq >> 8) & 0xff), UInt8(seq & 0xff)]
        p += [UInt8(ack >> 24), UInt8((ack >> 16) & 0xff), UInt8((ack >> 8) & 0xff), UInt8(ack & 0xff)]
        p += [UInt8(tcpLength / 4) << 4, flags, UInt8(window >> 8), UInt8(window & 0xff), 0, 0, 0, 0]
        p += options + payload
        if checksum {
            let c = ~UInt16(referenceSum(pseudo(p, proto: 6, length: tcpLength + payload.count) + Array(p[40...])))
            p[56] = UInt8(c >> 8); p[57] = UInt8(c & 0xff)
        }
        return p
    }

    /// A UDP packet as the kernel leaves it with a partial checksum: the field holds the pseudo-header sum.
    static func partialUDP(body: [UInt8]) -> [UInt8] {
        var p: [UInt8] = [0x60, 0, 0, 0, 0, UInt8(8 + body.count), 17, 64] + src + dst
        p += [0x10, 0x00, 0x20, 0x00, 0, UInt8(8 + body.count), 0, 0] + body
        let seed = UInt16(referenceSum(pseudo(p, proto: 17, length: 8 + body.count)))
        p[46] = UInt8(seed >> 8); p[47] = UInt8(seed & 0xff)
        return p
    }

    static func seq(_ p: [UInt8]) -> UInt32 { UInt32(p[44]) << 24 | UInt32(p[45]) << 16 | UInt32(p[46]) << 8 | UInt32(p[47]) }
    static func payload(_ p: [UInt8]) -> [UInt8] { Array(p[(40 + Int(p[52] >> 4) * 4)...]) }
}

final class OffloadSegmenterTests: XCTestCase {
    typealias F = OffloadFixtures

    func segment(_ packet: [UInt8], _ header: VirtioNetHeader, scratch: Int = 65536) -> (Segmenter.Outcome, [[UInt8]]) {
        var p = packet
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: scratch)
        let outcome = p.withUnsafeMutableBytes { raw in
            buffer.withUnsafeMutableBytes { s in
                Segmenter.process(header, packet: raw, scratch: s) { p, _ in out.append(Array(p)) }
            }
        }
        return (outcome, out)
    }

    func testChecksumMatchesRFC1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        let s = bytes.withUnsafeBytes { InternetChecksum.sum($0.baseAddress!, $0.count) }
        XCTAssertEqual(InternetChecksum.fold(s), 0xddf2)
    }

    func testChecksumAgreesWithReferenceOnOddLengthsAndCarries() {
        var rng = SplitMix64(seed: 9)
        for length in [0, 1, 2, 7, 9, 15, 16, 17, 1299, 1300, 4001] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) | (length % 2 == 0 ? 0xf0 : 0) }
            let s = bytes.withUnsafeBytes { InternetChecksum.sum($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, $0.count) }
            XCTAssertEqual(UInt32(InternetChecksum.fold(s)), F.referenceSum(bytes) == 0 ? 0 : F.referenceSum(bytes), "length \(length)")
        }
    }

    func testSuperPacketIsCutIntoValidSegments() {
        let payload = (0..<3500).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let options: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
        let big = F.tcp(seq: 0xffff_fc00, flags: 0x18 | 0x01 | 0x80, options: options, payload: payload, checksum: false)
        let h = VirtioNetHeader(flags: 1, gsoType: VirtioNetHeader.gsoTCPv6, hdrLen: 72, gsoSize: 1000, csumStart: 40, csumOffset: 16)
        let (outcome, segs) = segment(big, h)
        XCTAssertEqual(outcome, .packets(4))
        XCTAssertEqual(segs.map { $0.count }, [1072, 1072, 1072, 572])
        var joined: [UInt8] = []
        for (i, s) in segs.enumerated() {
            XCTAssertTrue(F.checksumValid(s), "segment \(i) checksum")
            XCTAssertEqual(Int(s[4]) << 8 | Int(s[5]), s.count - 40, "payload length")
            XCTAssertEqual(F.seq(s), 0xffff_fc00 &+ UInt32(i * 1000), "sequence wraps correctly")
            let flags = s[53]
            XCTAssertEqual(flags & 0x10, 0x10, "ACK everywhere")
            XCTAssertEqual(flags & 0x09 != 0, i == 3, "FIN/PSH only on the last")
            XCTAssertEqual(flags & 0x80 != 0, i == 0, "CWR only on the first")
            XCTAssertEqual(Array(s[60..<72]), options)
            joined += F.payload(s)
        }
        XCTAssertEqual(joined, payload)
    }

    func testPlainPacketGetsItsPartialChecksumFinished() {
        let p = F.partialUDP(body: (0..<101).map { UInt8(truncatingIfNeeded: $0) })
        let (outcome, out) = segment(p, VirtioNetHeader(flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 40, csumOffset: 6))
        XCTAssertEqual(outcome, .packets(1))
        XCTAssertTrue(F.checksumValid(out[0]))
        XCTAssertNotEqual(out[0][46...47], [0, 0])
    }

    func testPlainPacketWithoutFlagsPassesUntouched() {
        let p = F.tcp(seq: 5, payload: [1, 2, 3])
        let (outcome, out) = segment(p, VirtioNetHeader())
        XCTAssertEqual(outcome, .packets(1))
        XCTAssertEqual(out, [p])
    }

    func testInconsistentHeadersAreMalformedNotCrashes() {
        let p = F.tcp(seq: 5, payload: [UInt8](repeating: 9, count: 3000))
        // IPv4 TSO: never requested.
        XCTAssertEqual(segment(p, VirtioNetHeader(flags: 1, gsoType: 1, hdrLen: 60, gsoSize: 1000, csumStart: 40, csumOffset: 16)).0, .malformed)
        // gso size 0.
        XCTAssertEqual(segment(p, VirtioNetHeader(flags: 1, gsoType: 4, hdrLen: 60, gsoSize: 0, csumStart: 40, csumOffset: 16)).0, .malformed)
        // Checksum position past the end.
        XCTAssertEqual(segment(p, VirtioNetHeader(flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 3059, csumOffset: 16)).0, .malformed)
        // TCP data offset claiming more header than there is.
        var bad = F.tcp(seq: 5, payload: [])
        bad[52] = 0xf0
        XCTAssertEqual(segment(bad, VirtioNetHeader(flags: 1, gsoType: 4, hdrLen: 60, gsoSize: 1000, csumStart: 40, csumOffset: 16)).0, .malformed)
        // Not TCP.
        var udp = p
        udp[6] = 17
        XCTAssertEqual(segment(udp, VirtioNetHeader(flags: 1, gsoType: 4, hdrLen: 60, gsoSize: 1000, csumStart: 40, csumOffset: 16)).0, .malformed)
        // Segment bigger than the scratch space.
        XCTAssertEqual(segment(p, VirtioNetHeader(flags: 1, gsoType: 4, hdrLen: 60, gsoSize: 1000, csumStart: 40, csumOffset: 16), scratch: 500).0, .malformed)
        // Truncated garbage.
        XCTAssertEqual(segment([0x60, 0, 0], VirtioNetHeader(flags: 1, gsoType: 4, hdrLen: 60, gsoSize: 1000, csumStart: 40, csumOffset: 16)).0, .malformed)
    }
}
