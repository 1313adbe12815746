import PlanetCore

// Routes and route selection (babeld's route.c): what each neighbour told us about each
// origin (the flat route pool), accepting updates into it, removing and expiring routes,
// picking the best feasible route with hysteresis, and the lookups the node forwards by.

extension Router {
    func handleUpdate(_ n: Neighbour, origin: PublicKey, seqno: UInt32, flags: UInt8, metric: UInt16,
                              signature: ArraySlice<UInt8>?, now: Instant) {
        if origin == identity.publicKey {
            // Our own route coming back around a cycle is normal. A verified seqno newer than
            // ours means an earlier run of this node got further than we remember: jump past
            // it. (Equal seqnos sign identical bytes: ed25519 is deterministic.)
            guard let signature else { return }
            guard SequenceNumber.isNewer(seqno, than: selfSeqno) else { return }
            guard let h = origins.verifiedSignature(origin: origin, seqno: seqno, flags: flags, signature: signature) else {
                stats.drops.count(.badSignature); return
            }
            origins.releaseSignature(h)
            setSelfSeqno(seqno &+ 1)
            return
        }
        let existing = entryIndex(origin)
        // `sig` is a reference we own from here on: stored in a route, or released.
        let sig: UInt32
        if let signature {
            if let idx = existing, let known = knownSignature(Int(idx), seqno: seqno), origins.flags(ofSignature: known) == flags,
               origins.signatureMatches(known, signature) {
                sig = known
                origins.retainSignature(sig)
            } else {
                stats.signaturesVerified += 1
                guard let v = origins.verifiedSignature(origin: origin, seqno: seqno, flags: flags, signature: signature) else {
                    stats.drops.count(.badSignature); return
                }
                sig = v
            }
        } else {
            guard let idx = existing, let known = knownSignature(Int(idx), seqno: seqno) else {
                // We never saw this seqno signed: ask this neighbour for the signed version,
                // unless it is already waiting for its check.
                stats.drops.count(.unverifiedRefresh)
                if metric != RouteMetric.infinity && !backlog.holds(slot: n.slot, origin: origin) {
                    queue(.routeRequest(origin: origin), to: n.key)
                }
                return
            }
            sig = known
            origins.retainSignature(sig)
        }
        if metric == RouteMetric.infinity {
            origins.releaseSignature(sig)
            if let idx = existing { setBit(&declinedFrom, slot: n.slot, Int(idx), false); removeRoute(idx, slot: n.slot); reselect(idx, now: now) }
            return
        }
        let idx: Int32
        if let e = existing {
            idx = e
        } else {
            guard let created = createEntry(origin, seqno: seqno, signature: sig, from: n.slot) else { origins.releaseSignature(sig); return }
            idx = created
        }
        stats.updatesAccepted += 1
        let i = Int(idx)
        if SequenceNumber.isNewer(seqno, than: entries[i].seqno) {
            origins.retainSignature(sig)
            origins.releaseSignature(entries[i].signature)
            entries[i].seqno = seqno
            entries[i].signature = sig
        }
        let route = NeighbourRoute(slot: n.slot, advertisedMetric: metric, seqno: seqno,
                                   expires: stamp(now) &+ deciseconds(config.routeHoldTime), signature: sig)
        let base = i * routeSlots
        let count = Int(entries[i].routeCount)
        if let j = routeIndex(i, slot: n.slot) {
            origins.releaseSignature(routePool[base + j].signature)
            routePool[base + j] = route
        } else if count < routeSlots {
            routePool[base + count] = route
            entries[i].routeCount += 1
        } else {
            // Full: replace the worst unselected candidate if this one is better.
            var worst = -1
            var worstMetric: UInt16 = 0
            for j in 0..<count where j != Int(entries[i].selected) {
                let m = routeMetric(routePool[base + j])
                if worst < 0 || m > worstMetric { worst = j; worstMetric = m }
            }
            guard worst >= 0, worstMetric > RouteMetric.adding(metric, n.cost) else {
                stats.drops.count(.routeSlotsFull)
                origins.releaseSignature(sig)
                if config.reconcilesByDigest { setBit(&declinedFrom, slot: n.slot, i, true) }
                return
            }
            origins.releaseSignature(routePool[base + worst].signature)
            // The route it replaces is an offer now declined for want of a slot.
            if config.reconcilesByDigest { setBit(&declinedFrom, slot: routePool[base + worst].slot, i, true) }
            routePool[base + worst] = route
        }
        if bit(declinedFrom, slot: n.slot, i) { setBit(&declinedFrom, slot: n.slot, i, false) }
        reselect(idx, now: now)
    }

    /// A route's metric through its neighbour now: what it advertised plus our link cost.
    @inline(__always)
    func routeMetric(_ r: NeighbourRoute) -> UInt16 { RouteMetric.adding(r.advertisedMetric, slotCosts[Int(r.slot)]) }

    @inline(__always)
    func routeIndex(_ i: Int, slot: UInt16) -> Int? {
        let base = i * routeSlots
        for j in 0..<Int(entries[i].routeCount) where routePool[base + j].slot == slot { return j }
        return nil
    }

    @inline(__always)
    func selectedRoute(_ i: Int) -> NeighbourRoute? {
        let s = entries[i].selected
        return s >= 0 ? routePool[i * routeSlots + Int(s)] : nil
    }

    /// Removes route `j` of entry `i`, keeping the others in order and the selection on the same route.
    func removeRoute(at j: Int, of i: Int) {
        let base = i * routeSlots
        let count = Int(entries[i].routeCount)
        let selectedSlot = selectedRoute(i)?.slot
        origins.releaseSignature(routePool[base + j].signature)
        for k in j..<(count - 1) { routePool[base + k] = routePool[base + k + 1] }
        entries[i].routeCount -= 1
        setSelected(i, -1)
        if let s = selectedSlot, let k = routeIndex(i, slot: s) { setSelected(i, Int16(k)) }
        // A slot is free: the offers we refused for want of one may come again.
        askDecliners(i)
    }

    func removeRoute(_ idx: Int32, slot: UInt16) {
        guard let j = routeIndex(Int(idx), slot: slot) else { return }
        removeRoute(at: j, of: Int(idx))
    }

    /// Picks the best feasible route, keeping the current one unless the new one is better
    /// by the hysteresis, updates the feasibility distance, and decides whether the change
    /// is worth a triggered update.
    func reselect(_ idx: Int32, now: Instant) {
        let i = Int(idx)
        let base = i * routeSlots
        let count = Int(entries[i].routeCount)
        let current = Int(entries[i].selected)
        var best = -1
        var bestMetric = RouteMetric.infinity
        for j in 0..<count {
            let r = routePool[base + j]
            let m = routeMetric(r)
            guard m != RouteMetric.infinity, entries[i].isFeasible(seqno: r.seqno, metric: r.advertisedMetric) else { continue }
            if best < 0 || m < bestMetric || (m == bestMetric && j == current) { best = j; bestMetric = m }
        }
        if current >= 0, best >= 0, best != current, !isDirectOverRelayed(i, best: routePool[base + best], current: routePool[base + current]) {
            let c = routePool[base + current]
            let cm = routeMetric(c)
            if cm != RouteMetric.infinity, entries[i].isFeasible(seqno: c.seqno, metric: c.advertisedMetric),
               c.seqno == routePool[base + best].seqno,
               UInt32(bestMetric) + UInt32(config.switchHysteresis) > UInt32(cm) {
                best = current
            }
        }
        setSelected(i, Int16(best))
        let t = stamp(now)
        if best >= 0 {
            let r = routePool[base + best]
            let rm = routeMetric(r)
            if !entries[i].hasFeasibilityDistance || SequenceNumber.isNewer(r.seqno, than: entries[i].fdSeqno) {
                entries[i].hasFeasibilityDistance = true
                entries[i].fdSeqno = r.seqno
                entries[i].fdMetric = rm
            } else if r.seqno == entries[i].fdSeqno && rm < entries[i].fdMetric {
                entries[i].fdMetric = rm
            }
            let e = entries[i]
            let adv = e.advertisedMetric
            let delta = adv > rm ? adv - rm : rm - adv
            if !e.everAdvertised || adv == RouteMetric.infinity || e.advertisedSeqno != r.seqno || e.advertisedSlot != r.slot
                || delta > max(config.triggerMetricDelta, adv / 8) {
                trigger(idx)
            }
        } else {
            if entries[i].everAdvertised && entries[i].advertisedMetric != RouteMetric.infinity { trigger(idx) }
            if count == 0 {
                if entries[i].lostAt == 0 { entries[i].lostAt = max(t, 1) }
            } else {
                requestNewerSeqno(idx, now: now)
            }
        }
        if best >= 0 { entries[i].lostAt = 0 }
    }

    /// Whether `best` is the origin's own link (its next hop is the origin) and `current` goes
    /// through a relay: then a better metric is enough to switch, without the hysteresis. The
    /// direct route saves the relay its forwarding and the packet a hop (it goes as a direct
    /// frame, one AEAD pass), which an RTT-based metric cannot see; a hole-punched link must
    /// win even when its RTT is about the relayed path's. It cannot flap: switching back needs
    /// the relayed route to beat it by the hysteresis.
    func isDirectOverRelayed(_ i: Int, best: NeighbourRoute, current: NeighbourRoute) -> Bool {
        let origin = origins.key(entries[i].origin)
        return slotKeys[Int(best.slot)] == origin && slotKeys[Int(current.slot)] != origin
    }

    // MARK: - Lookups

    public func nextHop(to destination: PublicKey) -> PublicKey? {
        guard let idx = entryIndex(destination), let r = selectedRoute(Int(idx)) else { return nil }
        return slotKeys[Int(r.slot)]
    }

    /// The origin owning `address` (its 200::/7 address or an address in its 300::/64) and the
    /// neighbour to forward to. nil for our own address and subnet (the node delivers those
    /// locally) and for anything unreachable or outside the overlay.
    public func route(forAddress address: IPv6Address) -> (destination: PublicKey, nextHop: PublicKey)? {
        if config.stub { return stubRoute(forAddress: address) }
        guard OverlayAddress.isOverlay(address) else { return nil }
        let tag = OverlayAddress.lookupTag(for: address)
        guard let id = origins.origin(forTag: tag), Int(id) < entryOfOrigin.count else { return nil }
        let idx = Int(entryOfOrigin[Int(id)])
        guard idx >= 0, OriginEntry.owns(address, address: origins.address(id)), let r = selectedRoute(idx),
              let hop = slotKeys[Int(r.slot)] else { return nil }
        return (origins.key(id), hop)
    }

    func setSelected(_ i: Int, _ value: Int16) {
        let was = entries[i].selected >= 0, now = value >= 0
        if was != now { reachableCount += now ? 1 : -1 }
        entries[i].selected = Int8(value)
    }

    /// Selected route metric toward `destination`, nil if unreachable.
    public func metric(to destination: PublicKey) -> UInt16? {
        guard let idx = entryIndex(destination), let r = selectedRoute(Int(idx)) else { return nil }
        return routeMetric(r)
    }

    /// Heap use of this router's own tables (entries, route pool, index, verification backlog); keys and signatures
    /// are in the `OriginDirectory` (`origins.estimatedMemoryBytes`).
    public var estimatedMemoryBytes: Int {
        entries.count * MemoryLayout<OriginEntry>.stride + routePool.count * MemoryLayout<NeighbourRoute>.stride
            + entryOfOrigin.count * MemoryLayout<Int32>.stride + backlog.estimatedMemoryBytes + shares.estimatedMemoryBytes
            + nextInBucket.count * MemoryLayout<Int32>.stride + bucketHeads.count * MemoryLayout<Int32>.stride
            + (declinedFrom + declinedBy).reduce(0) { $0 + $1.words.count * 8 }
    }

    public func routes() -> [RouteInfo] {
        var out: [RouteInfo] = []
        for (i, e) in entries.enumerated() where e.live {
            let sel = selectedRoute(i)
            let base = i * routeSlots
            let cands = (0..<Int(e.routeCount)).compactMap { j -> RouteInfo.Candidate? in
                let r = routePool[base + j]
                guard let k = slotKeys[Int(r.slot)] else { return nil }
                return .init(neighbour: k, metric: routeMetric(r), seqno: r.seqno, feasible: e.isFeasible(seqno: r.seqno, metric: r.advertisedMetric),
                             selected: j == Int(e.selected))
            }
            let key = origins.key(e.origin)
            out.append(RouteInfo(origin: key, address: origins.address(e.origin), subnet: key.subnet,
                                 nextHop: sel.flatMap { slotKeys[Int($0.slot)] }, metric: sel.map(routeMetric) ?? RouteMetric.infinity,
                                 seqno: sel?.seqno ?? e.seqno,
                                 feasibilityDistance: e.hasFeasibilityDistance ? (e.fdSeqno, e.fdMetric) : nil, candidates: cands))
        }
        return out.sorted { $0.origin < $1.origin }
    }
}
