import PlanetCore
import PlanetLink

/// The event pump: what the link layer reports (links up and down, round-trip times, names to
/// resolve, frames handed up) goes where it belongs, and what the neighbour protocols want to
/// say goes through the per-neighbour pacer to the links. Datagrams are not events: the link
/// layer writes them into `transmits` as it goes.
extension Node {
    /// The data path's pump: a packet in usually yields only datagrams out (already in
    /// `transmits`), which never give a neighbour protocol anything to say, so the protocols
    /// aren't asked (asking allocates). Any event — a link going up or down, a round-trip time —
    /// gets the full pump, and so does a neighbour protocol's frame (what it received may call
    /// for an answer: a stub's origin query, a route request) and a stub's new origin query:
    /// either would otherwise wait for the node's next timer (up to a keepalive interval on a
    /// quiet node: the query retried, the stub's first packet ~1–2 s late; found with
    /// Tools/loadgen).
    func pumpData(now: Instant) {
        if links.hasEvents || protocolOutputPending {
            protocolOutputPending = false
            pump(now: now)
        }
    }

    /// Moves events between the link layer and the neighbour protocols until neither has
    /// anything left.
    func pump(now: Instant) {
        var rounds = 0
        while rounds < 64 {
            rounds += 1
            var progressed = false
            if router.hasResolutions { progressed = true; stubResolutions(now: now) }
            links.drainEvents(into: &eventBuffer)
            for event in eventBuffer {
                progressed = true
                handle(event, now: now)
            }
            eventBuffer.removeAll(keepingCapacity: true)
            for p in neighbourProtocols.all {
                p.drainOutgoing { to, body in
                    progressed = true
                    var frame = [UInt8]()
                    frame.reserveCapacity(body.count + 1)
                    frame.append(p.frameType)
                    frame.append(contentsOf: body)
                    pacer.enqueue(frame, to: to, lane: p.pacingLane, now: now)
                }
            }
            // What the neighbours' allowance lets go now; the next round drains its datagrams.
            if pacer.hasQueued(),
               pacer.release(now: now, { to, frame in _ = links.send(frame: frame, to: to, now: now) }) > 0 {
                progressed = true
            }
            if !progressed { break }
        }
    }

    func handle(_ event: LinkEvent, now: Instant) {
        switch event {
        case .frame(let frame, let peer):
            receiveFrame(copying: frame, from: peer, now: now)
        case .linkUp(let peer, _, _):
            for p in neighbourProtocols.all { p.neighbourUp(peer, now: now) }
            routeCache.clear()
            stubUpstreamsChanged(now: now)
        case .linkDown(let peer, _):
            pacer.forget(peer)
            for p in neighbourProtocols.all { p.neighbourDown(peer, now: now) }
            routeCache.clear()
            stubUpstreamsChanged(now: now)
        case .rtt(let peer, let seconds):
            for p in neighbourProtocols.all { p.neighbourRTT(peer, seconds: seconds, now: now) }
            routeCache.clear()
        case .resolve(let uri):
            output.resolve.append(uri)
        case .discovered(let peer, let endpoint):
            logger.debug("beacon heard", [("peer", peer.short), ("endpoint", endpoint.description)])
        }
    }

    /// Frames the pacer refused for lack of queue room, by protocol (`<name>-queue-full`).
    var pacerDrops: [(String, UInt64)] {
        neighbourProtocols.all.compactMap { p in
            guard let n = pacer.refused[p.pacingLane], n > 0 else { return nil }
            return ("\(p.name)-queue-full", n)
        }
    }
}
