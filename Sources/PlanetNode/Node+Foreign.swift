import PlanetCore

/// One node, two networks: packets to and from the foreign network (ForeignNetwork.swift).
///
/// Outbound, `route` (Node+Send.swift) hands a packet here only when Planetary has no route.
/// Inbound, the foreign network has checked what only it can (its session's authenticity, and
/// that the packet's source address belongs to the key that sent it); the node then applies
/// what it applies to Planetary traffic: the destination must be this node or its /64, and a
/// VM's inbound policy decides by the sender's key, exactly as for a Planetary sender.
extension Node {
    /// Registers the foreign network; from now on packets without a Planetary route go there.
    public func attach(foreign network: ForeignNetwork) {
        foreign = network
    }

    /// A packet the foreign network delivers, sent by `sender` (authenticated by it).
    public func receiveForeignPacket(_ packet: [UInt8], from sender: PublicKey, now: Instant) {
        stats.foreignRxPackets += 1
        stats.foreignRxBytes += UInt64(packet.count)
        packet.withUnsafeBytes { raw in
            guard let h = IPv6Header(raw: raw) else { stats.drop(.foreignMalformed); return }
            // Never forwarded on: a packet for anyone else would make this node a bridge
            // between the networks that neither side's routing knows about, a loop waiting to
            // happen. The foreign network's own transit (its router) needs no IPv6 here.
            guard isLocal(h.destination) else { stats.drop(.foreignNotLocal); return }
            guard vmAdmits(raw, header: h, from: sender, now: now) else { return }
            deliverToTun(NodeOutput.TunPacket(packet[...]))
        }
        pumpData(now: now)
    }

    /// The fallback of `route`: true when the foreign network took the packet.
    /// A checksum-partial packet (the TUN's offload: the kernel left the TCP/UDP checksum to
    /// whoever segments it) is completed first: the foreign network's receivers take packets
    /// as they come, with no such flag.
    func sendForeign(_ packet: UnsafeRawBufferPointer, checksumPartial: Bool = false, now: Instant) -> Bool {
        guard let foreign else { return false }
        let taken: Bool
        if checksumPartial {
            var whole = Array(packet)
            guard whole.withUnsafeMutableBytes({ InternetChecksum.completePartial($0) }) else { stats.drop(.foreignMalformed); return true }
            taken = whole.withUnsafeBytes { foreign.send($0, now: now) }
        } else {
            taken = foreign.send(packet, now: now)
        }
        guard taken else { return false }
        stats.foreignTxPackets += 1
        stats.foreignTxBytes += UInt64(packet.count)
        return true
    }
}
