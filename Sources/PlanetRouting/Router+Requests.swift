import PlanetCore

// Route and seqno requests (babeld's resend.c): answering and forwarding them, asking for a
// newer seqno when all our routes to an origin are unfeasible, and remembering recent
// requests so a request that loops or is repeated is not forwarded again.

extension Router {
    struct RequestKey: Hashable { let origin: PublicKey; let seqno: UInt32 }

    /// The TLV that announces route `r` of origin `key`, with its signature.
    func signedUpdate(_ key: PublicKey, _ r: NeighbourRoute, metric: UInt16? = nil) -> RoutingTLV {
        .update(origin: key, seqno: r.seqno, flags: origins.flags(ofSignature: r.signature), metric: metric ?? routeMetric(r),
                signature: origins.signature(r.signature))
    }

    func handleRouteRequest(_ n: Neighbour, origin: PublicKey?) {
        guard let origin else {
            neighbours[n.key]?.wantsFullDump = true
            return
        }
        if origin == identity.publicKey {
            queue(config.advertisesSelf ? selfUpdate : .retraction(origin: origin), to: n.key)
        } else if let idx = entryIndex(origin), let r = selectedRoute(Int(idx)), r.slot != n.slot {
            // What every neighbour holds (so its digests agree), unless a change is pending.
            queue(signedUpdate(origin, r, metric: settledMetric(Int(idx))), to: n.key)
        } else {
            queue(.retraction(origin: origin), to: n.key)
        }
    }

    func handleSeqnoRequest(_ n: Neighbour, origin: PublicKey, seqno: UInt32, hopCount: UInt8, now: Instant) {
        if origin == identity.publicKey {
            guard config.advertisesSelf else { return }
            if SequenceNumber.isNewer(seqno, than: selfSeqno) { setSelfSeqno(seqno) }
            queue(selfUpdate, to: n.key)
            return
        }
        guard let idx = entryIndex(origin) else { return }
        let i = Int(idx)
        if let r = selectedRoute(i), SequenceNumber.isAtLeast(r.seqno, seqno) {
            queue(signedUpdate(origin, r), to: n.key)
            return
        }
        guard hopCount > 1 else { return }
        // Forward toward the origin: our selected next hop, else the best unfeasible offer.
        var target: UInt16?
        if let r = selectedRoute(i), r.slot != n.slot { target = r.slot }
        if target == nil {
            var best = RouteMetric.infinity
            let base = i * routeSlots
            for j in 0..<Int(entries[i].routeCount) {
                let r = routePool[base + j]
                let m = routeMetric(r)
                if r.slot != n.slot && m != RouteMetric.infinity && (target == nil || m < best) { target = r.slot; best = m }
            }
        }
        guard let t = target, let key = slotKeys[Int(t)] else { return }
        guard noteRequest(origin, seqno: seqno, now: now) else { return }
        stats.seqnoRequestsForwarded += 1
        queue(.seqnoRequest(origin: origin, seqno: seqno, hopCount: hopCount - 1), to: key)
    }

    /// Dedup for seqno requests; false when this one was seen recently or the table is full.
    func noteRequest(_ origin: PublicKey, seqno: UInt32, now: Instant) -> Bool {
        let key = RequestKey(origin: origin, seqno: seqno)
        let t = stamp(now)
        if let seen = recentRequests[key], t &- seen < deciseconds(config.requestDedupTime) {
            stats.drops.count(.duplicateRequest)
            return false
        }
        guard recentRequests.count < config.maxPendingRequests || recentRequests[key] != nil else {
            stats.drops.count(.requestTableFull)
            return false
        }
        recentRequests[key] = t
        return true
    }

    /// Starvation (RFC 8966 3.8.2.1): routes exist but none is feasible; ask for a seqno past
    /// our feasibility distance, at most once per dedup period.
    func requestNewerSeqno(_ idx: Int32, now: Instant) {
        let i = Int(idx)
        let t = stamp(now)
        if entries[i].lastRequest != 0 && t &- entries[i].lastRequest < deciseconds(config.requestDedupTime) { return }
        entries[i].lastRequest = max(t, 1)
        let want = entries[i].fdSeqno &+ 1
        let key = origins.key(entries[i].origin)
        let base = i * routeSlots
        let offers = routePool[base..<(base + Int(entries[i].routeCount))].filter { routeMetric($0) != RouteMetric.infinity }
            .sorted { routeMetric($0) < routeMetric($1) }.prefix(2)
        guard !offers.isEmpty, noteRequest(key, seqno: want, now: now) else { return }
        for r in offers {
            if let k = slotKeys[Int(r.slot)] {
                stats.seqnoRequestsSent += 1
                queue(.seqnoRequest(origin: key, seqno: want, hopCount: config.requestHopCount), to: k)
            }
        }
    }
}
