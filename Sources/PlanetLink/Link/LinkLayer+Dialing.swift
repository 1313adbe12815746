import PlanetCore

extension LinkLayer {
    // MARK: Configured peers

    /// Starts keeping a link to `uri` (static config or added at runtime). Idempotent.
    public func addPeer(uri: PeerURI, now: Instant) {
        guard dialers[uri] == nil else { return }
        let dialer = Dialer(uri: uri, now: now)
        dialers[uri] = dialer
        beginResolve(dialer, now: now)
        otherDeadlineDirty = true
    }

    /// Stops dialing `uri`; a link made by it goes down with reason `.removed`.
    public func removePeer(uri: PeerURI, now: Instant) {
        guard let dialer = dialers.removeValue(forKey: uri) else { return }
        // Earlier inits of this dial, kept for a late msg2, must not link a removed peer.
        for index in attemptIndices {
            if case .initiating(let attempt)? = indices[index], attempt.purpose == .dial(uri) { removeAttempt(index) }
        }
        switch dialer.state {
        case .dialing(let index): removeAttempt(index)
        case .linked(let key):
            if let peer = peers[key], peer.uri == uri { tearDown(peer, reason: .removed, now: now) }
        case .resolving, .backoff: break
        }
        otherDeadlineDirty = true
    }

    /// Removes any link to `key` now (admin "disconnect"); configured peers will redial.
    public func disconnect(_ key: PublicKey, now: Instant) {
        if let peer = peers[key] { tearDown(peer, reason: .removed, now: now) }
    }

    /// The runtime's answer to `.resolve(uri)`. An empty list counts as a failed attempt.
    public func resolved(uri: PeerURI, endpoints: [Endpoint], now: Instant) {
        guard let dialer = dialers[uri], dialer.state == .resolving else { return }
        dialer.endpoints = Array(endpoints.prefix(16))
        dialer.cursor = 0
        if dialer.endpoints.isEmpty {
            logger.info("peer address did not resolve", [("uri", uri.description)])
            dialerFailed(dialer, now: now)
        } else {
            dial(dialer, now: now)
        }
    }

    /// IP literals resolve here; names are asked of the runtime.
    func beginResolve(_ dialer: Dialer, now: Instant) {
        dialer.state = .resolving
        dialer.resolveRequestedAt = now
        if let literal = LinkLayer.literalEndpoint(dialer.uri) {
            resolved(uri: dialer.uri, endpoints: [literal], now: now)
        } else {
            events.append(.resolve(dialer.uri))
        }
    }

    static func literalEndpoint(_ uri: PeerURI) -> Endpoint? {
        if uri.hostIsIPv6Literal {
            return IPv6Address(uri.host).map { Endpoint(address: $0, port: uri.port) }
        }
        guard uri.host.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2e }),
              let address = IPv6Address("::ffff:" + uri.host) else { return nil }
        return Endpoint(address: address, port: uri.port)
    }

    func dial(_ dialer: Dialer, now: Instant) {
        guard !dialer.endpoints.isEmpty else { dialerFailed(dialer, now: now); return }
        if let pinned = dialer.uri.pinnedKey, let peer = peers[pinned], peer.isUp {
            dialer.state = .linked(pinned)
            if peer.uri == nil { peer.uri = dialer.uri }
            return
        }
        let endpoint = dialer.endpoints[dialer.cursor % dialer.endpoints.count]
        if let index = startAttempt(.dial(dialer.uri), to: endpoint, expectedPeer: dialer.uri.pinnedKey, attempt: 1, now: now) {
            dialer.state = .dialing(index: index)
        } else {
            dialerFailed(dialer, now: now)
        }
    }

    /// Exponential backoff with jitter: 1 s, 2 s, 4 s … 60 s, each ±20 %.
    func dialerFailed(_ dialer: Dialer, now: Instant) {
        dialer.failures += 1
        dialer.cursor += 1
        let exponent = min(dialer.failures - 1, 16)
        let delay = min(LinkConstants.redialMaximum, LinkConstants.redialInitial * Double(1 << exponent))
        dialer.state = .backoff(until: now.adding(seconds: jitter(delay, fraction: LinkConstants.redialJitter)))
        otherDeadlineDirty = true
    }

    // MARK: Initiations

    /// Sends msg1 and remembers the attempt under a fresh index.
    @discardableResult
    func startAttempt(_ purpose: InitiatorAttempt.Purpose, to endpoint: Endpoint, expectedPeer: PublicKey?,
                      attempt: Int, now: Instant) -> UInt32? {
        guard attemptIndices.count < LinkConstants.maxPendingInitiators else { return nil }
        let index = newIndex()
        let handshake = HandshakeInitiator(local: identity, localIndex: index, expectedPeer: expectedPeer, domain: config.domain,
                                          ciphers: config.ciphers, features: config.features)
        let retryAt = now.adding(seconds: initRetryDelay(purpose, attempt: attempt))
        let state = InitiatorAttempt(handshake: handshake, endpoint: endpoint, purpose: purpose, sentAt: now,
                                     retryAt: retryAt, attempt: attempt)
        indices[index] = .initiating(state)
        attemptIndices.insert(index)
        if case .punch(let key) = purpose {
            punchDials[key, default: []].insert(index)
            stats.punchInitsSent &+= 1
        }
        otherDeadlineDirty = true
        transmit(initDatagram(handshake, to: endpoint, now: now), to: endpoint)
        return index
    }

    /// How long an init waits for msg2 before it is retried. A rekey or restore of a link we
    /// have waits `handshakeRetryAfter`, as it always has. A first contact waits 0.5 s for its
    /// first init, doubling per unanswered init up to `handshakeRetryAfter`, jittered: the peer
    /// is most often just not listening yet (booted a moment after us), and it should not
    /// cost a whole 5 s. A configured peer counts its unanswered inits across dial rounds
    /// (`failures` rounds of `handshakeAttempts` each, reset when a link comes up), so a dead
    /// host is back at the 5 s pace after four inits instead of restarting fast every round.
    func initRetryDelay(_ purpose: InitiatorAttempt.Purpose, attempt: Int) -> Double {
        let unanswered: Int
        switch purpose {
        case .peer: return LinkConstants.handshakeRetryAfter
        case .dial(let uri): unanswered = min(dialers[uri]?.failures ?? 0, 16) * LinkConstants.handshakeAttempts + attempt
        case .beacon, .punch: unanswered = attempt
        }
        let exponent = max(0, min(unanswered - 1, 16))
        let base = min(LinkConstants.handshakeRetryAfter, LinkConstants.firstContactRetryInitial * Double(1 << exponent))
        return min(LinkConstants.handshakeRetryAfter, jitter(base, fraction: LinkConstants.firstContactRetryJitter))
    }

    /// Rekey, or restore a link whose peer went silent, toward the peer's known endpoint.
    func startPeerHandshake(_ peer: LinkPeer, now: Instant) {
        guard peer.handshakeIndex == nil, peer.next == nil else { return }
        if peer.hasStartedHandshake, now.seconds(since: peer.lastHandshakeStart) < LinkConstants.handshakeRetryAfter { return }
        peer.hasStartedHandshake = true
        peer.lastHandshakeStart = now
        peer.handshakeIndex = startAttempt(.peer(peer.key), to: peer.endpoint, expectedPeer: peer.key, attempt: 1, now: now)
    }

    func removeAttempt(_ index: UInt32) {
        guard attemptIndices.remove(index) != nil else { return }
        if case .initiating(let attempt)? = indices[index] {
            indices[index] = nil
            if case .punch(let key) = attempt.purpose { forgetPunchDial(index, key: key) }
        }
    }

    /// A definite failure (pin mismatch, self): no retry.
    func abortAttempt(_ index: UInt32, _ attempt: InitiatorAttempt, now: Instant) {
        removeAttempt(index)
        attemptFailed(attempt, now: now)
    }

    func attemptFailed(_ attempt: InitiatorAttempt, now: Instant) {
        switch attempt.purpose {
        case .dial(let uri):
            if let dialer = dialers[uri] { dialerFailed(dialer, now: now) }
        case .peer(let key):
            peers[key]?.handshakeIndex = nil
        case .beacon(let key):
            beaconDials.remove(key)
        case .punch:
            break // `removeAttempt` already took it out of `punchDials`
        }
    }

    /// An init went unanswered until its `retryAt`: retry with a fresh one, or give up. A
    /// first contact's init stays answerable (superseded) while the retry is in flight: its
    /// peer may be up but slow to answer (still starting), and its msg2 then completes the
    /// link as well as the retry's would.
    func retryOrFail(_ index: UInt32, _ attempt: InitiatorAttempt, now: Instant) {
        var stillWanted = true
        switch attempt.purpose {
        case .dial(let uri): stillWanted = dialers[uri]?.state == .dialing(index: index)
        case .peer(let key): stillWanted = peers[key]?.handshakeIndex == index
        case .beacon(let key): stillWanted = peers[key] == nil
        case .punch(let key): stillWanted = !(peers[key]?.isUp ?? false)
        }
        guard stillWanted else {
            removeAttempt(index)
            if case .beacon(let key) = attempt.purpose { beaconDials.remove(key) }
            return
        }
        guard attempt.attempt < LinkConstants.handshakeAttempts else {
            removeAttempt(index)
            stats.handshakesFailed &+= 1
            attemptFailed(attempt, now: now)
            return
        }
        let newIndex = startAttempt(attempt.purpose, to: attempt.endpoint, expectedPeer: attempt.handshake.expectedPeer,
                                    attempt: attempt.attempt + 1, now: now)
        guard let newIndex else { removeAttempt(index); attemptFailed(attempt, now: now); return }
        switch attempt.purpose {
        case .dial(let uri):
            attempt.superseded = true
            dialers[uri]?.state = .dialing(index: newIndex)
        case .peer(let key):
            removeAttempt(index)
            peers[key]?.handshakeIndex = newIndex
            if let peer = peers[key] { peerTimersChanged(peer) }
        case .beacon, .punch:
            attempt.superseded = true
        }
        otherDeadlineDirty = true
    }

    // MARK: Pending responders

    func dropPending(_ index: UInt32) {
        if case .responding? = indices[index] {
            indices[index] = nil
            pendingCount -= 1
        }
    }

    /// Removes the oldest pending responder still alive.
    func evictOldestPending(count reason: LinkDropReason?) {
        while pendingHead < pendingOrder.count {
            let (index, createdAt) = pendingOrder[pendingHead]
            pendingHead += 1
            if case .responding(let entry)? = indices[index], entry.createdAt == createdAt {
                dropPending(index)
                if let reason { stats.count(reason) }
                break
            }
        }
        compactPendingOrder()
    }

    func compactPendingOrder() {
        if pendingHead > 256, pendingHead * 2 > pendingOrder.count {
            pendingOrder.removeFirst(pendingHead)
            pendingHead = 0
        }
    }
}
