import XCTest
import PlanetCore
import PlanetNode
@testable import PlanetRuntime

/// Checksum-partial packets: the segmenter leaves TCP/UDP checksums as the pseudo-header sum
/// and marks them; the coalescer merges them without summing and hands single ones to the
/// kernel as "needs checksum"; completing one gives exactly the full checksum.
final class OffloadPartialChecksumTests: XCTestCase {
    typealias F = OffloadFixtures

    func segment(_ packet: [UInt8], _ header: VirtioNetHeader) -> (Segmenter.Outcome, [(bytes: [UInt8], partial: Bool)]) {
        var p = packet
        var out: [(bytes: [UInt8], partial: Bool)] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let outcome = p.withUnsafeMutableBytes { raw in
            buffer.withUnsafeMutableBytes { s in
                Segmenter.process(header, packet: raw, scratch: s, partialChecksums: true) { out.append((Array($0), $1)) }
            }
        }
        return (outcome, out)
    }

    func completed(_ p: [UInt8]) -> [UInt8] {
        var c = p
        XCTAssertTrue(c.withUnsafeMutableBytes { InternetChecksum.completePartial($0) })
        return c
    }

    func testSuperPacketSegmentsStayPartialAndCompleteToValidChecksums() {
        let payload = (0..<3500).map { UInt8(truncatingIfNeeded: $0 &* 11) }
        let big = F.tcp(seq: 77, flags: 0x18, payload: payload, checksum: false)
        let h = VirtioNetHeader(flags: 1, gsoType: VirtioNetHeader.gsoTCPv6, hdrLen: 60, gsoSize: 1000, csumStart: 40, csumOffset: 16)
        let (outcome, segs) = segment(big, h)
        XCTAssertEqual(outcome, .packets(4))
        for (i, s) in segs.enumerated() {
            XCTAssertTrue(s.partial)
            XCTAssertFalse(F.checksumValid(s.bytes), "segment \(i) must not carry a full checksum")
            let pseudo = F.referenceSum(F.pseudo(s.bytes, proto: 6, length: s.bytes.count - 40))
            XCTAssertEqual(UInt32(s.bytes[56]) << 8 | UInt32(s.bytes[57]), pseudo, "field = folded pseudo-header sum")
            XCTAssertTrue(F.checksumValid(completed(s.bytes)), "segment \(i) completes to a valid checksum")
        }
    }

    func testPlainPartialUDPStaysPartialOtherLayoutsAreFinished() {
        let p = F.partialUDP(body: (0..<51).map { UInt8(truncatingIfNeeded: $0) })
        var (outcome, out) = segment(p, VirtioNetHeader(flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 40, csumOffset: 6))
        XCTAssertEqual(outcome, .packets(1))
        XCTAssertEqual(out.map(\.partial), [true])
        XCTAssertEqual(out[0].bytes, p, "left exactly as the kernel gave it")
        XCTAssertTrue(F.checksumValid(completed(out[0].bytes)))
        // An offset that doesn't match the transport is finished here instead of trusted to the far end.
        (outcome, out) = segment(p, VirtioNetHeader(flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 40, csumOffset: 16))
        XCTAssertEqual(out.map(\.partial), [false])
    }

    func testCoalescerMergesPartialSegmentsAndMarksSingleOnes() {
        let payload = (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 5) }
        let big = F.tcp(seq: 1, flags: 0x10, payload: payload, checksum: false)
        let h = VirtioNetHeader(flags: 1, gsoType: VirtioNetHeader.gsoTCPv6, hdrLen: 60, gsoSize: 1000, csumStart: 40, csumOffset: 16)
        let (_, segs) = segment(big, h)
        let packets = segs.map { NodeOutput.TunPacket($0.bytes[...], checksumPartial: true) }
        let c = TCPCoalescer()
        var written: [([UInt8], VirtioNetHeader)] = []
        c.coalesce(packets) { written.append((Array($0), $1)) }
        XCTAssertEqual(written.count, 1, "partial segments merge without being summed")
        XCTAssertEqual(written[0].1.gsoType, VirtioNetHeader.gsoTCPv6)
        XCTAssertEqual(Array(written[0].0[60...]), payload)
        // One alone goes up as "needs checksum" at TCP's offset, bytes untouched.
        written = []
        c.coalesce([packets[0]]) { written.append((Array($0), $1)) }
        XCTAssertEqual(written.count, 1)
        XCTAssertEqual(written[0].0, segs[0].bytes)
        XCTAssertEqual(written[0].1, VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, gsoType: 0, hdrLen: 0, gsoSize: 0,
                                                     csumStart: 40, csumOffset: 16))
        // The same segment marked as complete is checked, fails, and is not merged.
        written = []
        c.coalesce([NodeOutput.TunPacket(segs[0].bytes[...]), NodeOutput.TunPacket(segs[1].bytes[...])]) { written.append((Array($0), $1)) }
        XCTAssertEqual(written.count, 2)
        XCTAssertTrue(written.allSatisfy { $0.1 == VirtioNetHeader() })
    }
}
