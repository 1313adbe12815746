import PlanetCore

/// Cuts a UDP super-packet (USO: what a TUN with `TUN_F_USO6` hands us when a program sends with
/// `UDP_SEGMENT`, up to 64 KiB of equal-size datagrams behind one IPv6 and one UDP header) back
/// into the datagrams the program meant, each with its own payload length, UDP length and
/// checksum — the UDP twin of `Segmenter.segmentTCPv6`.
///
/// Checksums as for TCP: with `partialChecksums` each datagram leaves checksum-partial (its
/// field holds the pseudo-header sum over its own length) and is emitted marked so; without,
/// each is summed here.
enum UDPSegmenter {
    static let udpProto: UInt8 = 17
    static let ip = 40
    static let headers = 48

    static func segmentUDPv6(packet: UnsafeRawBufferPointer, segmentSize: Int, scratch: UnsafeMutableRawBufferPointer,
                             partialChecksums: Bool, emit: (UnsafeRawBufferPointer, Bool) -> Void) -> Segmenter.Outcome {
        guard packet.count > headers, let src = packet.baseAddress, let out = scratch.baseAddress,
              packet[0] >> 4 == 6, packet[6] == udpProto,
              segmentSize > 0, headers + segmentSize <= scratch.count else { return .malformed }
        let payload = packet.count - headers
        var offset = 0
        var count = 0
        repeat {
            let length = min(segmentSize, payload - offset)
            let udpLength = 8 + length
            out.copyMemory(from: src, byteCount: headers)
            (out + headers).copyMemory(from: src + headers + offset, byteCount: length)
            out.storeBytes(of: UInt16(udpLength).bigEndian, toByteOffset: 4, as: UInt16.self)
            out.storeBytes(of: UInt16(udpLength).bigEndian, toByteOffset: ip + 4, as: UInt16.self)
            let pseudo = InternetChecksum.pseudoHeaderSum(ipv6: out, proto: udpProto, length: udpLength)
            if partialChecksums {
                out.storeBytes(of: InternetChecksum.fold(pseudo).bigEndian, toByteOffset: ip + 6, as: UInt16.self)
            } else {
                out.storeBytes(of: UInt16(0), toByteOffset: ip + 6, as: UInt16.self)
                var c = ~InternetChecksum.fold(InternetChecksum.sum(out + ip, udpLength, initial: pseudo))
                // Zero on the wire means "no checksum", which IPv6 forbids for UDP.
                if c == 0 { c = 0xffff }
                out.storeBytes(of: c.bigEndian, toByteOffset: ip + 6, as: UInt16.self)
            }
            emit(UnsafeRawBufferPointer(start: out, count: headers + length), partialChecksums)
            offset += length
            count += 1
        } while offset < payload
        return .packets(count)
    }
}
