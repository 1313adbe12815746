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

    /// The run being built.
    private var run = CoalescerRun(capacity: UDPCoalescer.maxPacket)

    /// Datagrams that went out merged / super-packets written (for tests and metrics).
    public var merged: Int { run.merged }
    public var superPackets: Int { run.superPackets }

    public init() {}

    deinit { run.deallocate() }

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
        if run.accepts, canAppend(p, checksumPartial: checksumPartial) {
            run.append(p)
            return
        }
        finish(write: write)
        guard checksumPartial || UDPCoalescer.checksumValid(p) else {
            // Written as it came: the kernel checks the checksum and counts a bad one.
            write(p, VirtioNetHeader())
            return
        }
        run.start(p, headers: UDPCoalescer.headers, checksumPartial: checksumPartial)
    }

    /// Writes the run in progress, merged if more than one datagram joined.
    public func finish(write: (UnsafeRawBufferPointer, VirtioNetHeader) -> Void) {
        run.finish(write: write, gsoType: VirtioNetHeader.gsoUDPL4, checksumOffset: 6) { buffer, length in
            let ip = UDPCoalescer.ip
            let udpTotal = length - ip
            buffer.storeBytes(of: UInt16(udpTotal).bigEndian, toByteOffset: 4, as: UInt16.self)
            buffer.storeBytes(of: UInt16(udpTotal).bigEndian, toByteOffset: ip + 4, as: UInt16.self)
            // Checksum partial over the whole super-packet: the kernel swaps in each datagram's
            // own length when it cuts (`__udp_gso_segment`) and completes or trusts the rest.
            let pseudo = InternetChecksum.fold(InternetChecksum.pseudoHeaderSum(ipv6: buffer, proto: 17, length: udpTotal))
            buffer.storeBytes(of: pseudo.bigEndian, toByteOffset: ip + 6, as: UInt16.self)
        }
    }

    private func canAppend(_ p: UnsafeRawBufferPointer, checksumPartial: Bool) -> Bool {
        guard let f = run.first, run.segments < UDPCoalescer.maxSegments, run.fits(p) else { return false }
        let a = f.baseAddress!, b = p.baseAddress!
        // IPv6: version/class/flow (0-3), next header + hop limit + addresses (6-39); UDP ports.
        guard memcmp(a, b, 4) == 0, memcmp(a + 6, b + 6, 34) == 0, memcmp(a + 40, b + 40, 4) == 0 else { return false }
        return checksumPartial || UDPCoalescer.checksumValid(p)
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
