/// The Internet checksum (RFC 1071) over raw memory, 8 bytes at a time: segmenting and
/// coalescing TCP touch every byte once for it, so it has to be cheap.
public enum InternetChecksum {
    /// One's-complement sum of `count` bytes at `p` added to `initial`, not yet folded.
    /// Big-endian 16-bit words; an odd last byte is padded with zero.
    @inline(__always)
    public static func sum(_ p: UnsafeRawPointer, _ count: Int, initial: UInt64 = 0) -> UInt64 {
        var acc = initial
        var i = 0
        // 32-bit big-endian halves of each 64-bit load; carries collect in the high bits.
        while i + 8 <= count {
            let w = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            acc = acc &+ (w >> 32) &+ (w & 0xffff_ffff)
            i += 8
        }
        while i + 2 <= count {
            acc = acc &+ UInt64(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: i, as: UInt16.self)))
            i += 2
        }
        if i < count { acc = acc &+ UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << 8 }
        return acc
    }

    /// Folds a sum to 16 bits (not complemented).
    @inline(__always)
    public static func fold(_ sum: UInt64) -> UInt16 {
        var s = (sum >> 32) &+ (sum & 0xffff_ffff)
        s = (s >> 32) &+ (s & 0xffff_ffff)
        s = (s >> 16) &+ (s & 0xffff)
        s = (s >> 16) &+ (s & 0xffff)
        s = (s >> 16) &+ (s & 0xffff)
        return UInt16(truncatingIfNeeded: s)
    }

    /// Sum of the IPv6 pseudo-header: addresses from the packet at `ipv6`, `length` of the
    /// upper-layer packet, next header `proto`.
    @inline(__always)
    public static func pseudoHeaderSum(ipv6: UnsafeRawPointer, proto: UInt8, length: Int) -> UInt64 {
        sum(ipv6 + 8, 32, initial: UInt64(proto) &+ UInt64(length))
    }

    /// Where the checksum field of a checksum-partial packet is, from the transport directly
    /// after the 40-byte IPv6 header: 16 for TCP, 6 for UDP, nil for anything else.
    /// "Checksum partial" is the kernel's CHECKSUM_PARTIAL layout, which planetd carries over
    /// the overlay (Docs/protocol.md, "checksum-partial packets"): the field holds the folded
    /// pseudo-header sum and the rest is added by whoever needs the checksum complete.
    public static func partialChecksumOffset(nextHeader: UInt8) -> Int? {
        switch nextHeader {
        case 6: return 16
        case 17: return 6
        default: return nil
        }
    }

    /// Completes the checksum of `packet[start...]`, whose field at `start + offset` holds the
    /// pseudo-header sum. False when the offsets don't fit the packet.
    @discardableResult
    public static func complete(_ packet: UnsafeMutableRawBufferPointer, start: Int, offset: Int) -> Bool {
        guard start >= 0, offset >= 0, start < packet.count, start + offset + 2 <= packet.count, let base = packet.baseAddress else { return false }
        var c = ~fold(sum(base + start, packet.count - start))
        // UDP sends a computed zero as 0xffff (zero means "no checksum"); TCP accepts either.
        if c == 0 { c = 0xffff }
        base.storeBytes(of: c.bigEndian, toByteOffset: start + offset, as: UInt16.self)
        return true
    }

    /// Completes a checksum-partial IPv6 packet (transport right after the fixed header).
    @discardableResult
    public static func completePartial(_ packet: UnsafeMutableRawBufferPointer) -> Bool {
        guard packet.count > 40, let offset = partialChecksumOffset(nextHeader: packet[6]) else { return false }
        return complete(packet, start: 40, offset: offset)
    }
}
