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
        // The peers whose timers are due, not all of them (`PeerTimers`); a sweep over all of
        // them at most once a `sweepInterval` catches a timer a change did not report.
        if deadlineDirty || now.seconds(since: lastSweep) >= LinkLayer.sweepInterval { sweep(now: now) }
        peerScratch.removeAll(keepingCapacity: true)
        peerTimers.takeDue(now: now, isCurrent: { [peers] in peers[$0.key] === $0 }, into: &peerScratch)
        peerTimerVisits += peerScratch.count
        for peer in peerScratch {
            tickPeer(peer, now: now)
            if peers[peer.key] === peer { schedule(peer) }
        }
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
        otherDeadlineDirty = true
    }

    /// How often every peer's timers are scheduled afresh, whatever was reported: a timer
    /// moved earlier by a change that did not call `peerTimersChanged`, or a peer left with
    /// nothing to wait for (not up, no keypair, no handshake), is seen within this. A pass over
    /// 10⁴ peers once a second, against twenty a second before `PeerTimers`.
    static let sweepInterval = 1.0

    /// Schedules every peer from its timers as they are now.
    func sweep(now: Instant) {
        rescheduleAll()
        lastSweep = now
    }

    func rescheduleAll() {
        peerTimers.removeAll()
        for peer in peers.values { schedule(peer) }
        deadlineDirty = false
    }

    /// Puts `peer` in `peerTimers` at its earliest timer (if earlier than its live entry). A
    /// peer with nothing to wait for that `tickPeer` would tear down is due at once.
    func schedule(_ peer: LinkPeer) {
        var d = Instant.never
        peerDeadline(peer, into: &d)
        if d == .never, !peer.isUp, !peer.hasKeypair, peer.handshakeIndex == nil { d = .zero }
        peerTimers.schedule(peer, at: d)
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

    /// When `tick` next has something to do: the earliest peer timer (`PeerTimers`), the next
    /// sweep, and the other timers (responders, attempts, dialers: few, whatever the number of
    /// links, recomputed only when one changed, `otherDeadlineDirty`).
    /// On the `LinkConstants.timerSlack` grid (rounded up): with thousands of links their
    /// timers then share a tick instead of each costing one.
    public var nextDeadline: Instant {
        if otherDeadlineDirty {
            otherDeadline = computeOtherDeadline()
            otherDeadlineDirty = false
        }
        if deadlineDirty { rescheduleAll() }
        let peersDue = peerTimers.earliest(isCurrent: { [peers] in peers[$0.key] === $0 })
        let sweepDue = peers.isEmpty ? Instant.never : lastSweep.adding(seconds: LinkLayer.sweepInterval)
        return LinkLayer.onSlackGrid(min(peersDue, sweepDue, otherDeadline))
    }

    /// One peer's timers changed (a handshake step, a rekey, its link coming up, a frame sent
    /// that awaits an answer): it is scheduled again from them alone (and the other timers
    /// may have changed with it).
    func peerTimersChanged(_ peer: LinkPeer) {
        otherDeadlineDirty = true
        schedule(peer)
    }

    static func onSlackGrid(_ d: Instant) -> Instant {
        guard d != .never else { return d }
        let grid = UInt64(LinkConstants.timerSlack * 1e9)
        let (q, r) = d.nanoseconds.quotientAndRemainder(dividingBy: grid)
        return r == 0 ? d : Instant(nanoseconds: (q + 1) * grid)
    }

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

    /// Every timer's earliest, by a pass over all peers: what `nextDeadline` must never be
    /// later than (tests check it; the layer itself never needs the pass).
    func computeDeadline() -> Instant {
        var d = computeOtherDeadline()
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
