import PlanetCore
import PlanetLink

/// A stub node's data path (PlanetRouting's Router+Stub.swift; Docs/protocol.md, "Stub
/// nodes"). The router holds no table, so a packet to an address it has not resolved waits
/// here (bounded like packets waiting for a session) while the router asks the upstream who
/// owns it; the answer sends the packets on, or answers their sender "no route" as any
/// unreachable destination is answered. The node also tells the router which neighbours are
/// its configured peers, in the operator's order: the first one up is the upstream.
extension Node {
    /// Holds a packet of ours until its destination's origin is resolved; false if it cannot
    /// wait (not an overlay address, ours), and the caller answers it as unroutable.
    func waitForOrigin(_ packet: UnsafeRawBufferPointer, checksumPartial: Bool, header h: IPv6Header, now: Instant) -> Bool {
        guard OverlayAddress.isOverlay(h.destination), !isLocal(h.destination) else { return false }
        var queued = Array(packet)
        if checksumPartial { queued.withUnsafeMutableBytes { _ = InternetChecksum.completePartial($0) } }
        let dropped = waitingForOrigin.enqueue(queued, for: OverlayAddress.lookupTag(for: h.destination), now: now)
        if dropped > 0 { stats.drop(.pendingOverflow, count: dropped) }
        router.resolve(h.destination, now: now)
        // The query leaves with this packet's pump, not at the next timer.
        protocolOutputPending = true
        // No upstream, a full query table: the answer is already there.
        if router.hasResolutions { stubResolutions(now: now) }
        return true
    }

    /// What the router's queries came to: waiting packets go on, or get "no route".
    func stubResolutions(now: Instant) {
        routeCache.clear()
        for r in router.drainResolutions() {
            switch r {
            case .resolved(let address, _):
                for packet in waitingForOrigin.take(for: OverlayAddress.lookupTag(for: address)) {
                    guard let h = IPv6Header(packet) else { continue }
                    packet.withUnsafeBytes { route($0, checksumPartial: false, header: h, now: now, mayWait: false) }
                }
            case .unresolved(let address):
                for packet in waitingForOrigin.take(for: OverlayAddress.lookupTag(for: address)) {
                    stats.drop(.noRoute)
                    sendICMP(.noRoute, from: self.address, about: packet, now: now)
                }
            }
        }
    }

    /// Packets that waited `pendingTimeout` for an answer (the router gave up sooner, after its
    /// retries, unless the answers were lost) are answered as unreachable.
    func stubTimers(now: Instant) {
        guard router.isStub else { return }
        for (_, packet) in waitingForOrigin.expire(queuedAtOrBefore: now.adding(seconds: -Node.pendingTimeout)) {
            stats.drop(.pendingTimeout)
            sendICMP(.addressUnreachable, from: address, about: packet, now: now)
        }
    }

    /// A neighbour just said it is a stub: the routing dump (and capacity summary) our first
    /// drain queued for it (before its hello arrived) goes no further; only what already left reaches it (at most
    /// the pacer's burst, 256 KiB, plus what one round trip lets through).
    func cancelDumpsToStubs() {
        for key in router.takeNewStubNeighbours() {
            // The capacity summary of the link's first drain too: a stub takes no summaries.
            let dropped = pacer.drop(lane: RoutingNeighbour.lane, for: key) + pacer.drop(lane: capacity.pacingLane, for: key)
            if dropped > 0 { stats.stubDumpFramesCancelled += UInt64(dropped) }
        }
    }

    /// The configured peers that are up, in the config's order (then those added at run
    /// time): the router's choice of upstream, the next when the first goes down.
    func stubUpstreamsChanged(now: Instant) {
        guard router.isStub else { return }
        let rows = links.snapshot(now: now).filter { $0.state == .up && $0.uri != nil && $0.publicKey != nil }
        var keys: [PublicKey] = []
        for uri in config.peers {
            for row in rows where row.uri == uri { keys.append(row.publicKey!) }
        }
        for row in rows.sorted(by: { $0.uri!.description < $1.uri!.description }) where !keys.contains(row.publicKey!) {
            keys.append(row.publicKey!)
        }
        router.setUpstreamPreference(keys, now: now)
    }
}
