import PlanetNode

/// What an offloading device's writes go through: a flush's packets, in order, with TCP runs
/// merged by `TCPCoalescer` and — on a device that takes UDP super-packets — UDP runs merged by
/// `UDPCoalescer`. A packet of one kind ends the other's run, so the order the node produced is
/// the order the kernel sees.
public final class PacketCoalescer {
    public let tcp = TCPCoalescer()
    public let udp = UDPCoalescer()

    public init() {}

    /// `mergeUDP`: the device accepted UDP segmentation offload (`TUN_F_USO4|USO6`); without it
    /// UDP datagrams are written one by one, as the TCP coalescer writes anything it cannot merge.
    public func coalesce(_ packets: [NodeOutput.TunPacket], mergeUDP: Bool, write: (UnsafeRawBufferPointer, VirtioNetHeader) -> Void) {
        guard mergeUDP else {
            tcp.coalesce(packets, write: write)
            return
        }
        for packet in packets {
            packet.withUnsafeBytes { p in
                if UDPCoalescer.isMergeable(p) {
                    tcp.finish(write: write)
                    udp.offer(p, checksumPartial: packet.checksumPartial, write: write)
                } else {
                    udp.finish(write: write)
                    tcp.offer(p, checksumPartial: packet.checksumPartial, write: write)
                }
            }
        }
        udp.finish(write: write)
        tcp.finish(write: write)
    }
}
