import PlanetCore

/// The last step inbound: a packet for a local device, handed to the runtime in `output`.
/// Every check that decides whether it may be delivered has run before this (the direct
/// frame's and the session's source checks); this one only refuses what the runtime could not
/// hand to the kernel, and counts what goes.
extension Node {
    func deliverToTun(_ packet: NodeOutput.TunPacket) {
        guard config.tun.enabled else { stats.drop(.tunDisabled); return }
        // Partial only in the layout the runtime can hand to the kernel; anything else is
        // malformed (the sender's node produced it, so count it rather than trust it).
        if packet.checksumPartial, packet.count <= 40
            || packet.withUnsafeBytes({ InternetChecksum.partialChecksumOffset(nextHeader: $0[6]) }) == nil {
            stats.drop(.overlayMalformed)
            return
        }
        stats.tunTxPackets += 1
        stats.tunTxBytes += UInt64(packet.count)
        output.tunPackets.append(packet)
    }
}
