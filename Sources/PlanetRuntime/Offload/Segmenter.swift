import PlanetCore

/// Turns what a TUN with offloads hands us into IPv6 packets the overlay can carry: cuts TCP
/// super-packets (TSO, up to 64 KiB) into segments of the flow's MSS — the job a NIC does in
/// hardware — each with its own payload length, sequence number and flags; UDP super-packets
/// (USO) go to `UDPSegmenter`.
///
/// Checksums: with `partialChecksums` (what planetd runs), TCP and UDP packets whose checksum
/// the kernel left partial stay partial — the field holds the pseudo-header sum — and are
/// emitted marked so; the overlay carries the mark to the receiving node, whose kernel finishes
/// or skips the checksum. The overlay's AEAD already protects every byte end to end, so
/// summing each segment here (and checking it again at the far end) was ~6% of a sender's CPU
/// spent on nothing. Without it, every checksum is completed here.
public enum Segmenter {
    static let tcpProto: UInt8 = 6
    static let ipv6HeaderLength = 40
    static let fin: UInt8 = 0x01
    static let psh: UInt8 = 0x08
    static let cwr: UInt8 = 0x80

    public enum Outcome: Equatable {
        /// This many packets were emitted.
        case packets(Int)
        /// Inconsistent header or packet: nothing emitted (the caller counts the drop).
        case malformed
    }

    /// Processes one packet read from the TUN (the bytes after its virtio header). Plain packets
    /// are emitted in place (checksum finished if asked); super-packets are cut into `scratch`,
    /// which must hold `hdrLen + gsoSize`, and each segment is emitted before the next is built.
    /// `emit` gets each packet and whether its checksum is partial.
    public static func process(_ header: VirtioNetHeader, packet: UnsafeMutableRawBufferPointer,
                               scratch: UnsafeMutableRawBufferPointer, partialChecksums: Bool = false,
                               emit: (UnsafeRawBufferPointer, Bool) -> Void) -> Outcome {
        let gso = header.gsoType & ~VirtioNetHeader.gsoECN
        if gso == VirtioNetHeader.gsoNone {
            guard header.flags & VirtioNetHeader.needsChecksum != 0 else {
                emit(UnsafeRawBufferPointer(packet), false)
                return .packets(1)
            }
            // Left partial only in the one layout the receiver reconstructs from the headers.
            if partialChecksums, header.csumStart == UInt16(ipv6HeaderLength), packet.count > ipv6HeaderLength,
               InternetChecksum.partialChecksumOffset(nextHeader: packet[6]) == Int(header.csumOffset),
               Int(header.csumStart) + Int(header.csumOffset) + 2 <= packet.count {
                emit(UnsafeRawBufferPointer(packet), true)
                return .packets(1)
            }
            guard InternetChecksum.complete(packet, start: Int(header.csumStart), offset: Int(header.csumOffset)) else { return .malformed }
            emit(UnsafeRawBufferPointer(packet), false)
            return .packets(1)
        }
        if gso == VirtioNetHeader.gsoUDPL4 {
            return UDPSegmenter.segmentUDPv6(packet: UnsafeRawBufferPointer(packet), segmentSize: Int(header.gsoSize), scratch: scratch,
                                             partialChecksums: partialChecksums, emit: emit)
        }
        guard gso == VirtioNetHeader.gsoTCPv6 else { return .malformed }
        return segmentTCPv6(packet: UnsafeRawBufferPointer(packet), mss: Int(header.gsoSize), scratch: scratch,
                            partialChecksums: partialChecksums, emit: emit)
    }

    static func segmentTCPv6(packet: UnsafeRawBufferPointer, mss: Int, scratch: UnsafeMutableRawBufferPointer,
                             partialChecksums: Bool = false, emit: (UnsafeRawBufferPointer, Bool) -> Void) -> Outcome {
        let ip = ipv6HeaderLength
        guard packet.count >= ip + 20, let src = packet.baseAddress, let out = scratch.baseAddress,
              packet[0] >> 4 == 6, packet[6] == tcpProto else { return .malformed }
        let tcpLength = Int(packet[ip + 12] >> 4) * 4
        let headers = ip + tcpLength
        guard tcpLength >= 20, headers <= packet.count, mss > 0, headers + mss <= scratch.count else { return .malformed }
        let payload = packet.count - headers
        let seq0 = UInt32(bigEndian: src.loadUnaligned(fromByteOffset: ip + 4, as: UInt32.self))
        let flags = packet[ip + 13]
        var offset = 0
        var count = 0
        repeat {
            let length = min(mss, payload - offset)
            let last = offset + length >= payload
            out.copyMemory(from: src, byteCount: headers)
            if length > 0 { (out + headers).copyMemory(from: src + headers + offset, byteCount: length) }
            out.storeBytes(of: UInt16(tcpLength + length).bigEndian, toByteOffset: 4, as: UInt16.self)
            out.storeBytes(of: (seq0 &+ UInt32(truncatingIfNeeded: offset)).bigEndian, toByteOffset: ip + 4, as: UInt32.self)
            var f = flags
            if !last { f &= ~(fin | psh) }
            if count > 0 { f &= ~cwr }
            out.storeBytes(of: f, toByteOffset: ip + 13, as: UInt8.self)
            let segmentLength = tcpLength + length
            let pseudo = InternetChecksum.pseudoHeaderSum(ipv6: out, proto: tcpProto, length: segmentLength)
            if partialChecksums {
                out.storeBytes(of: InternetChecksum.fold(pseudo).bigEndian, toByteOffset: ip + 16, as: UInt16.self)
            } else {
                out.storeBytes(of: UInt16(0), toByteOffset: ip + 16, as: UInt16.self)
                let sum = InternetChecksum.sum(out + ip, segmentLength, initial: pseudo)
                out.storeBytes(of: (~InternetChecksum.fold(sum)).bigEndian, toByteOffset: ip + 16, as: UInt16.self)
            }
            emit(UnsafeRawBufferPointer(start: out, count: headers + length), partialChecksums)
            offset += length
            count += 1
        } while offset < payload
        return .packets(count)
    }
}
