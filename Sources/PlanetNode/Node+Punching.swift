import PlanetCore
import PlanetAdmin
import PlanetLink

/// Hole punching wired into the node: when a session carries traffic over a relay, the two
/// ends trade candidate endpoints inside it (control message 0x01) and both probe them at
/// once with link handshakes pinned to the other's key (`LinkLayer.punch`). A probe that is
/// answered makes an ordinary link; routing then prefers the direct neighbour and traffic moves
/// over (the session does not care which path it takes). Docs/protocol.md, "Hole punching".
extension Node {
    /// The runtime's interface addresses, each with the port the node listens on: the `local`
    /// candidates, which find a peer behind the same NAT.
    public func setLocalEndpoints(_ endpoints: [Endpoint]) {
        punching.localEndpoints = Array(endpoints.prefix(EndpointCandidates.maxCount))
    }

    public var localEndpoints: [Endpoint] { punching.localEndpoints }
    public var punchStats: PunchStats { punching.stats }

    /// What we offer: where links see us (distinct, first), then our interface addresses.
    func candidates() -> EndpointCandidates {
        var out: [EndpointCandidates.Candidate] = []
        var seen = Set<Endpoint>()
        for (_, e) in links.observedEndpoints where seen.insert(e).inserted {
            out.append(.init(kind: .observed, endpoint: e))
        }
        for e in punching.localEndpoints where seen.insert(Endpoint(address: e.address, port: e.port)).inserted {
            out.append(.init(kind: .local, endpoint: Endpoint(address: e.address, port: e.port)))
        }
        return EndpointCandidates(out)
    }

    /// Runs from `tick` once a second while sessions exist: offers candidates to session peers
    /// that carry traffic over a relay, notices probe runs that ended, and forgets peers whose
    /// session has gone (stopping their probes).
    func punchTimers(now: Instant) {
        guard now.seconds(since: punching.lastCheck) >= Punching.checkInterval else { return }
        punching.lastCheck = now
        for (peer, state) in punching.peers {
            guard let session = sessions.session(peer), session.isEstablished else {
                punching.forget(peer)
                links.cancelPunch(peer)
                continue
            }
            if state.probingSince != nil {
                if links.isUp(peer) {
                    punching.probeEnded(toward: peer, linked: true, now: now)
                } else if !links.isPunching(peer) {
                    punching.probeEnded(toward: peer, linked: false, now: now)
                }
            }
        }
        for key in links.idlePunchedLinks(longerThan: Punching.idleLinkTimeout, now: now) {
            logger.info("retiring idle punched link", [("peer", key.short)])
            punching.stats.retired += 1
            links.disconnect(key, now: now)
        }
        guard punching.enabled else { return }
        for session in sessions.all where session.isEstablished && !links.isUp(session.peer) {
            guard session.lastDataAt > .zero, now.seconds(since: session.lastDataAt) <= Punching.activeWindow,
                  let route = routeCache.route(for: session.peer.address, router: router),
                  route.nextHop != session.peer else { continue }
            guard links.punchedLinkCount < punching.punchedLinkLimit else {
                if punching.shouldOffer(to: session.peer, now: now) { punching.deferOffer(to: session.peer, now: now) }
                continue
            }
            let offer = candidates()
            guard !offer.candidates.isEmpty, punching.shouldOffer(to: session.peer, now: now),
                  sendControl(.endpoints, body: offer.encode(), to: session.peer, now: now) else { continue }
            punching.offered(to: session.peer, now: now)
            logger.debug("offered endpoints", [("peer", session.peer.short), ("count", "\(offer.candidates.count)")])
        }
    }

    /// When `punchTimers` next wants to run.
    var punchDeadline: Instant {
        sessions.count > 0 ? punching.lastCheck.adding(seconds: Punching.checkInterval) : .never
    }

    /// A peer's offer: probe its candidates (pinned to its key, so a wrong one yields nothing),
    /// and answer with ours so it probes toward us at the same time.
    func receiveCandidates(_ body: ArraySlice<UInt8>, from peer: PublicKey, now: Instant) {
        guard let offer = EndpointCandidates.decode(body) else {
            punching.stats.offersReceived += 1
            punching.stats.refusedMalformed += 1
            return
        }
        if links.isUp(peer) { punching.stats.offersReceived += 1; return }
        let probeable = offer.candidates.map(\.endpoint).filter(EndpointCandidates.isProbeable)
        punching.stats.candidatesRefused += UInt64(offer.candidates.count - probeable.count)
        guard !probeable.isEmpty else { punching.stats.offersReceived += 1; return }
        guard links.punchedLinkCount < punching.punchedLinkLimit else {
            punching.stats.offersReceived += 1
            punching.stats.refusedLinkLimit += 1
            return
        }
        let (probe, answer) = punching.receivedOffer(from: peer, now: now)
        guard probe else { return }
        if answer {
            let ours = candidates()
            if !ours.candidates.isEmpty { sendControl(.endpoints, body: ours.encode(), to: peer, now: now) }
        }
        let started = links.punch(peer, candidates: probeable, now: now)
        punching.probesStarted(toward: peer, count: started)
        logger.info("punching", [("peer", peer.short), ("candidates", offer.candidates.map(\.endpoint.description).joined(separator: ",")),
                                 ("probes", "\(started)")])
        pump(now: now)
    }

    /// How this node's public endpoints look from its links (`planetctl self`).
    public var natMapping: NATMapping {
        NATMapping(observed: links.observedEndpoints.map(\.endpoint), local: punching.localEndpoints)
    }
}

/// Receives control messages of type 0x01 (endpoints) for the node.
final class EndpointsControlHandler: SessionControlHandler {
    unowned let node: Node
    init(node: Node) { self.node = node }
    var controlType: SessionControlType { .endpoints }
    func receive(_ body: ArraySlice<UInt8>, from peer: PublicKey, now: Instant) {
        node.receiveCandidates(body, from: peer, now: now)
    }
}

/// The admin API's NAT fields (Docs/cli.md), kept here so NodeAdmin.swift only places them.
extension Node {
    func natSelf() -> (publicEndpoints: [String], natMapping: String, localEndpoints: [String], punching: Bool) {
        var observed: [Endpoint] = []
        for (_, e) in links.observedEndpoints where !observed.contains(e) { observed.append(e) }
        return (observed.map(\.description), natMapping.rawValue, punching.localEndpoints.map(\.description), punching.enabled)
    }

    /// Whether the session's traffic goes over a direct link with its peer or through a relay,
    /// and which neighbour carries it.
    func sessionPath(_ peer: PublicKey) -> (path: String, nextHop: String?) {
        guard let route = router.route(forAddress: peer.address) else { return ("no-route", nil) }
        let direct = route.nextHop == peer && links.isUp(peer)
        return (direct ? (links.isPunched(peer) ? "direct-punched" : "direct") : "relayed", route.nextHop.hex)
    }

    func punchCounters() -> Counters {
        let p = punching.stats, l = links.stats
        return Counters([
            ("offersSent", p.offersSent), ("offersReceived", p.offersReceived),
            ("refusedMalformed", p.refusedMalformed), ("refusedDisabled", p.refusedDisabled),
            ("refusedBusy", p.refusedBusy), ("refusedRateLimited", p.refusedRateLimited), ("refusedLinkLimit", p.refusedLinkLimit),
            ("attempts", p.attempts), ("candidatesProbed", p.candidatesProbed), ("candidatesRefused", p.candidatesRefused),
            ("initsSent", l.punchInitsSent),
            ("succeeded", p.succeeded), ("failed", p.failed), ("stopped", p.stopped), ("retired", p.retired),
            ("punchedLinks", l.punchedLinks),
        ])
    }
}
