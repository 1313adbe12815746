import PlanetCore

// The neighbour table (babeld's neighbour.c): who we exchange routes with, the slot each
// neighbour's routes are filed under, its link cost, when it is next owed a dump, and the
// requests and replies queued for it until the next drain.

extension Router {
    struct Neighbour {
        let key: PublicKey
        let slot: UInt16
        var cost: UInt16
        var nextDump: Instant
        var wantsPeriodicDump = false
        var wantsFullDump = true
        /// A dump under way: the next entry index it goes on from (nil: none), and whether it
        /// carries signatures (a full dump) or refreshes (a periodic one). A dump leaves a slice
        /// per drain, as much as the caller has room for (`drainOutgoing(dumpRoom:)`), and each
        /// slice is written from the table as it is then, so what goes after it is never staler
        /// than what went before.
        var dumpCursor: Int?
        var dumpSigned = false
        var pending: [RoutingTLV] = []
        /// Reconciliation (Router+Reconciliation.swift). Whether the neighbour reconciles by
        /// digest (it sent a summary TLV, if only the hello): then it gets summaries instead of
        /// periodic dumps.
        var reconciles = false
        var wantsSummary = false
        /// What its range lists found it lacks or holds differently: entry indices (-1: our
        /// own route), each to go signed or as a refresh; and prefixes it holds that we do not advertise.
        var owed: [(index: Int32, signed: Bool)] = []
        var retractPrefixes: [UInt64] = []
        /// A bit per bucket whose range list is owed to it (built at the drain, from the routes then).
        var listBuckets: [UInt64] = [0, 0, 0, 0]
        /// When each bucket of its summaries was last compared (deciseconds; 0: never), so
        /// repeated summaries cost at most one pass per `summaryMinInterval`.
        var compared: [UInt32] = []
        /// Per bucket, the last difference found with it (0: none) and how many summaries in a
        /// row showed that same difference (a backoff for differences lists do not settle).
        var differed: [UInt64] = []
        var repeats: [UInt8] = []
        /// Stub nodes (Router+Stub.swift): it said it keeps no table (it gets only answers),
        /// and the budget its origin queries are answered from.
        var isStub = false
        var queryBudget: TokenBucket?
        /// Whether it has said anything on routing since it came up. Its first dump waits
        /// for that (Router+Due.swift): every router's first message says what it is (a stub's
        /// hello, anyone else's full route request), so a stub is never sent the table it
        /// would throw away.
        var heard = false

        /// Whether a drain has anything to do for it besides triggered updates.
        var hasDrainWork: Bool {
            !pending.isEmpty || dumpCursor != nil || (heard && (wantsFullDump || wantsPeriodicDump)) || wantsSummary
                || !owed.isEmpty || !retractPrefixes.isEmpty || listBuckets != [0, 0, 0, 0]
        }
    }

    public func neighbourUp(_ key: PublicKey, cost: UInt16, now: Instant) {
        if neighbours[key] != nil { neighbourCost(key, cost: cost, now: now); return }
        guard key != identity.publicKey else { return }
        guard neighbours.count < config.maxNeighbours else { stats.drops.count(.neighbourTableFull); return }
        let slot: UInt16
        let c = max(1, min(cost, RouteMetric.infinity - 1))
        if let s = freeSlots.popLast() {
            slot = s; slotKeys[Int(s)] = key; slotCosts[Int(s)] = c
        } else {
            slot = UInt16(slotKeys.count); slotKeys.append(key); slotCosts.append(c)
        }
        var n = Neighbour(key: key, slot: slot, cost: c, nextDump: jitteredDump(now))
        if config.stub {
            // A stub asks for nothing and says it keeps no table; its "full dump" is its own route.
            n.pending.append(.stubHello)
        } else {
            // Ask for everything with signatures, and send ours: a fresh neighbour holds nothing verified.
            n.pending.append(.routeRequest(origin: nil))
            // And say that we reconcile by digest, so it sends summaries rather than periodic dumps.
            if config.reconcilesByDigest { n.pending.append(.summary(first: 0, buckets: [])) }
        }
        let upstreamBefore = stubUpstream
        neighbours[key] = n
        neighbourCameUp(key, slot: slot, nextDump: n.nextDump)
        if config.stub, stubUpstream != upstreamBefore { upstreamChanged(now: now) }
        logger.debug("routing neighbour up", [("peer", key.short), ("cost", "\(cost)")])
    }

    /// A new measured cost; changes smaller than the hysteresis are ignored so RTT noise
    /// does not ripple through the network as triggered updates.
    public func neighbourCost(_ key: PublicKey, cost: UInt16, now: Instant) {
        guard var n = neighbours[key] else { return }
        let c = max(1, min(cost, RouteMetric.infinity - 1))
        let diff = c > n.cost ? c - n.cost : n.cost - c
        guard diff >= max(config.costHysteresis, n.cost / 8) else { return }
        n.cost = c
        neighbours[key] = n
        slotCosts[Int(n.slot)] = c
        for i in entries.indices where entries[i].live && routeIndex(i, slot: n.slot) != nil {
            reselect(Int32(i), now: now)
        }
    }

    public func neighbourDown(_ key: PublicKey, now: Instant) {
        let upstreamBefore = stubUpstream
        guard let n = neighbours.removeValue(forKey: key) else { return }
        neighbourWentDown(key, slot: n.slot)
        if config.stub, stubUpstream != upstreamBefore { upstreamChanged(now: now) }
        // Its routes go, so what it still had waiting for a check would only be thrown away later.
        _ = backlog.removeAll(slot: n.slot)
        stats.verificationBacklog = backlog.count
        if backlog.isEmpty { backlogDue = .never }
        for i in entries.indices where entries[i].live && routeIndex(i, slot: n.slot) != nil {
            removeRoute(Int32(i), slot: n.slot)
            reselect(Int32(i), now: now)
        }
        sharesNeighbourDown(n.slot)
        if Int(n.slot) < declinedFrom.count { declinedFrom[Int(n.slot)] = EntryBits() }
        if Int(n.slot) < declinedBy.count { declinedBy[Int(n.slot)] = EntryBits() }
        slotKeys[Int(n.slot)] = nil
        freeSlots.append(n.slot)
        logger.debug("routing neighbour down", [("peer", key.short)])
    }

    public var neighbourKeys: [PublicKey] { Array(neighbours.keys) }

    func queue(_ tlv: RoutingTLV, to key: PublicKey) {
        guard let count = neighbours[key]?.pending.count else { return }
        // Requests and replies per neighbour are bounded like everything else.
        guard count < config.maxPendingRequests else { stats.drops.count(.queueFull); return }
        neighbours[key]?.pending.append(tlv)
        drainDue.insert(key)
    }
}
