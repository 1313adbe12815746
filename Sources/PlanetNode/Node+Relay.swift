import PlanetCore
import PlanetLink

/// Relaying: an overlay packet for someone else, forwarded toward its destination.
extension Node {
    /// The hop limit is decremented (a packet that would reach 0 is dropped and, if it carries
    /// data, reported to its source); the route is looked up once; then the frame is sealed again
    /// for the next link. A session's data and control messages are end-to-end ciphertext past
    /// their 13-byte header, so the link hides only the headers and authenticates the rest
    /// (Docs/protocol.md, "sealed payload"), in the receive buffer itself: no copy, no allocation.
    /// Handshakes and error reports are sealed by the link in full, from a copy.
    func relay(_ frame: UnsafeMutableRawBufferPointer, in datagram: UnsafeMutableRawBufferPointer, header: OverlayPacket.Header,
               now: Instant) {
        let messageType = frame[OverlayPacket.headerLength]
        guard header.hopLimit > 1 else {
            stats.drop(.hopLimit)
            if SessionMessageType.isData(messageType) { sendReport(.hopLimitExceeded, about: frame, header: header, now: now) }
            return
        }
        guard let route = routeCache.route(for: header.destination, router: router) else {
            stats.drop(.noRoute)
            if SessionMessageType.isData(messageType) { sendReport(.noRoute, about: frame, header: header, now: now) }
            return
        }
        // The overlay's MTU on a path is the smallest of its nodes' `tun.mtu`: a node set lower
        // (its underlay carries less) forwards no larger packet and tells the source, whose
        // kernel then sends smaller ones (path MTU discovery across the overlay).
        if SessionMessageType.isData(messageType), frame.count - OverlayPacket.headerLength - Keypair.overhead > config.tun.mtu {
            stats.drop(.pathTooBig)
            sendReport(.packetTooBig, mtu: UInt32(config.tun.mtu), about: frame, header: header, now: now)
            return
        }
        frame[1] = header.hopLimit - 1
        stats.forwardedPackets += 1
        stats.forwardedBytes += UInt64(frame.count)
        // Sealed end to end: sealed again where it lies and queued from the receive slot.
        let sent = SessionMessageType.isSealedEndToEnd(messageType)
            ? links.forward(inPlace: datagram, frameLength: frame.count, to: route.nextHop, now: now)
            : links.send(frame: UnsafeRawBufferPointer(frame), to: route.nextHop, now: now)
        if !sent { stats.drop(.linkDown) }
    }

    /// Sends a signed error report back to the source of an overlay packet, quoting the start of
    /// its (still sealed) session message.
    func sendReport(_ kind: ErrorReport.Kind, mtu: UInt32 = 0, about frame: UnsafeMutableRawBufferPointer, header: OverlayPacket.Header,
                    now: Instant) {
        guard reportLimiter.take(now: now) else { stats.drop(.icmpRateLimited); return }
        let quoted = Array(UnsafeRawBufferPointer(rebasing: frame[OverlayPacket.headerLength...]))
        let report = ErrorReport.make(kind: kind, mtu: mtu, reporter: identity, invoking: quoted[...])
        sendOverlay(message: report, hopLimit: OverlayPacket.defaultHopLimit, to: header.source, now: now)
    }
}
