import PlanetCore

/// What the link layer does for NAT traversal: it tells each peer where it sees it (inner frame
/// 0x03), so a node learns its public endpoints, and it runs hole-punching handshakes toward
/// endpoints the layer above got from a peer (Docs/protocol.md, "Observed endpoints" and "Hole
/// punching"). Deciding *when* to punch and *where* is the node's (PlanetNode `Punching`).
extension LinkLayer {
    // MARK: Observed endpoints

    /// Where each up peer says it sees us, by peer. A node behind NAT finds its public
    /// endpoint(s) here; the same address and port from every peer means an
    /// endpoint-independent mapping, differing ports a symmetric one.
    public var observedEndpoints: [(peer: PublicKey, endpoint: Endpoint)] {
        peers.values.filter(\.isUp).sorted { $0.key < $1.key }.compactMap { p in p.observedSelf.map { (p.key, $0) } }
    }

    /// Tells the peer the endpoint its authenticated packets come from.
    func sendObservedEndpoint(_ peer: LinkPeer, now: Instant) {
        peer.lastObservedSent = now
        peerTimersChanged(peer)
        var frame: [UInt8] = [LinkInnerFrameType.observedEndpoint.rawValue]
        frame.reserveCapacity(1 + Endpoint.wireLength)
        peer.endpoint.appendWire(to: &frame)
        sendInner(frame, peer: peer, now: now)
    }

    func receiveObservedEndpoint(_ inner: UnsafeRawBufferPointer, peer: LinkPeer) {
        guard inner.count == 1 + Endpoint.wireLength, let seen = Endpoint(wire: inner[1...]), seen.port != 0,
              seen.address != IPv6Address(high: 0, low: 0) else {
            stats.count(.malformedInnerFrame)
            return
        }
        if peer.observedSelf != seen {
            logger.info("peer sees us at", [("peer", peer.key.short), ("endpoint", seen.description)])
            peer.observedSelf = seen
        }
    }

    // MARK: Hole punching

    /// Starts handshakes toward `candidates`, each pinned to `key`, unless a link with `key` is
    /// already up or punching toward it is under way. Each candidate gets the first-contact
    /// retry schedule (4 inits over ~8 s): both sides probe at once, and the first inits
    /// mostly die in the other side's NAT until its own probe has opened the mapping. The first
    /// one answered makes an ordinary link, marked punched; a candidate that is someone else
    /// fails the pin and is given up. Returns how many candidates are probed.
    @discardableResult
    public func punch(_ key: PublicKey, candidates: [Endpoint], now: Instant) -> Int {
        guard key != identity.publicKey, !(peers[key]?.isUp ?? false), punchDials[key] == nil,
              punchDials.count < LinkConstants.maxConcurrentPunches, isAllowedInbound(key) else { return 0 }
        var seen = Set<Endpoint>()
        var started = 0
        for candidate in candidates where started < LinkConstants.maxPunchCandidates {
            let endpoint = Endpoint(address: candidate.address, port: candidate.port)
            guard endpoint.port != 0, seen.insert(endpoint).inserted else { continue }
            if startAttempt(.punch(key), to: endpoint, expectedPeer: key, attempt: 1, now: now) != nil { started += 1 }
        }
        return started
    }

    /// Links made by punching that exist now.
    public var punchedLinkCount: Int { punchedPeers.count }

    /// Whether punching toward `key` still has inits in flight.
    public func isPunching(_ key: PublicKey) -> Bool { punchDials[key] != nil }

    /// Whether the link with `key` was made by punching.
    public func isPunched(_ key: PublicKey) -> Bool { peers[key]?.punched ?? false }

    /// Up links made by punching that have carried no data-plane frame for `seconds` (and are
    /// at least that old): the session that wanted them has gone quiet.
    public func idlePunchedLinks(longerThan seconds: Double, now: Instant) -> [PublicKey] {
        peers.values.filter {
            $0.isUp && $0.punched && now.seconds(since: max($0.lastDataFrameAt, $0.upSince)) >= seconds
        }.map(\.key).sorted()
    }

    func forgetPunchDial(_ index: UInt32, key: PublicKey) {
        punchDials[key]?.remove(index)
        if punchDials[key]?.isEmpty ?? false { punchDials[key] = nil }
    }

    func markPunched(_ peer: LinkPeer) {
        guard !peer.punched else { return }
        peer.punched = true
        punchedPeers.insert(peer.key)
        stats.punchedLinks &+= 1
    }
}

extension LinkLayer {
    /// Stops punching toward `key` (its session ended): its inits in flight are forgotten.
    public func cancelPunch(_ key: PublicKey) {
        for index in punchDials[key] ?? [] { removeAttempt(index) }
        punchDials[key] = nil
        otherDeadlineDirty = true
    }
}
