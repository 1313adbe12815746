import XCTest
import PlanetCore
@testable import PlanetRuntime

final class OffloadCoalescerTests: XCTestCase {
    typealias F = OffloadFixtures

    struct Written { var bytes: [UInt8]; var header: VirtioNetHeader }

    func run(_ packets: [[UInt8]]) -> [Written] {
        let c = TCPCoalescer()
        var out: [Written] = []
        c.coalesce(packets.map { $0[...] }) { out.append(Written(bytes: Array($0), header: $1)) }
        return out
    }

    /// What the kernel does with a GSO write: cut it back with the segmenter and compare.
    func resegment(_ w: Written) -> [[UInt8]] {
        var p = w.bytes
        // The kernel would finish the checksum from the pseudo-header sum; the segmenter
        // recomputes each segment's anyway.
        var segs: [[UInt8]] = []
        var scratch = [UInt8](repeating: 0, count: 65536)
        let outcome = p.withUnsafeMutableBytes { raw in
            scratch.withUnsafeMutableBytes { s in Segmenter.process(w.header, packet: raw, scratch: s) { p, _ in segs.append(Array(p)) } }
        }
        XCTAssertNotEqual(outcome, .malformed)
        return segs
    }

    func flow(count: Int, mss: Int = 1000, last: Int? = nil, seq: UInt32 = 1000, pshLast: Bool = false, options: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4]) -> [[UInt8]] {
        (0..<count).map { i in
            let size = (i == count - 1) ? (last ?? mss) : mss
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: i * 31 + $0) }
            return F.tcp(seq: seq &+ UInt32(i * mss), flags: (pshLast && i == count - 1) ? 0x18 : 0x10, options: options, payload: payload)
        }
    }

    func testConsecutiveSegmentsMergeAndRoundTrip() {
        let packets = flow(count: 5, last: 300, pshLast: true)
        let out = run(packets)
        XCTAssertEqual(out.count, 1)
        let w = out[0]
        XCTAssertEqual(w.header.gsoType, VirtioNetHeader.gsoTCPv6)
        XCTAssertEqual(w.header.flags, VirtioNetHeader.needsChecksum)
        XCTAssertEqual(w.header.gsoSize, 1000)
        XCTAssertEqual(w.header.hdrLen, 72)
        XCTAssertEqual(w.header.csumStart, 40)
        XCTAssertEqual(w.header.csumOffset, 16)
        XCTAssertEqual(w.bytes.count, 72 + 4300)
        XCTAssertEqual(Int(w.bytes[4]) << 8 | Int(w.bytes[5]), w.bytes.count - 40)
        XCTAssertEqual(w.bytes[53], 0x18, "PSH of the last segment carried")
        // The checksum field holds the folded pseudo-header sum, as checksum-partial requires.
        let pseudo = F.referenceSum(F.pseudo(w.bytes, proto: 6, length: w.bytes.count - 40))
        XCTAssertEqual(UInt32(w.bytes[56]) << 8 | UInt32(w.bytes[57]), pseudo)
        // Cutting it again yields exactly the original packets.
        XCTAssertEqual(resegment(w), packets)
    }

    func testSingleAndUnmergeablePacketsPassUnchanged() {
        let one = flow(count: 1)
        XCTAssertEqual(run(one).map(\.bytes), one)
        XCTAssertEqual(run(one).map(\.header), [VirtioNetHeader()])
        let syn = F.tcp(seq: 1, flags: 0x02, payload: [])
        let udp: [UInt8] = [0x60, 0, 0, 0, 0, 8, 17, 64] + F.src + F.dst + [0, 1, 0, 2, 0, 8, 0, 0]
        let out = run([syn, udp])
        XCTAssertEqual(out.map(\.bytes), [syn, udp])
        XCTAssertTrue(out.allSatisfy { $0.header == VirtioNetHeader() })
    }

    func assertNotMerged(_ packets: [[UInt8]], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let out = run(packets)
        XCTAssertEqual(out.map(\.bytes), packets, message, file: file, line: line)
        XCTAssertTrue(out.allSatisfy { $0.header.gsoType == 0 }, message, file: file, line: line)
    }

    func testMergeRulesRefuseWhatTSOCouldNotHaveSent() {
        let base = flow(count: 2)
        var gap = base; gap[1] = F.tcp(seq: 1000 + 1001, options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4], payload: F.payload(base[1]))
        assertNotMerged(gap, "sequence gap")
        var otherPort = base; otherPort[1] = F.tcp(seq: 2000, options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4], payload: F.payload(base[1]), srcPort: 4001)
        assertNotMerged(otherPort, "other flow")
        var otherTS = base; otherTS[1] = F.tcp(seq: 2000, options: [1, 1, 8, 10, 0, 0, 0, 10, 0, 0, 0, 4], payload: F.payload(base[1]))
        assertNotMerged(otherTS, "options differ")
        var otherAck = base; otherAck[1] = F.tcp(seq: 2000, ack: 8, options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4], payload: F.payload(base[1]))
        assertNotMerged(otherAck, "ack differs")
        var otherWindow = base; otherWindow[1] = F.tcp(seq: 2000, options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4], payload: F.payload(base[1]), window: 9)
        assertNotMerged(otherWindow, "window differs")
        var bigger = flow(count: 1, mss: 500)
        bigger.append(F.tcp(seq: 1500, options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4], payload: [UInt8](repeating: 1, count: 600)))
        assertNotMerged(bigger, "segment larger than the first")
        var fin = base; fin[1] = F.tcp(seq: 2000, flags: 0x11, options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4], payload: F.payload(base[1]))
        assertNotMerged(fin, "FIN")
        var ecn = base; ecn[1][1] |= 0x30
        ecn[1] = { var p = ecn[1]; p[56] = 0; p[57] = 0; let c = ~UInt16(F.referenceSum(F.pseudo(p, proto: 6, length: p.count - 40) + Array(p[40...]))); p[56] = UInt8(c >> 8); p[57] = UInt8(c & 0xff); return p }()
        assertNotMerged(ecn, "traffic class (ECN CE) differs")
        var badSum = base; badSum[1][100] ^= 0xff
        assertNotMerged(badSum, "bad checksum")
        var afterPSH = flow(count: 1, pshLast: true); afterPSH.append(base[1])
        assertNotMerged(afterPSH, "nothing joins after PSH")
        let afterShort = flow(count: 2, mss: 1000, last: 400)
        let third = F.tcp(seq: 2400, options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4], payload: [UInt8](repeating: 2, count: 400))
        let out = run(afterShort + [third])
        XCTAssertEqual(out.count, 2, "nothing joins after a short segment")
        XCTAssertEqual(out.first.map { resegment($0) }, afterShort)
        XCTAssertEqual(out.last?.bytes, third)
    }

    func testRunsStopAtTheSizeLimitAndFlowsInterleaveCorrectly() {
        let many = flow(count: 70, mss: 1300, options: [])
        let out = run(many)
        XCTAssertGreaterThan(out.count, 1)
        XCTAssertTrue(out.allSatisfy { $0.bytes.count <= TCPCoalescer.maxPacket })
        XCTAssertEqual(out.flatMap { $0.header.gsoType == 0 ? [$0.bytes] : resegment($0) }, many)
        // Two flows alternating: nothing merges, order is kept.
        let a = flow(count: 3), b = flow(count: 3, seq: 90000).map { p -> [UInt8] in
            F.tcp(seq: F.seq(p), options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4], payload: F.payload(p), srcPort: 5000)
        }
        let mixed = [a[0], b[0], a[1], b[1], a[2], b[2]]
        XCTAssertEqual(run(mixed).map(\.bytes), mixed)
    }

    func testGarbageIsWrittenAsIsNeverTrapped() {
        var rng = SplitMix64(seed: 3)
        var packets: [[UInt8]] = [[], [0x60], [0x60, 0, 0, 0, 0xff, 0xff, 6]]
        for _ in 0..<200 {
            var p = flow(count: 1)[0]
            for _ in 0..<3 { p[Int(rng.next() % UInt64(p.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            packets.append(Array(p.prefix(Int(rng.next() % UInt64(p.count + 1)))))
        }
        let c = TCPCoalescer()
        var plain = 0
        c.coalesce(packets.map { $0[...] }) { _, header in if header.gsoType == 0 { plain += 1 } }
        XCTAssertEqual(plain + c.merged, packets.count, "every packet written exactly once")
    }
}
