import PlanetCore
import PlanetNode
import PlanetRuntime

enum OffloadFuzzTargets {
    /// A TUN read: the first 10 bytes are its virtio header, the rest the packet (a plain
    /// packet to checksum, or a TCP or UDP super-packet to cut), as `Segmenter.process` gets them.
    static let segmenter = FuzzTarget("segmenter", "TUN reads: virtio header and TCP super-packets") { input in
        guard input.count >= VirtioNetHeader.length else { return }
        let header = VirtioNetHeader(reading: input.baseAddress!)
        var packet = Array(input[VirtioNetHeader.length...])
        var scratch = [UInt8](repeating: 0, count: 65536 + 128)
        for partial in [false, true] {
            var copy = packet
            copy.withUnsafeMutableBytes { p in
                scratch.withUnsafeMutableBytes { s in
                    _ = Segmenter.process(header, packet: p, scratch: s, partialChecksums: partial) { segment, _ in
                        precondition(segment.count <= s.count + p.count, "a segment larger than its buffers")
                    }
                }
            }
        }
        packet.removeAll()
    }

    /// Packets leaving the overlay for the TUN: the input is cut into packets (a two-byte
    /// length before each; the top bit of the length marks it checksum-partial) and merged.
    static let coalescer = FuzzTarget("coalescer", "TUN writes: TCP segments and UDP datagrams merged into super-packets") { input in
        var packets: [(bytes: [UInt8], partial: Bool)] = []
        var at = 0
        let bytes = Array(input)
        while at + 2 <= bytes.count {
            let word = Int(bytes[at]) << 8 | Int(bytes[at + 1])
            let length = min(word & 0x7fff, bytes.count - at - 2)
            let packet = Array(bytes[(at + 2)..<(at + 2 + length)])
            // Checksum-partial packets are IPv6 with TCP or UDP right after the header: the
            // node only marks those, and the coalescer may rely on it.
            let partial = word & 0x8000 != 0 && packet.count >= 40 + 20 && packet[0] >> 4 == 6 && (packet[6] == 6 || packet[6] == 17)
            packets.append((packet, partial))
            at += 2 + length
        }
        // Through `coalesce`, which keeps every packet alive until the run is written (the
        // coalescers read a run's first packet lazily); with UDP merged too, as on a TUN with USO.
        let tunPackets = packets.map { NodeOutput.TunPacket($0.bytes[...], checksumPartial: $0.partial) }
        for mergeUDP in [false, true] {
            PacketCoalescer().coalesce(tunPackets, mergeUDP: mergeUDP) { out, header in
                precondition(out.count <= TCPCoalescer.maxPacket, "a merged packet past the IPv6 length limit")
                if header.gsoType == VirtioNetHeader.gsoUDPL4 {
                    precondition(mergeUDP && out.count > 48 && header.gsoSize > 0, "a UDP super-packet that was not asked for, or empty")
                    precondition((out.count - 48 + Int(header.gsoSize) - 1) / Int(header.gsoSize) <= UDPCoalescer.maxSegments,
                                 "more datagrams in a UDP super-packet than the kernel takes")
                }
            }
        }
    }
}
