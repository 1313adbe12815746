#if canImport(Glibc)
import Glibc
#endif
import PlanetCore

/// The UDP twin of `TCPCoalescer`: consecutive datagrams of one UDP flow, as they come out of
/// the overlay, are written to the TUN as one super-packet behind a virtio header of GSO type
/// UDP_L4. The kernel takes it up its stack once and cuts it back into the datagrams only where
/// a socket wants them one by one (`udp_rcv_segment`), so a 1 Gbit/s stream of 1300-byte
/// datagrams costs ~50 times fewer TUN writes and trips through the IPv6 input path.
///
/// Only what a sender's `UDP_SEGMENT` could have produced merges — which is also exactly what
/// the kernel's segmentation gives back: same IPv6 version, class, flow label, hop limit and
/// addresses; same ports; every datagram the size of the first except a shorter last one, which
/// ends the run; at most `maxSegments`; each checksum valid, unless the datagram arrived
/// checksum-partial (the overlay's AEAD vouches for its bytes). The kernel recomputes each
/// datagram's length and checksum from the super-packet's, so nothing of a datagram is lost or
/// invented. Only for devices that accepted `TUN_F_USO4|USO6` (kernels ≥ 6.2): older ones
/// refuse the GSO type.
public final class UDPCoalescer {
    /// Largest merged packet: the IPv6 payload length field's limit.
    public static let maxPacket = 65535
    /// The kernel refuses a UDP super-packet of more segments than UDP_MAX_SEGMENTS (64 before
    /// Linux 6.9, 128 since); 64 holds 64 KiB of any datagram size above 1 KiB anyway.
    public static let maxSegments = 64
    static let ip = 40
    static let headers = 48

    private let buffer: UnsafeMutableRawPointer
    /// Datagrams that went out merged / super-packets written (for tests and metrics).
    public private(set) var merged = 0
    public private(set) var superPackets = 0

    // The run being built: its first datagram stays where it is until a second one joins.
    private var first: UnsafeRawBufferPointer?
    private var firstPartial = false
    private var inBuffer = false
    private var length = 0
    private var segmentSize = 0
    private var segments = 0
    private var closed = false

    public init() {
        buffer = .allocate(byteCount: UDPCoalescer.maxPacket + 64, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Whether `p` is a UDP datagram this coalescer would take: IPv6 with UDP right after the
    /// fixed header, lengths consistent, a payload.
    static func isMergeable(_ p: UnsafeRawBufferPointer) -> Bool {
        guard p.count > headers, p[0] >> 4 == 6, p[6] == 17 else { return false }
        let payloadLength = Int(p[4]) << 8 | Int(p[5])
        let udpLength = Int(p[ip + 4]) << 8 | Int(p[ip + 5])
        return payloadLength == p.count - ip && udpLength == payloadLength
    }

    /// Feeds one datagram (`isMergeable`). Its bytes must stay valid until `finish`; a datagram
    /// that cannot join the run in progress ends it.
    public func offer(_ p: UnsafeRawBufferPointer, checksumPartial: Bool, write: (UnsafeRawBufferPointer, VirtioNetHeader) -> Void) {
        if first != nil, !closed, canAppend(p, checksumPartial: checksumPartial) {
            append(p)
            return
        }
        finish(write: write)
        guard checksumPartial || UDPCoalescer.checksumValid(p) else {
            // Written as it came: the kernel checks the checksum and counts a bad one.
            write(p, VirtioNetHeader())
            return
        }
        first = p
        firstPartial = checksumPartial
        inBuffer = false
        length = p.count
        segmentSize = p.count - UDPCoalescer.headers
        segments = 1
        closed = false
    }

    /// Writes the run in progress, merged if more than one datagram joined.
    public func finish(write: (UnsafeRawBufferPointer, VirtioNetHeader) -> Void) {
        guard let f = first else { return }
        first = nil
        guard inBuffer else {
            write(f, firstPartial ? TCPCoalescer.partialHeader(f) : VirtioNetHeader())
            return
        }
        let ip = UDPCoalescer.ip
        let udpTotal = length - ip
        buffer.storeBytes(of: UInt16(udpTotal).bigEndian, toByteOffset: 4, as: UInt16.self)
        buffer.storeBytes(of: UInt16(udpTotal).bigEndian, toByteOffset: ip + 4, as: UInt16.self)
        // Checksum partial over the whole super-packet: the kernel swaps in each datagram's own
        // length when it cuts (`__udp_gso_segment`) and completes or trusts the rest.
        let pseudo = InternetChecksum.fold(InternetChecksum.pseudoHeaderSum(ipv6: buffer, proto: 17, length: udpTotal))
        buffer.storeBytes(of: pseudo.bigEndian, toByteOffset: ip + 6, as: UInt16.self)
        let header = VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoUDPL4,
                                     hdrLen: UInt16(UDPCoalescer.headers), gsoSize: UInt16(segmentSize),
                                     csumStart: UInt16(ip), csumOffset: 6)
        merged += segments
        superPackets += 1
        write(UnsafeRawBufferPointer(start: buffer, count: length), header)
    }

    private func canAppend(_ p: UnsafeRawBufferPointer, checksumPartial: Bool) -> Bool {
        guard let f = first, segments < UDPCoalescer.maxSegments,
              p.count > UDPCoalescer.headers, p.count - UDPCoalescer.headers <= segmentSize,
              length + p.count - UDPCoalescer.headers <= UDPCoalescer.maxPacket else { return false }
        let a = f.baseAddress!, b = p.baseAddress!
        // IPv6: version/class/flow (0-3), next header + hop limit + addresses (6-39); UDP ports.
        guard memcmp(a, b, 4) == 0, memcmp(a + 6, b + 6, 34) == 0, memcmp(a + 40, b + 40, 4) == 0 else { return false }
        return checksumPartial || UDPCoalescer.checksumValid(p)
    }

    private func append(_ p: UnsafeRawBufferPointer) {
        if !inBuffer, let f = first {
            buffer.copyMemory(from: f.baseAddress!, byteCount: f.count)
            inBuffer = true
        }
        let payload = p.count - UDPCoalescer.headers
        (buffer + length).copyMemory(from: p.baseAddress! + UDPCoalescer.headers, byteCount: payload)
        length += payload
        segments += 1
        if payload < segmentSize { closed = true }
    }

    /// A complete UDP checksum that verifies (zero, "none", is not allowed over IPv6).
    static func checksumValid(_ p: UnsafeRawBufferPointer) -> Bool {
        let base = p.baseAddress!
        let udpTotal = p.count - ip
        guard p[ip + 6] != 0 || p[ip + 7] != 0 else { return false }
        let sum = InternetChecksum.sum(base + ip, udpTotal, initial: InternetChecksum.pseudoHeaderSum(ipv6: base, proto: 17, length: udpTotal))
        return InternetChecksum.fold(sum) == 0xffff
    }
}
