#if canImport(Glibc)
import Glibc
#endif
import PlanetCore
import PlanetNode

/// The receive half of TUN offload (what GRO does in a NIC driver): consecutive TCP segments of
/// one flow, as they come out of the overlay, are merged into one super-packet that is written
/// to the TUN once with a virtio GSO header. The kernel's TCP stack then handles 64 KiB where it
/// would have handled ~45 packets, and we make one write instead of ~45.
///
/// Only what the sender's TSO could have produced merges: same addresses, traffic class, flow
/// label and hop limit; same ports, ack, window, options (timestamps included) and header size;
/// flags ACK only (PSH allowed on the last); contiguous sequence numbers; every segment the size
/// of the first except a shorter last one; each segment's checksum valid (the merged packet goes
/// up as "checksum partial", i.e. trusted, so a bad segment must not hide inside it) — unless
/// the segment arrived checksum-partial, with nothing to check: then the overlay's AEAD is what
/// vouches for its bytes, end to end from the sending node. Anything else is written as it
/// came, a checksum-partial packet with the virtio header that tells the kernel so.
public final class TCPCoalescer {
    /// Largest merged packet: the IPv6 payload length field's limit.
    public static let maxPacket = 65535
    static let ip = 40
    static let ack: UInt8 = 0x10
    static let psh: UInt8 = 0x08

    /// The run being built, and what TCP adds to it: the sequence number the next segment must
    /// carry, and the flags of the last one (PSH ends a run).
    private var run = CoalescerRun(capacity: TCPCoalescer.maxPacket)
    private var nextSeq: UInt32 = 0
    private var lastFlags: UInt8 = 0

    /// Packets that went out merged / super-packets written (counters for tests and metrics).
    public var merged: Int { run.merged }
    public var superPackets: Int { run.superPackets }

    public init() {}

    deinit { run.deallocate() }

    /// Writes `packets` in order through `write`, merging what may be merged.
    public func coalesce(_ packets: [ArraySlice<UInt8>], write: (UnsafeRawBufferPointer, VirtioNetHeader) -> Void) {
        for packet in packets {
            packet.withUnsafeBytes { offer($0, write: write) }
        }
        finish(write: write)
    }

    /// The node's output: packets with their checksum-partial marks.
    public func coalesce(_ packets: [NodeOutput.TunPacket], write: (UnsafeRawBufferPointer, VirtioNetHeader) -> Void) {
        for packet in packets {
            packet.withUnsafeBytes { offer($0, checksumPartial: packet.checksumPartial, write: write) }
        }
        finish(write: write)
    }

    /// Feeds one packet. The bytes must stay valid until `finish` (the first of a run is read
    /// lazily); `coalesce` guarantees that for its array. A `checksumPartial` packet must be
    /// IPv6 with TCP or UDP right after the fixed header (the node checks that).
    public func offer(_ p: UnsafeRawBufferPointer, checksumPartial: Bool = false, write: (UnsafeRawBufferPointer, VirtioNetHeader) -> Void) {
        if run.accepts, canAppend(p, checksumPartial: checksumPartial) {
            nextSeq = nextSeq &+ UInt32(run.append(p))
            lastFlags = p[TCPCoalescer.ip + 13]
            if lastFlags & TCPCoalescer.psh != 0 { run.close() }
            return
        }
        finish(write: write)
        guard let h = TCPCoalescer.mergeableHeaders(p), checksumPartial || TCPCoalescer.checksumValid(p, headers: h) else {
            write(p, checksumPartial ? TCPCoalescer.partialHeader(p) : VirtioNetHeader())
            return
        }
        lastFlags = p[TCPCoalescer.ip + 13]
        run.start(p, headers: h, checksumPartial: checksumPartial, closed: lastFlags & TCPCoalescer.psh != 0)
        nextSeq = TCPCoalescer.seq(p) &+ UInt32(run.segmentSize)
    }

    /// Writes the run in progress, merged if more than one segment joined.
    public func finish(write: (UnsafeRawBufferPointer, VirtioNetHeader) -> Void) {
        let flags = lastFlags
        run.finish(write: write, gsoType: VirtioNetHeader.gsoTCPv6, checksumOffset: 16) { buffer, length in
            let ip = TCPCoalescer.ip
            let tcpTotal = length - ip
            buffer.storeBytes(of: UInt16(tcpTotal).bigEndian, toByteOffset: 4, as: UInt16.self)
            buffer.storeBytes(of: flags, toByteOffset: ip + 13, as: UInt8.self)
            // "Checksum partial": the field holds the pseudo-header sum, the kernel adds the rest
            // (or trusts it, delivering locally).
            let pseudo = InternetChecksum.fold(InternetChecksum.pseudoHeaderSum(ipv6: buffer, proto: 6, length: tcpTotal))
            buffer.storeBytes(of: pseudo.bigEndian, toByteOffset: ip + 16, as: UInt16.self)
        }
    }

    private func canAppend(_ p: UnsafeRawBufferPointer, checksumPartial: Bool) -> Bool {
        let headers = run.headers
        guard let f = run.first, run.fits(p),
              TCPCoalescer.mergeableHeaders(p) == headers,
              TCPCoalescer.seq(p) == nextSeq else { return false }
        let ip = TCPCoalescer.ip
        let a = f.baseAddress!, b = p.baseAddress!
        // IPv6: version/class/flow (0-3), next header + hop limit (6-7), addresses (8-39).
        guard memEqual(a, b, 4), memEqual(a + 6, b + 6, 34) else { return false }
        // TCP: ports (0-3), ack (8-11), offset (12), window (14-15), options (20-); flags checked
        // by mergeableHeaders, sequence above.
        guard memEqual(a + ip, b + ip, 4), memEqual(a + ip + 8, b + ip + 8, 5), memEqual(a + ip + 14, b + ip + 14, 2),
              memEqual(a + ip + 20, b + ip + 20, headers - ip - 20) else { return false }
        return checksumPartial || TCPCoalescer.checksumValid(p, headers: headers)
    }

    /// "Checksum partial" for one packet written alone: the kernel completes the TCP or UDP
    /// checksum from byte 40 if the packet leaves through a device that needs it.
    static func partialHeader(_ p: UnsafeRawBufferPointer) -> VirtioNetHeader {
        let offset = p.count > ip ? InternetChecksum.partialChecksumOffset(nextHeader: p[6]) ?? 16 : 16
        return VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoNone, hdrLen: 0, gsoSize: 0,
                               csumStart: UInt16(ip), csumOffset: UInt16(offset))
    }

    private func memEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        n <= 0 || memcmp(a, b, n) == 0
    }

    /// Header length (IPv6 + TCP) of a packet that could take part in a merge: IPv6 with TCP
    /// right after the fixed header, lengths consistent, a payload, flags ACK or ACK|PSH.
    static func mergeableHeaders(_ p: UnsafeRawBufferPointer) -> Int? {
        guard p.count >= ip + 20, p[0] >> 4 == 6, p[6] == 6 else { return nil }
        guard Int(p[4]) << 8 | Int(p[5]) == p.count - ip else { return nil }
        let tcpLength = Int(p[ip + 12] >> 4) * 4
        guard tcpLength >= 20, ip + tcpLength < p.count else { return nil }
        let flags = p[ip + 13]
        guard flags == ack || flags == ack | psh else { return nil }
        return ip + tcpLength
    }

    static func seq(_ p: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(bigEndian: p.baseAddress!.loadUnaligned(fromByteOffset: ip + 4, as: UInt32.self))
    }

    static func checksumValid(_ p: UnsafeRawBufferPointer, headers: Int) -> Bool {
        let base = p.baseAddress!
        let tcpTotal = p.count - ip
        let sum = InternetChecksum.sum(base + ip, tcpTotal,
                                       initial: InternetChecksum.pseudoHeaderSum(ipv6: base, proto: 6, length: tcpTotal))
        return InternetChecksum.fold(sum) == 0xffff
    }
}
