import PlanetCore
import PlanetLink

/// Inbound: a datagram from the underlay, by one path.
///
/// The link layer authenticates and decrypts a transport frame where it lies; the inner frame
/// goes through the one dispatch (`receiveFrame`), by the registry in InnerFrameType.swift:
/// a neighbour's direct packet goes to the TUN, an overlay packet for us to its session
/// (NodeSessions.swift), one for someone else to the relay (Node+Relay.swift), anything in
/// the neighbour-protocol range to the protocol registered for it.
///
/// Memory: everything is read and decrypted in the datagram's own buffer. A packet for the TUN
/// is handed over borrowing that buffer (`NodeOutput.TunPacket`), a relayed packet is sealed
/// again in it and queued in `transmits` as a borrow; the runtime carries out both (its flush)
/// before it reuses the buffer. The array entry point owns its buffer instead and copies out
/// what was borrowed before returning.
extension Node {
    /// A datagram in an array (multicast, tests): the in-place path over a buffer of its own.
    public func receiveDatagram(_ bytes: [UInt8], from endpoint: Endpoint, now: Instant) {
        var datagram = bytes
        let firstBorrowed = output.tunPackets.count, firstTransmit = transmits.count
        datagram.withUnsafeMutableBytes { receiveDatagram(inPlace: $0, from: endpoint, now: now) }
        output.ownTunPackets(from: firstBorrowed)
        transmits.ownBorrowed(from: firstTransmit)
    }

    /// A datagram where it lies, in the runtime's writable receive slot, which must stay valid
    /// and untouched until the runtime has carried out `output`. The data path needs no copy
    /// and no allocation: a data packet relayed for others is opened and sealed again for the
    /// next link in that same slot and queued from there (`LinkLayer.forward(inPlace:)`), and a
    /// neighbour's direct packet or a session's data for us goes to the TUN from the slot.
    public func receiveDatagram(inPlace buffer: UnsafeMutableRawBufferPointer, from endpoint: Endpoint, now: Instant) {
        defer { pumpData(now: now) }
        guard let (frame, peer) = links.receive(inPlace: buffer, from: endpoint, now: now) else { return }
        receiveFrame(frame, in: buffer, from: peer, now: now)
    }

    /// The one output for datagrams, shared with the link layer.
    public var transmits: TransmitQueue { links.transmits }

    /// The one dispatch of an inner frame from an authenticated neighbour. `frame` lies in
    /// `datagram` with the link header's 13 bytes before it and the old tag's 16 after it (the
    /// room the relay seals in).
    func receiveFrame(_ frame: UnsafeMutableRawBufferPointer, in datagram: UnsafeMutableRawBufferPointer, from peer: PublicKey,
                      now: Instant) {
        switch InnerFrameType(rawValue: frame[0]) {
        case .overlay:
            receiveOverlay(frame, in: datagram, from: peer, now: now)
        case .direct:
            receiveDirect(frame, checksumPartial: false, from: peer, now: now)
        case .directChecksumPartial:
            receiveDirect(frame, checksumPartial: true, from: peer, now: now)
        default:
            // Every neighbour protocol, by the number it registered (InnerFrameType.swift): a
            // new one needs no edit here.
            guard let p = neighbourProtocols[frame[0]] else { stats.drop(.unknownFrame); return }
            p.receive(Array(frame[1...]), from: peer, now: now)
            protocolOutputPending = true
            // Cached routes go stale only when the frame could have changed the route table;
            // clearing on every gossip frame would make the data path look routes up again
            // for nothing.
            if p.changesRoutes { routeCache.clear(); cancelDumpsToStubs() }
        }
    }

    /// An inner frame handed up as an event (`LinkEvent.frame`, from a caller that fed the link
    /// layer an array): copied into a buffer shaped like a received datagram, then dispatched.
    func receiveFrame(copying frame: ArraySlice<UInt8>, from peer: PublicKey, now: Instant) {
        let head = Keypair.headerLength, length = frame.count
        guard length > 0 else { stats.drop(.unknownFrame); return }
        var datagram = [UInt8](repeating: 0, count: head + length + Keypair.tagLength)
        datagram.replaceSubrange(head..<(head + length), with: frame)
        let firstBorrowed = output.tunPackets.count, firstTransmit = transmits.count
        datagram.withUnsafeMutableBytes {
            receiveFrame(UnsafeMutableRawBufferPointer(rebasing: $0[head..<(head + length)]), in: $0, from: peer, now: now)
        }
        output.ownTunPackets(from: firstBorrowed)
        transmits.ownBorrowed(from: firstTransmit)
    }

    /// A neighbour's own packet, sent inside the link's encryption: the link authenticated the
    /// neighbour, so the packet's source must be the neighbour's address or inside its subnet.
    func receiveDirect(_ frame: UnsafeMutableRawBufferPointer, checksumPartial: Bool, from peer: PublicKey, now: Instant) {
        let packet = UnsafeRawBufferPointer(rebasing: frame[1...])
        guard let h = IPv6Header(raw: packet), isLocal(h.destination) else {
            stats.drop(.overlayMalformed)
            return
        }
        guard ownedAddresses.key(peer, owns: h.source) else {
            stats.drop(.directSpoofed)
            return
        }
        guard vmAdmits(packet, header: h, from: peer, now: now) else { return }
        deliverToTun(NodeOutput.TunPacket(borrowing: packet, checksumPartial: checksumPartial))
    }

    /// An overlay packet: a session message for us, or one to relay.
    func receiveOverlay(_ frame: UnsafeMutableRawBufferPointer, in datagram: UnsafeMutableRawBufferPointer, from peer: PublicKey,
                        now: Instant) {
        guard let header = OverlayPacket.parseHeader(raw: UnsafeRawBufferPointer(frame)) else {
            stats.drop(.overlayMalformed)
            return
        }
        guard isLocal(header.destination) else { return relay(frame, in: datagram, header: header, now: now) }
        receiveSessionMessage(UnsafeMutableRawBufferPointer(rebasing: frame[OverlayPacket.headerLength...]), header: header, from: peer, now: now)
    }
}
