import PlanetCore
import PlanetLink

/// Outbound: a packet from a local device (the TUN) into the overlay.
///
/// Check the source is ours and the destination is in the overlay; look the destination up once
/// (address → key and next hop); if the next hop is the destination itself, send the packet as a
/// direct frame inside the link's encryption (one AEAD pass); otherwise seal it in the
/// end-to-end session (handshaking first, the packet queued) and send the overlay packet to the
/// next hop (NodeSessions.swift).
extension Node {
    /// A packet the kernel routed into the TUN.
    public func receiveTunPacket(_ packet: [UInt8], checksumPartial: Bool = false, from interface: PacketInterface = .tun, now: Instant) {
        packet.withUnsafeBytes { receiveTunPacket(raw: $0, checksumPartial: checksumPartial, from: interface, now: now) }
    }

    /// A packet read where it lies (the runtime's receive slot): it is copied once, into the
    /// frame that the link seals in place, in a slot of `transmits` (the runtime's to send).
    /// `checksumPartial`: its TCP/UDP checksum is the kernel's partial one; it travels marked
    /// as such (direct frame 0x22, session message 0x06) so nobody on the way sums the payload.
    /// `interface`: the device it came in on (the runtime's id; `.tun` for the node's TUN).
    public func receiveTunPacket(raw packet: UnsafeRawBufferPointer, checksumPartial: Bool = false, from interface: PacketInterface = .tun,
                                 now: Instant) {
        stats.tunRxPackets += 1
        stats.tunRxBytes += UInt64(packet.count)
        guard let h = IPv6Header(raw: packet) else { stats.drop(.tunMalformed); return }
        // The kernel's own link-local chatter on the TUN (MLD reports, router solicitations to
        // ff02::) is not traffic for the overlay; count it apart so bad-source drops stay meaningful.
        guard OverlayAddress.isOverlay(h.destination) else { stats.drop(.tunNotOverlay); return }
        guard isLocal(h.source) else { stats.drop(.tunBadSource); return }
        if packet.count > config.tun.mtu {
            stats.drop(.tunTooBig)
            sendICMP(.packetTooBig(mtu: config.tun.mtu), from: address, about: Array(packet), now: now)
            return
        }
        if !vms.isEmpty {
            vmSent(packet, header: h, now: now)
            // A VM of this node writing to another (the kernel's policy routing sends VM traffic
            // through the TUN): the node is the sender, and the destination VM's policy decides.
            // Back into the TUN it goes, and the kernel takes it to that VM's own interface.
            if vms.entries[h.destination] != nil {
                if vmAdmits(packet, header: h, from: identity.publicKey, now: now) {
                    var local = NodeOutput.TunPacket(Array(packet)[...], checksumPartial: checksumPartial)
                    local.interface = interface
                    deliverToTun(local)
                }
                pumpData(now: now)
                return
            }
        }
        route(packet, checksumPartial: checksumPartial, header: h, now: now)
        pumpData(now: now)
    }

    /// Sends a checked packet of this node's (its own, a VM's, an ICMPv6 error it owes) toward
    /// its destination: as a direct frame when the next hop is the destination, else through
    /// the end-to-end session. The caller pumps.
    /// `mayWait`: a stub may hold the packet while it asks who owns the destination (false for
    /// a packet that already waited).
    func route(_ packet: UnsafeRawBufferPointer, checksumPartial: Bool, header h: IPv6Header, now: Instant, mayWait: Bool = true) {
        guard let route = routeCache.route(for: h.destination, router: router) else {
            if mayWait, router.isStub, waitForOrigin(packet, checksumPartial: checksumPartial, header: h, now: now) { return }
            if sendForeign(packet, checksumPartial: checksumPartial, now: now) { return }
            stats.drop(.noRoute)
            sendICMP(.noRoute, from: address, about: Array(packet), now: now)
            return
        }
        if route.nextHop == route.destination, links.isUp(route.destination) {
            let type = checksumPartial ? InnerFrameType.directChecksumPartial : .direct
            let sent = links.send(frameLength: 1 + packet.count, to: route.destination, now: now) { frame in
                frame[0] = type.rawValue
                if !packet.isEmpty { (frame.baseAddress! + 1).copyMemory(from: packet.baseAddress!, byteCount: packet.count) }
                return true
            }
            if !sent { stats.drop(.linkDown) }
        } else {
            sendThroughSession(packet, checksumPartial: checksumPartial, hopLimit: h.hopLimit, destinationAddress: h.destination,
                               to: route.destination, via: route.nextHop, now: now)
        }
    }

    /// Routes an overlay packet of ours (a handshake, a report) toward `destination`; false if no route.
    @discardableResult
    func sendOverlay(message: [UInt8], hopLimit: UInt8, to destination: IPv6Address, now: Instant) -> Bool {
        // A stub sends what it has no route of its own for to its upstream: an overlay packet
        // needs only a next hop (a handshake answer to a peer it never resolved, for one).
        guard let nextHop = routeCache.route(for: destination, router: router)?.nextHop ?? router.stubUpstream else {
            stats.drop(.noRoute); return false
        }
        let frame = OverlayPacket.make(hopLimit: hopLimit, destination: destination, source: address, message: message)
        if !links.send(frame: frame, to: nextHop, now: now) { stats.drop(.linkDown); return false }
        return true
    }

    /// An ICMPv6 error for a local program, written to the TUN (rate limited, RFC 4443 2.4(f)).
    func sendICMP(_ kind: ICMPv6.ErrorKind, from source: IPv6Address, about packet: [UInt8], now: Instant) {
        guard config.tun.enabled, ICMPv6.mayReportError(about: packet) else { return }
        guard icmpLimiter.take(now: now) else { stats.drop(.icmpRateLimited); return }
        guard let icmp = ICMPv6.error(kind, from: source, about: packet) else { return }
        stats.icmpErrorsSent += 1
        deliverToTun(NodeOutput.TunPacket(icmp[...]))
    }
}
