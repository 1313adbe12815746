import PlanetCore

extension LinkLayer {
    /// Runs every timer that is due. Call at `nextDeadline` (earlier is harmless).
    public func tick(now: Instant) {
        // Nothing is due before the deadline (which covers every timer below): the node ticks
        // for its other parts' timers too (routing, capacity gossip, the pacer), and on a hub
        // each pass here visits 10⁴ peers.
        guard now >= nextDeadline else { return }
        expirePendingResponders(now: now)
        for index in attemptIndices {
            guard case .initiating(let attempt)? = indices[index] else { attemptIndices.remove(index); continue }
            if attempt.superseded {
                if now.seconds(since: attempt.sentAt) >= LinkConstants.handshakeRetryAfter { removeAttempt(index) }
            } else if now >= attempt.retryAt {
                retryOrFail(index, attempt, now: now)
            }
        }
        // A copy of the references: `tickPeer` may tear a peer down (and remove it from `peers`).
        peerScratch.removeAll(keepingCapacity: true)
        peerScratch.append(contentsOf: peers.values)
        for peer in peerScratch { tickPeer(peer, now: now) }
        peerScratch.removeAll(keepingCapacity: true)
        for dialer in Array(dialers.values) {
            switch dialer.state {
            case .backoff(let until) where until <= now:
                beginResolve(dialer, now: now)
            case .resolving where now.seconds(since: dialer.resolveRequestedAt) >= LinkConstants.resolveTimeout:
                dialerFailed(dialer, now: now)
            case .linked(let key) where peers[key] == nil:
                dialerFailed(dialer, now: now)
            default:
                break
            }
        }
        deadlineDirty = true
    }

    func expirePendingResponders(now: Instant) {
        while pendingHead < pendingOrder.count {
            let (index, createdAt) = pendingOrder[pendingHead]
            guard now.seconds(since: createdAt) >= LinkConstants.pendingResponderTimeout else { break }
            pendingHead += 1
            if case .responding(let entry)? = indices[index], entry.createdAt == createdAt { dropPending(index) }
        }
        if pendingHead == pendingOrder.count {
            pendingOrder.removeAll(keepingCapacity: true)
            pendingHead = 0
        }
        compactPendingOrder()
    }

    func tickPeer(_ peer: LinkPeer, now: Instant) {
        // Keys past their lifetime are forgotten in both directions.
        if let kp = peer.previous, kp.isExpired(at: now) { removeIndex(of: kp); peer.previous = nil }
        if let kp = peer.current, kp.isExpired(at: now) { removeIndex(of: kp); peer.current = nil }
        // An unconfirmed keypair this old means msg3 (or the confirmation) was lost: start over.
        if let kp = peer.next, kp.age(at: now) >= LinkConstants.handshakeRetryAfter {
            removeIndex(of: kp)
            peer.next = nil
            if !peer.isUp {
                tearDown(peer, reason: .timeout, now: now)
                return
            }
            startPeerHandshake(peer, now: now)
        }
        guard peer.isUp else {
            if !peer.hasKeypair, peer.handshakeIndex == nil { tearDown(peer, reason: .timeout, now: now) }
            return
        }
        if now.seconds(since: peer.lastReceived) >= LinkConstants.deadPeerTimeout {
            tearDown(peer, reason: .timeout, now: now)
            return
        }
        if let since = peer.upperSentUnansweredSince, now.seconds(since: since) >= LinkConstants.unansweredProbeAfter {
            if now.seconds(since: since) >= LinkConstants.unansweredDeadAfter {
                logger.info("peer silent while we send, taking the link down", [("peer", peer.key.short)])
                tearDown(peer, reason: .timeout, now: now)
                return
            }
            if now.seconds(since: peer.lastProbeAt) >= LinkConstants.probeInterval {
                peer.lastProbeAt = now
                sendPing(peer, now: now)
            }
        }
        if let kp = peer.current {
            let due = kp.isInitiator ? LinkConstants.rekeyAfterTime : LinkConstants.rekeyAfterTimeResponder
            if kp.age(at: now) >= due || (kp.isInitiator && kp.wantsRekeyByCount) { startPeerHandshake(peer, now: now) }
        } else {
            startPeerHandshake(peer, now: now)
        }
        // Only the side that wants the link (it dialed) restores it; an inbound-only peer that
        // went quiet is left to time out, so removing a peer on one side is not undone here.
        if peer.wantsRestore, let since = peer.sendingUnansweredSince,
           now.seconds(since: since) >= LinkConstants.silenceBeforeRehandshake {
            startPeerHandshake(peer, now: now)
        }
        if now >= peer.nextPingAt { sendPing(peer, now: now) }
        if now.seconds(since: peer.lastObservedSent) >= LinkConstants.observedEndpointRefresh {
            sendObservedEndpoint(peer, now: now)
        }
        if now.seconds(since: peer.lastSent) >= LinkConstants.keepaliveInterval {
            sendInner([LinkInnerFrameType.keepalive.rawValue], peer: peer, now: now)
        }
    }

    func sendPing(_ peer: LinkPeer, now: Instant) {
        let id = rng.next()
        var frame: [UInt8] = [LinkInnerFrameType.ping.rawValue]
        BigEndian.append(id, to: &frame)
        peer.outstandingPing = (id, now)
        peer.nextPingAt = now.adding(seconds: jitter(LinkConstants.pingInterval, fraction: 0.1))
        sendInner(frame, peer: peer, now: now)
    }

    /// When `tick` next has something to do.
    /// On the `LinkConstants.timerSlack` grid (rounded up): with thousands of links their
    /// timers then share a pass over the peers instead of each costing one.
    ///
    /// Recomputed in full (a pass over the peers) only after a tick or a change that may touch
    /// several peers (`deadlineDirty`). A change to one peer's timers (a handshake step, a
    /// rekey, its link coming up, a frame sent that awaits an answer) goes through
    /// `peerTimersChanged`, which lowers the peers' bound by that peer's deadline alone: on a
    /// hub with 10⁴ links, rekeys alone are ~80 handshakes a second, each of several steps, and
    /// a full pass after each cost a sixth of a core (Docs/scale.md, "A public hub"). The bound
    /// may stay earlier than needed (a deadline that moved later), which only fires a tick early.
    public var nextDeadline: Instant {
        if deadlineDirty {
            peersDeadline = computePeersDeadline()
            cachedDeadline = LinkLayer.onSlackGrid(min(peersDeadline, computeOtherDeadline()))
            deadlineDirty = false
            otherDeadlineDirty = false
        } else if otherDeadlineDirty {
            cachedDeadline = LinkLayer.onSlackGrid(min(peersDeadline, computeOtherDeadline()))
            otherDeadlineDirty = false
        }
        return cachedDeadline
    }

    /// One peer's timers changed (and perhaps the handshake attempts'): see `nextDeadline`.
    func peerTimersChanged(_ peer: LinkPeer) {
        otherDeadlineDirty = true
        guard !deadlineDirty else { return }
        var d = Instant.never
        peerDeadline(peer, into: &d)
        peersDeadline = min(peersDeadline, d)
    }

    static func onSlackGrid(_ d: Instant) -> Instant {
        guard d != .never else { return d }
        let grid = UInt64(LinkConstants.timerSlack * 1e9)
        let (q, r) = d.nanoseconds.quotientAndRemainder(dividingBy: grid)
        return r == 0 ? d : Instant(nanoseconds: (q + 1) * grid)
    }

    func computeDeadline() -> Instant { min(computePeersDeadline(), computeOtherDeadline()) }

    /// Pending responders, handshake attempts and dialers: few, whatever the number of links.
    func computeOtherDeadline() -> Instant {
        var d = Instant.never
        func at(_ t: Instant, _ seconds: Double) { d = min(d, t.adding(seconds: seconds)) }
        if pendingHead < pendingOrder.count { at(pendingOrder[pendingHead].createdAt, LinkConstants.pendingResponderTimeout) }
        for index in attemptIndices {
            if case .initiating(let attempt)? = indices[index] {
                d = min(d, attempt.superseded ? attempt.sentAt.adding(seconds: LinkConstants.handshakeRetryAfter) : attempt.retryAt)
            }
        }
        for dialer in dialers.values {
            switch dialer.state {
            case .backoff(let until): d = min(d, until)
            case .resolving: at(dialer.resolveRequestedAt, LinkConstants.resolveTimeout)
            default: break
            }
        }
        return d
    }

    func computePeersDeadline() -> Instant {
        var d = Instant.never
        for peer in peers.values { peerDeadline(peer, into: &d) }
        return d
    }

    /// Lowers `d` to `peer`'s earliest timer.
    func peerDeadline(_ peer: LinkPeer, into d: inout Instant) {
        func at(_ t: Instant, _ seconds: Double) { d = min(d, t.adding(seconds: seconds)) }
        do {
            // The three slots read in place: `keypairs` would build an array per peer per pass.
            if let kp = peer.current { at(kp.createdAt, LinkConstants.rejectAfterTime) }
            if let kp = peer.previous { at(kp.createdAt, LinkConstants.rejectAfterTime) }
            if let kp = peer.next { at(kp.createdAt, LinkConstants.rejectAfterTime) }
            if let kp = peer.next { at(kp.createdAt, LinkConstants.handshakeRetryAfter) }
            guard peer.isUp else { return }
            at(peer.lastReceived, LinkConstants.deadPeerTimeout)
            if let since = peer.upperSentUnansweredSince {
                // Next probe: once probing has started, and a probe interval after the last one.
                d = min(d, max(since.adding(seconds: LinkConstants.unansweredProbeAfter),
                               peer.lastProbeAt.adding(seconds: LinkConstants.probeInterval)))
                at(since, LinkConstants.unansweredDeadAfter)
            }
            d = min(d, peer.nextPingAt)
            at(peer.lastObservedSent, LinkConstants.observedEndpointRefresh)
            at(peer.lastSent, LinkConstants.keepaliveInterval)
            let retryFloor = peer.hasStartedHandshake ? peer.lastHandshakeStart.adding(seconds: LinkConstants.handshakeRetryAfter) : .zero
            if peer.handshakeIndex == nil, peer.next == nil {
                if let kp = peer.current {
                    let due = kp.isInitiator ? LinkConstants.rekeyAfterTime : LinkConstants.rekeyAfterTimeResponder
                    d = min(d, max(kp.createdAt.adding(seconds: due), retryFloor))
                }
                if peer.wantsRestore, let since = peer.sendingUnansweredSince {
                    d = min(d, max(since.adding(seconds: LinkConstants.silenceBeforeRehandshake), retryFloor))
                }
            }
        }
    }
}
