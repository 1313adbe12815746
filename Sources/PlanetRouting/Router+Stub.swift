import PlanetCore

// Stub nodes (Docs/protocol.md, routing, "Stub nodes"). A node with one upstream need not
// hold the network's table: it originates its own route so everyone reaches it, sends
// everything else to its upstream, and when it opens a session to an address it asks the
// upstream who owns it (`originQuery`); the answer is the origin's signed (key, seqno, flags),
// which the stub checks itself, so the upstream can withhold an origin but never forge one.
// Links it has (configured peers, hole-punched or discovered neighbours) are routes to those
// neighbours, one hop away: the link layer authenticated their keys.
//
// Both roles live here. The stub's (`config.stub`): no routes accepted, the hello at link up
// and with each periodic refresh of its own route, queries and their answers. The upstream's
// (every router): a neighbour that sent the hello gets no dumps, summaries or triggered
// updates, only answers; its own route is accepted as any neighbour's, anyone else's it
// might send is refused; its queries are answered within a rate.

extension Router {
    // MARK: - Upstream side

    /// A neighbour said it is a stub: from now on it gets nothing but answers.
    func markStub(_ key: PublicKey, now: Instant) {
        guard var n = neighbours[key], !n.isStub else { return }
        n.isStub = true
        n.wantsFullDump = false
        n.wantsPeriodicDump = false
        n.wantsSummary = false
        n.reconciles = false
        n.owed = []
        n.retractPrefixes = []
        n.listBuckets = [0, 0, 0, 0]
        neighbours[key] = n
        routerNeighbours.remove(key)
        newStubNeighbours.append(key)
        // Anything but its own route it may have sent before the hello goes.
        for i in entries.indices where entries[i].live && origins.key(entries[i].origin) != key
            && routeIndex(i, slot: n.slot) != nil {
            removeRoute(Int32(i), slot: n.slot)
            reselect(Int32(i), now: now)
        }
        logger.debug("routing neighbour is a stub", [("peer", key.short)])
    }

    /// Whether a route for `origin` from neighbour `key` is refused: a stub relays nothing.
    func refusedFromStub(_ key: PublicKey, origin: PublicKey) -> Bool {
        guard origin != key, neighbours[key]?.isStub == true else { return false }
        stats.drops.count(.stubRelay)
        return true
    }

    /// Who owns `address`, as we hold it signed: our own origin, or the selected route's.
    func handleOriginQuery(_ key: PublicKey, address: IPv6Address, now: Instant) {
        guard var n = neighbours[key] else { return }
        if n.queryBudget == nil {
            n.queryBudget = TokenBucket(rate: config.originQueriesPerSecond, burst: config.originQueryBurst, now: now)
        }
        let allowed = n.queryBudget!.take(now: now)
        neighbours[key] = n
        guard allowed else { stats.drops.count(.queryRateLimited); return }
        stats.originQueriesAnswered += 1
        if OriginEntry.owns(address, address: identity.address), config.advertisesSelf {
            queue(.originAnswer(origin: identity.publicKey, seqno: selfSeqno, flags: selfFlags, signature: selfSignature), to: key)
            return
        }
        guard OverlayAddress.isOverlay(address) else { queue(.originUnknown(address: address), to: key); return }
        let tag = OverlayAddress.lookupTag(for: address)
        if let id = origins.origin(forTag: tag), Int(id) < entryOfOrigin.count, entryOfOrigin[Int(id)] >= 0,
           OriginEntry.owns(address, address: origins.address(id)), let r = selectedRoute(Int(entryOfOrigin[Int(id)])) {
            queue(.originAnswer(origin: origins.key(id), seqno: r.seqno, flags: origins.flags(ofSignature: r.signature),
                                signature: origins.signature(r.signature)), to: key)
        } else {
            queue(.originUnknown(address: address), to: key)
        }
    }

    /// Whether neighbour `key` said it is a stub (its stub hello): other protocols (capacity
    /// gossip) send it as little as routing does.
    public func isStubNeighbour(_ key: PublicKey) -> Bool { neighbours[key]?.isStub == true }

    /// Neighbours marked stub since the last call: the node drops the routing output still
    /// waiting for them in its pacer (the dump of the link's first drain, sent before their
    /// hello arrived), which a stub would only discard.
    public func takeNewStubNeighbours() -> [PublicKey] {
        defer { newStubNeighbours.removeAll() }
        return newStubNeighbours
    }

    // MARK: - Stub side

    public var isStub: Bool { config.stub }

    /// The configured peers in the operator's order; the first that is up (and not a stub
    /// itself) is the upstream, the next when it goes down.
    public func setUpstreamPreference(_ keys: [PublicKey], now: Instant) {
        let before = stubUpstream
        stub.preference = keys
        if stubUpstream != before { upstreamChanged(now: now) }
    }

    /// Where a stub sends everything it has no route of its own for: the first preferred
    /// neighbour that is up and not a stub, else any such neighbour (the lowest key, so the
    /// choice is stable). nil for a router that is not a stub.
    public var stubUpstream: PublicKey? {
        guard config.stub else { return nil }
        for k in stub.preference { if let n = neighbours[k], !n.isStub { return k } }
        return neighbours.values.filter { !$0.isStub }.map(\.key).min()
    }

    /// A stub's route for `address`: a neighbour that owns it (one hop), else a resolved
    /// origin through the upstream; nil while unresolved (`resolve`).
    func stubRoute(forAddress address: IPv6Address) -> (destination: PublicKey, nextHop: PublicKey)? {
        guard OverlayAddress.isOverlay(address), !OriginEntry.owns(address, address: identity.address) else { return nil }
        for k in neighbours.keys where OriginEntry.owns(address, address: k.address) { return (k, k) }
        guard let up = stubUpstream, let key = stub.lookup(address) else { return nil }
        return (key, up)
    }

    /// Asks the upstream who owns `address`; the answer comes out of `drainResolutions`. An
    /// address already resolved is answered at once; one already asked about is not asked again.
    public func resolve(_ address: IPv6Address, now: Instant) {
        guard config.stub else { return }
        if let r = stubRoute(forAddress: address) { stub.resolutions.append(.resolved(address, r.destination)); return }
        guard OverlayAddress.isOverlay(address), !OriginEntry.owns(address, address: identity.address) else {
            stub.resolutions.append(.unresolved(address)); return
        }
        let tag = OverlayAddress.lookupTag(for: address)
        guard stub.queries[tag] == nil else { return }
        guard stub.queries.count < config.stubMaxQueries else {
            stats.drops.count(.stubQueriesFull)
            stub.resolutions.append(.unresolved(address))
            return
        }
        guard let up = stubUpstream else { stub.resolutions.append(.unresolved(address)); return }
        stub.queries[tag] = StubOrigins.Query(address: address, sentAt: now, tries: 1)
        sendQuery(address, to: up)
    }

    func sendQuery(_ address: IPv6Address, to key: PublicKey) {
        stats.originQueriesSent += 1
        queue(.originQuery(address: address), to: key)
    }

    /// What the node's `resolve` calls came to since the last drain.
    public func drainResolutions() -> [StubResolution] {
        defer { stub.resolutions.removeAll() }
        return stub.resolutions
    }

    public var hasResolutions: Bool { !stub.resolutions.isEmpty }

    /// An origin the node proved some other way (a session handshake proves the peer holds
    /// its key, and the address derives from the key): kept like a resolved one.
    public func learnOrigin(_ key: PublicKey, now: Instant) {
        guard config.stub, key != identity.publicKey else { return }
        let tag = OverlayAddress.lookupTag(for: key.address)
        let seqno = stub.resolved[tag].map { $0.key == key ? $0.seqno : 0 } ?? 0
        stub.insert(key, seqno: seqno, expires: now.adding(seconds: config.stubCacheLifetime), capacity: config.stubCacheSize)
    }

    /// An answer from neighbour `from`: taken only from the upstream, only for a query out,
    /// only for an origin that owns the queried address, and only if the origin's signature
    /// verifies; anything else is counted and dropped (the query stays out, to be retried).
    func handleOriginAnswer(from: PublicKey, origin: PublicKey, seqno: UInt32, flags: UInt8, signature: ArraySlice<UInt8>, now: Instant) {
        let tag = OverlayAddress.lookupTag(for: origin.address)
        guard from == stubUpstream, let q = stub.queries[tag], OriginEntry.owns(q.address, address: origin.address) else {
            stats.drops.count(.unsolicitedAnswer); return
        }
        stats.signaturesVerified += 1
        guard origin.verify(signature: signature, message: OriginSignature.message(origin: origin, seqno: seqno, flags: flags)) else {
            stats.drops.count(.badSignature); return
        }
        stub.queries[tag] = nil
        stats.originsResolved += 1
        stub.insert(origin, seqno: seqno, expires: now.adding(seconds: config.stubCacheLifetime), capacity: config.stubCacheSize)
        stub.resolutions.append(.resolved(q.address, origin))
    }

    func handleOriginUnknown(from: PublicKey, address: IPv6Address) {
        let tag = OverlayAddress.lookupTag(for: address)
        guard from == stubUpstream, let q = stub.queries[tag], q.address == address else { stats.drops.count(.unsolicitedAnswer); return }
        stub.queries[tag] = nil
        stub.resolutions.append(.unresolved(address))
    }

    /// A stub's message: its neighbours may ask for its own route and answer its queries;
    /// everything else (routes, summaries, lists) is for routers that keep a table.
    func receiveAsStub(_ message: [UInt8], from n: Neighbour, now: Instant) {
        RoutingMessage.forEach(message) { t in
            switch t.kind {
            case .routeRequest:
                // A wildcard request gets the dump, which for a table of none is our own route.
                handleRouteRequest(n, origin: t.origin)
            case .seqnoRequest where t.origin == identity.publicKey:
                handleSeqnoRequest(n, origin: t.origin!, seqno: t.seqno, hopCount: t.hopCount, now: now)
            case .stubHello:
                markStub(n.key, now: now)
            case .originQuery:
                handleOriginQuery(n.key, address: t.address, now: now)
            case .originAnswer:
                handleOriginAnswer(from: n.key, origin: t.origin!, seqno: t.seqno, flags: t.flags, signature: t.signature(in: message), now: now)
            case .originUnknown:
                handleOriginUnknown(from: n.key, address: t.address)
            default:
                stats.drops.count(.stubIgnored)
            }
        }
    }

    /// Retries queries the upstream did not answer, gives up on them after `stubQueryTries`,
    /// and forgets expired origins.
    func stubTimers(now: Instant) {
        guard config.stub else { return }
        let up = stubUpstream
        for (tag, q) in stub.queries.sorted(by: { $0.key < $1.key }) where now.seconds(since: q.sentAt) >= config.stubQueryRetry {
            if q.tries >= config.stubQueryTries || up == nil {
                stub.queries[tag] = nil
                stub.resolutions.append(.unresolved(q.address))
            } else {
                stub.queries[tag]?.tries += 1
                stub.queries[tag]?.sentAt = now
                sendQuery(q.address, to: up!)
            }
        }
        stub.expire(now: now)
    }

    var stubDeadline: Instant {
        guard config.stub else { return .never }
        return stub.queries.values.map { $0.sentAt.adding(seconds: config.stubQueryRetry) }.min() ?? .never
    }

    /// The upstream went (or another came first): the queries still out go to the new one.
    func upstreamChanged(now: Instant) {
        guard config.stub else { return }
        guard let up = stubUpstream else { return }
        logger.info("stub upstream", [("peer", up.short)])
        for tag in stub.queries.keys.sorted() {
            stub.queries[tag]?.sentAt = now
            sendQuery(stub.queries[tag]!.address, to: up)
        }
    }

    /// Heap use of a stub's state: what stands in for the table.
    public var stubMemoryBytes: Int { stub.estimatedMemoryBytes }
    public var stubResolvedCount: Int { stub.resolved.count }
}
