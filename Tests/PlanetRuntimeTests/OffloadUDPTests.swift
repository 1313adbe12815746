import XCTest
import PlanetCore
import PlanetNode
@testable import PlanetRuntime

/// UDP segmentation offload on the TUN: super-packets read from it are cut into the datagrams
/// the program meant (`UDPSegmenter`), and runs of a flow's datagrams are written to it merged
/// (`UDPCoalescer`), which the kernel's cutting must turn back into exactly those datagrams.
final class OffloadUDPTests: XCTestCase {
    typealias F = OffloadFixtures

    /// A UDP datagram with a complete, valid checksum.
    static func udp(_ payload: [UInt8], srcPort: UInt16 = 4000, hopLimit: UInt8 = 64,
                    src: [UInt8] = OffloadFixtures.src, dst: [UInt8] = OffloadFixtures.dst) -> [UInt8] {
        let n = 8 + payload.count
        var p: [UInt8] = [0x60, 0, 0, 0, UInt8(n >> 8), UInt8(n & 0xff), 17, hopLimit] + src + dst
        p += [UInt8(srcPort >> 8), UInt8(srcPort & 0xff), 0x20, 0x00, UInt8(n >> 8), UInt8(n & 0xff), 0, 0] + payload
        var c = ~UInt16(F.referenceSum(F.pseudo(p, proto: 17, length: n) + Array(p[40...])))
        if c == 0 { c = 0xffff }
        p[46] = UInt8(c >> 8); p[47] = UInt8(c & 0xff)
        return p
    }

    static func body(_ n: Int, _ seed: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) } }

    /// What the kernel would cut a written super-packet into, done by our own segmenter with
    /// full checksums (the kernel's cut, for a program that reads datagrams one by one).
    func cut(_ packet: [UInt8], _ header: VirtioNetHeader, partial: Bool = false) -> (Segmenter.Outcome, [(bytes: [UInt8], partial: Bool)]) {
        var p = packet
        var out: [(bytes: [UInt8], partial: Bool)] = []
        var scratch = [UInt8](repeating: 0, count: 65536)
        let outcome = p.withUnsafeMutableBytes { raw in
            scratch.withUnsafeMutableBytes { s in
                Segmenter.process(header, packet: raw, scratch: s, partialChecksums: partial) { out.append((Array($0), $1)) }
            }
        }
        return (outcome, out)
    }

    func uso(_ size: Int) -> VirtioNetHeader {
        VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoUDPL4, hdrLen: 48, gsoSize: UInt16(size),
                        csumStart: 40, csumOffset: 6)
    }

    // MARK: Segmenting what the TUN hands us

    func testASuperPacketIsCutIntoDatagramsWithTheirOwnLengthsAndChecksums() {
        let payload = Self.body(3500, 1)
        let superPacket = Self.udp(payload)
        let (outcome, out) = cut(superPacket, uso(1300))
        XCTAssertEqual(outcome, .packets(3))
        XCTAssertEqual(out.map { $0.bytes.count }, [1348, 1348, 948])
        XCTAssertEqual(out.flatMap { Array($0.bytes[48...]) }, payload, "the payload, in order, nothing lost")
        for (i, d) in out.enumerated() {
            XCTAssertEqual(d.bytes, Self.udp(Array(payload[(i * 1300)..<min(3500, (i + 1) * 1300)])), "datagram \(i)")
            XCTAssertTrue(F.checksumValid(d.bytes))
            XCTAssertFalse(d.partial)
        }
    }

    func testPartialChecksumsLeaveEachDatagramWithItsOwnPseudoHeaderSum() {
        let payload = Self.body(2100, 2)
        let (outcome, out) = cut(Self.udp(payload), uso(1000), partial: true)
        XCTAssertEqual(outcome, .packets(3))
        for d in out {
            XCTAssertTrue(d.partial)
            var completed = d.bytes
            completed[46] = 0; completed[47] = 0
            let seed = UInt16(F.referenceSum(F.pseudo(completed, proto: 17, length: d.bytes.count - 40)))
            XCTAssertEqual(UInt16(d.bytes[46]) << 8 | UInt16(d.bytes[47]), seed)
            completed = d.bytes
            completed.withUnsafeMutableBytes { _ = InternetChecksum.completePartial($0) }
            XCTAssertTrue(F.checksumValid(completed))
        }
    }

    func testAUDPSuperPacketThatIsNotUDPOrHasNoSegmentSizeIsMalformed() {
        let tcp = F.tcp(seq: 1, payload: Self.body(3000, 3))
        XCTAssertEqual(cut(tcp, uso(1000)).0, .malformed)
        XCTAssertEqual(cut(Self.udp(Self.body(3000, 3)), uso(0)).0, .malformed)
        XCTAssertEqual(cut(Array(Self.udp([])), uso(1000)).0, .malformed, "headers and nothing to cut")
    }

    // MARK: Merging what goes to the TUN

    func coalesce(_ packets: [[UInt8]], partial: Bool = false, udp: Bool = true) -> [(bytes: [UInt8], header: VirtioNetHeader)] {
        let c = PacketCoalescer()
        var out: [(bytes: [UInt8], header: VirtioNetHeader)] = []
        c.coalesce(packets.map { NodeOutput.TunPacket($0[...], checksumPartial: partial) }, mergeUDP: udp) { out.append((Array($0), $1)) }
        return out
    }

    func testARunOfAFlowsDatagramsGoesUpAsOneSuperPacketThatCutsBackIntoThem() {
        let datagrams = (0..<4).map { Self.udp(Self.body($0 == 3 ? 700 : 1000, $0)) }
        let out = coalesce(datagrams)
        XCTAssertEqual(out.count, 1)
        guard let w = out.first else { return }
        XCTAssertEqual(w.header.gsoType, VirtioNetHeader.gsoUDPL4)
        XCTAssertEqual(w.header.gsoSize, 1000)
        XCTAssertEqual(w.header.hdrLen, 48)
        XCTAssertEqual(w.header.flags, VirtioNetHeader.needsChecksum)
        XCTAssertEqual(w.header.csumStart, 40)
        XCTAssertEqual(w.header.csumOffset, 6)
        XCTAssertEqual(w.bytes.count, 48 + 3700)
        XCTAssertEqual(Int(w.bytes[4]) << 8 | Int(w.bytes[5]), 8 + 3700, "IPv6 payload length of the whole")
        XCTAssertEqual(Int(w.bytes[44]) << 8 | Int(w.bytes[45]), 8 + 3700, "UDP length of the whole")
        let (_, back) = cut(w.bytes, w.header)
        XCTAssertEqual(back.map(\.bytes), datagrams)
    }

    func testPartialDatagramsMergeWithoutAChecksumToCheck() {
        let datagrams = (0..<3).map { _ in F.partialUDP(body: Self.body(200, 9)) }
        let out = coalesce(datagrams, partial: true)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out.first?.header.gsoType, VirtioNetHeader.gsoUDPL4)
        guard let w = out.first else { return }
        let (_, back) = cut(w.bytes, w.header, partial: true)
        XCTAssertEqual(back.map(\.bytes), datagrams, "each with its own pseudo-header sum, as the sender's kernel left it")
    }

    func testRunsEndWhereTheFlowTheSizeOrTheChecksumChanges() {
        let a = Self.udp(Self.body(500, 1))
        let b = Self.udp(Self.body(500, 2))
        let otherPort = Self.udp(Self.body(500, 3), srcPort: 4001)
        let otherHops = Self.udp(Self.body(500, 4), hopLimit: 3)
        let longer = Self.udp(Self.body(600, 5))
        let shorter = Self.udp(Self.body(100, 6))
        var bad = Self.udp(Self.body(500, 7))
        bad[60] ^= 1
        let after = Self.udp(Self.body(500, 8))
        let input = [a, b, otherPort, otherHops, longer, shorter, after, bad, a]
        let out = coalesce(input)
        // [a b] [otherPort] [otherHops] [longer shorter] [after] [bad] [a]
        XCTAssertEqual(out.map(\.header.gsoType), [5, 0, 0, 5, 0, 0, 0])
        var back: [[UInt8]] = []
        for w in out {
            if w.header.gsoType == VirtioNetHeader.gsoUDPL4 { back += cut(w.bytes, w.header).1.map(\.bytes) } else { back.append(w.bytes) }
        }
        XCTAssertEqual(back, input, "every datagram once, in order; the bad one unmerged for the kernel to drop")
    }

    func testARunStopsAtTheKernelsSegmentLimit() {
        let datagrams = (0..<70).map { Self.udp(Self.body(100, $0)) }
        let out = coalesce(datagrams)
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out.first?.bytes.count, 48 + 64 * 100)
        XCTAssertEqual(out.last?.bytes.count, 48 + 6 * 100)
    }

    func testTCPAndUDPInterleavedKeepTheirOrder() {
        let t = (0..<2).map { F.tcp(seq: 1000 + UInt32($0) * 800, payload: Self.body(800, $0)) }
        let u = (0..<2).map { Self.udp(Self.body(800, 10 + $0)) }
        let out = coalesce([u[0], u[1], t[0], t[1], u[0]])
        XCTAssertEqual(out.map(\.header.gsoType), [VirtioNetHeader.gsoUDPL4, VirtioNetHeader.gsoTCPv6, 0])
        XCTAssertEqual(out.last?.bytes, u[0])
    }

    func testPLANETARY_NO_USOTurnsTheOffloadOff() {
        XCTAssertTrue(NodeRunner.wantsUDPOffload(environment: [:]))
        XCTAssertTrue(NodeRunner.wantsUDPOffload(environment: ["PLANETARY_NO_USO": "0"]))
        XCTAssertTrue(NodeRunner.wantsUDPOffload(environment: ["PLANETARY_NO_USO": ""]))
        XCTAssertFalse(NodeRunner.wantsUDPOffload(environment: ["PLANETARY_NO_USO": "1"]))
    }

    func testWithoutUSOTheDeviceGetsEveryDatagramAlone() {
        let datagrams = (0..<3).map { Self.udp(Self.body(500, $0)) }
        let out = coalesce(datagrams, udp: false)
        XCTAssertEqual(out.map(\.bytes), datagrams)
        XCTAssertTrue(out.allSatisfy { $0.header.gsoType == VirtioNetHeader.gsoNone })
    }
}
