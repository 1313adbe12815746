import PlanetCore

/// Distance-vector routing after Babel (RFC 8966) with signed origins, sans-I/O.
///
/// Every node originates one route that covers its 200::/7 address and its 300::/64 subnet,
/// keyed by its public key. The origin signs (key, seqno, flags); neighbours relay the
/// signature and can only change the metric. Loop freedom comes from Babel's feasibility
/// condition; signatures make sure nobody but the origin can move its seqno forward.
/// Design and wire format: Docs/protocol.md, "routing (PlanetRouting)".
public final class Router {
    public let identity: NodeIdentity
    public let config: RouterConfig
    public private(set) var stats = RouterStats()
    public private(set) var selfSeqno: UInt32
    public let selfFlags: UInt8 = 0

    /// Origin keys and verified signatures, interned (shared by all routers in planetsim).
    public let origins: OriginDirectory
    private let logger: Logger
    private var random: SplitMix64
    private let epoch: Instant
    private var selfSignature: [UInt8]
    private var selfTriggered = true

    struct Neighbour {
        let key: PublicKey
        let slot: UInt16
        var cost: UInt16
        var nextDump: Instant
        var wantsPeriodicDump = false
        var wantsFullDump = true
        var pending: [RoutingTLV] = []
    }
    private var neighbours: [PublicKey: Neighbour] = [:]
    private var slotKeys: [PublicKey?] = []
    /// Link cost per neighbour slot; a route's metric is its advertised metric plus this.
    private var slotCosts: [UInt16] = []
    private var freeSlots: [UInt16] = []

    /// Entry index per `OriginDirectory` id, -1 for origins this router does not hold.
    private var entryOfOrigin: [Int32] = []
    private var entries: [OriginEntry] = []
    /// The routes of entry i are `routePool[i * routeSlots ..< i * routeSlots + routeCount]`,
    /// in arrival order: one flat array instead of a heap array per origin.
    private var routePool: [NeighbourRoute] = []
    private let routeSlots: Int
    private var freeEntries: [Int32] = []
    private var liveEntries = 0
    private var triggeredList: [Int32] = []
    /// Origins with a selected route, kept current so simulators can poll it cheaply.
    public private(set) var reachableCount = 0

    struct RequestKey: Hashable { let origin: PublicKey; let seqno: UInt32 }
    private var recentRequests: [RequestKey: UInt32] = [:]

    private var nextSweep: Instant
    private var outgoing: [(to: PublicKey, message: [UInt8])] = []

    /// `origins` is where keys and verified signatures are interned; a router normally owns
    /// its own, planetsim shares one between all its routers.
    public init(identity: NodeIdentity, config: RouterConfig = .init(), origins: OriginDirectory = OriginDirectory(),
                logger: Logger = .disabled, now: Instant, random: SplitMix64, seqno: UInt32 = 0) {
        self.identity = identity
        self.config = config
        self.origins = origins
        self.routeSlots = min(max(1, config.maxRoutesPerOrigin), Int(Int8.max))
        self.logger = logger
        self.random = random
        self.epoch = now
        self.selfSeqno = seqno
        self.selfSignature = OriginSignature.sign(identity, seqno: seqno, flags: 0)
        self.nextSweep = now.adding(seconds: config.sweepInterval)
    }

    // MARK: - Sequence number persistence

    /// Sets our seqno to at least `seqno` (the runtime saves `selfSeqno` and restores it at
    /// start, past what it saved). Never moves it backwards.
    public func restoreSelfSeqno(_ seqno: UInt32) {
        guard SequenceNumber.isNewer(seqno, than: selfSeqno) else { return }
        setSelfSeqno(seqno)
    }

    private func setSelfSeqno(_ seqno: UInt32) {
        selfSeqno = seqno
        selfSignature = OriginSignature.sign(identity, seqno: seqno, flags: selfFlags)
        selfTriggered = true
        stats.selfSeqnoBumps += 1
    }

    /// Our own route, signed.
    private var selfUpdate: RoutingTLV {
        .update(origin: identity.publicKey, seqno: selfSeqno, flags: selfFlags, metric: 0, signature: selfSignature)
    }

    // MARK: - Neighbours

    public func neighbourUp(_ key: PublicKey, cost: UInt16, now: Instant) {
        if neighbours[key] != nil { neighbourCost(key, cost: cost, now: now); return }
        guard key != identity.publicKey else { return }
        guard neighbours.count < config.maxNeighbours else { stats.droppedNeighbourTableFull += 1; return }
        let slot: UInt16
        let c = max(1, min(cost, RouteMetric.infinity - 1))
        if let s = freeSlots.popLast() {
            slot = s; slotKeys[Int(s)] = key; slotCosts[Int(s)] = c
        } else {
            slot = UInt16(slotKeys.count); slotKeys.append(key); slotCosts.append(c)
        }
        var n = Neighbour(key: key, slot: slot, cost: c, nextDump: jitteredDump(now))
        // Ask for everything with signatures, and send ours: a fresh neighbour holds nothing verified.
        n.pending.append(.routeRequest(origin: nil))
        neighbours[key] = n
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
        guard let n = neighbours.removeValue(forKey: key) else { return }
        for i in entries.indices where entries[i].live && routeIndex(i, slot: n.slot) != nil {
            removeRoute(Int32(i), slot: n.slot)
            reselect(Int32(i), now: now)
        }
        slotKeys[Int(n.slot)] = nil
        freeSlots.append(n.slot)
        logger.debug("routing neighbour down", [("peer", key.short)])
    }

    public var neighbourKeys: [PublicKey] { Array(neighbours.keys) }

    // MARK: - Receiving

    /// `message` is everything after the 0x10 inner-frame byte.
    public func receive(_ message: [UInt8], from neighbour: PublicKey, now: Instant) {
        stats.messagesReceived += 1
        stats.bytesReceived += message.count
        guard let n = neighbours[neighbour] else { stats.droppedFromNonNeighbour += 1; return }
        var unknown = 0
        if RoutingMessage.validate(message, unknown: &unknown) != nil { stats.droppedMalformed += 1; return }
        stats.droppedUnknownTLV += unknown
        RoutingMessage.forEach(message) { t in
            switch t.kind {
            case .update:
                handleUpdate(n, origin: t.origin!, seqno: t.seqno, flags: t.flags, metric: t.metric, signature: t.signature(in: message), now: now)
            case .refresh:
                handleUpdate(n, origin: t.origin!, seqno: t.seqno, flags: 0, metric: t.metric, signature: nil, now: now)
            case .retraction:
                if let idx = entryIndex(t.origin!) { removeRoute(idx, slot: n.slot); reselect(idx, now: now) }
            case .routeRequest:
                handleRouteRequest(n, origin: t.origin)
            case .seqnoRequest:
                handleSeqnoRequest(n, origin: t.origin!, seqno: t.seqno, hopCount: t.hopCount, now: now)
            }
        }
    }

    private func handleUpdate(_ n: Neighbour, origin: PublicKey, seqno: UInt32, flags: UInt8, metric: UInt16,
                              signature: ArraySlice<UInt8>?, now: Instant) {
        if origin == identity.publicKey {
            // Our own route coming back around a cycle is normal. A verified seqno newer than
            // ours means an earlier run of this node got further than we remember: jump past
            // it. (Equal seqnos sign identical bytes: ed25519 is deterministic.)
            guard let signature else { return }
            guard SequenceNumber.isNewer(seqno, than: selfSeqno) else { return }
            guard let h = origins.verifiedSignature(origin: origin, seqno: seqno, flags: flags, signature: signature) else {
                stats.droppedBadSignature += 1; return
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
                    stats.droppedBadSignature += 1; return
                }
                sig = v
            }
        } else {
            guard let idx = existing, let known = knownSignature(Int(idx), seqno: seqno) else {
                // We never saw this seqno signed: ask this neighbour for the signed version.
                stats.droppedUnverifiedRefresh += 1
                if metric != RouteMetric.infinity { queue(.routeRequest(origin: origin), to: n.key) }
                return
            }
            sig = known
            origins.retainSignature(sig)
        }
        if metric == RouteMetric.infinity {
            origins.releaseSignature(sig)
            if let idx = existing { removeRoute(idx, slot: n.slot); reselect(idx, now: now) }
            return
        }
        let idx: Int32
        if let e = existing {
            idx = e
        } else {
            guard let created = createEntry(origin, seqno: seqno, signature: sig) else { origins.releaseSignature(sig); return }
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
                stats.droppedRouteSlotsFull += 1
                origins.releaseSignature(sig)
                return
            }
            origins.releaseSignature(routePool[base + worst].signature)
            routePool[base + worst] = route
        }
        reselect(idx, now: now)
    }

    // MARK: - Entry and route access

    @inline(__always)
    private func entryIndex(_ origin: PublicKey) -> Int32? {
        guard let id = origins.originId(origin), Int(id) < entryOfOrigin.count else { return nil }
        let e = entryOfOrigin[Int(id)]
        return e >= 0 ? e : nil
    }

    /// A route's metric through its neighbour now: what it advertised plus our link cost.
    @inline(__always)
    private func routeMetric(_ r: NeighbourRoute) -> UInt16 { RouteMetric.adding(r.advertisedMetric, slotCosts[Int(r.slot)]) }

    @inline(__always)
    private func routeIndex(_ i: Int, slot: UInt16) -> Int? {
        let base = i * routeSlots
        for j in 0..<Int(entries[i].routeCount) where routePool[base + j].slot == slot { return j }
        return nil
    }

    @inline(__always)
    private func selectedRoute(_ i: Int) -> NeighbourRoute? {
        let s = entries[i].selected
        return s >= 0 ? routePool[i * routeSlots + Int(s)] : nil
    }

    /// The signature we already hold for `seqno` (the entry's or a route's), so a repeat is
    /// not verified again.
    private func knownSignature(_ i: Int, seqno s: UInt32) -> UInt32? {
        if s == entries[i].seqno { return entries[i].signature }
        let base = i * routeSlots
        for j in 0..<Int(entries[i].routeCount) where routePool[base + j].seqno == s { return routePool[base + j].signature }
        return nil
    }

    /// The TLV that announces route `r` of origin `key`, with its signature.
    private func signedUpdate(_ key: PublicKey, _ r: NeighbourRoute) -> RoutingTLV {
        .update(origin: key, seqno: r.seqno, flags: origins.flags(ofSignature: r.signature), metric: routeMetric(r),
                signature: origins.signature(r.signature))
    }

    private func handleRouteRequest(_ n: Neighbour, origin: PublicKey?) {
        guard let origin else {
            neighbours[n.key]?.wantsFullDump = true
            return
        }
        if origin == identity.publicKey {
            queue(config.advertisesSelf ? selfUpdate : .retraction(origin: origin), to: n.key)
        } else if let idx = entryIndex(origin), let r = selectedRoute(Int(idx)), r.slot != n.slot {
            queue(signedUpdate(origin, r), to: n.key)
        } else {
            queue(.retraction(origin: origin), to: n.key)
        }
    }

    private func handleSeqnoRequest(_ n: Neighbour, origin: PublicKey, seqno: UInt32, hopCount: UInt8, now: Instant) {
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
    private func noteRequest(_ origin: PublicKey, seqno: UInt32, now: Instant) -> Bool {
        let key = RequestKey(origin: origin, seqno: seqno)
        let t = stamp(now)
        if let seen = recentRequests[key], t &- seen < deciseconds(config.requestDedupTime) {
            stats.droppedDuplicateRequest += 1
            return false
        }
        guard recentRequests.count < config.maxPendingRequests || recentRequests[key] != nil else {
            stats.droppedRequestTableFull += 1
            return false
        }
        recentRequests[key] = t
        return true
    }

    // MARK: - Table maintenance

    /// A new entry holding a reference to the origin and one to `signature` (the caller keeps its own).
    private func createEntry(_ origin: PublicKey, seqno: UInt32, signature: UInt32) -> Int32? {
        guard liveEntries < config.maxOrigins else { stats.droppedOriginTableFull += 1; return nil }
        let id = origins.retainOrigin(origin)
        origins.retainSignature(signature)
        let entry = OriginEntry(origin: id, seqno: seqno, signature: signature)
        let idx: Int32
        if let f = freeEntries.popLast() {
            idx = f; entries[Int(f)] = entry
        } else {
            // Grown by a quarter rather than doubled: at 10^4-10^5 origins the tables are most
            // of a node's memory, and doubling would leave up to half of them unused.
            if entries.count == entries.capacity { entries.reserveCapacity(entries.count + entries.count / 4 + 16) }
            if routePool.count + routeSlots > routePool.capacity {
                routePool.reserveCapacity(routePool.count + routePool.count / 4 + 16 * routeSlots)
            }
            idx = Int32(entries.count); entries.append(entry)
            routePool.append(contentsOf: repeatElement(NeighbourRoute.empty, count: routeSlots))
        }
        if Int(id) >= entryOfOrigin.count {
            let need = Int(id) + 1
            if need > entryOfOrigin.capacity { entryOfOrigin.reserveCapacity(max(need, entryOfOrigin.count + entryOfOrigin.count / 4 + 16)) }
            entryOfOrigin.append(contentsOf: repeatElement(-1, count: need - entryOfOrigin.count))
        }
        entryOfOrigin[Int(id)] = idx
        liveEntries += 1
        return idx
    }

    private func freeEntry(_ idx: Int32) {
        let i = Int(idx)
        let base = i * routeSlots
        for j in 0..<Int(entries[i].routeCount) { origins.releaseSignature(routePool[base + j].signature) }
        entries[i].routeCount = 0
        setSelected(i, -1)
        origins.releaseSignature(entries[i].signature)
        entryOfOrigin[Int(entries[i].origin)] = -1
        origins.releaseOrigin(entries[i].origin)
        entries[i].live = false
        liveEntries -= 1
        freeEntries.append(idx)
    }

    /// Removes route `j` of entry `i`, keeping the others in order and the selection on the same route.
    private func removeRoute(at j: Int, of i: Int) {
        let base = i * routeSlots
        let count = Int(entries[i].routeCount)
        let selectedSlot = selectedRoute(i)?.slot
        origins.releaseSignature(routePool[base + j].signature)
        for k in j..<(count - 1) { routePool[base + k] = routePool[base + k + 1] }
        entries[i].routeCount -= 1
        setSelected(i, -1)
        if let s = selectedSlot, let k = routeIndex(i, slot: s) { setSelected(i, Int16(k)) }
    }

    private func removeRoute(_ idx: Int32, slot: UInt16) {
        guard let j = routeIndex(Int(idx), slot: slot) else { return }
        removeRoute(at: j, of: Int(idx))
    }

    /// Picks the best feasible route, keeping the current one unless the new one is better
    /// by the hysteresis, updates the feasibility distance, and decides whether the change
    /// is worth a triggered update.
    private func reselect(_ idx: Int32, now: Instant) {
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
        if current >= 0, best >= 0, best != current {
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

    /// Starvation (RFC 8966 3.8.2.1): routes exist but none is feasible; ask for a seqno past
    /// our feasibility distance, at most once per dedup period.
    private func requestNewerSeqno(_ idx: Int32, now: Instant) {
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

    private func trigger(_ idx: Int32) {
        guard !entries[Int(idx)].triggered else { return }
        entries[Int(idx)].triggered = true
        triggeredList.append(idx)
    }

    private func queue(_ tlv: RoutingTLV, to key: PublicKey) {
        guard let count = neighbours[key]?.pending.count else { return }
        // Requests and replies per neighbour are bounded like everything else.
        guard count < config.maxPendingRequests else { stats.droppedQueueFull += 1; return }
        neighbours[key]?.pending.append(tlv)
    }

    // MARK: - Timers

    public func tick(now: Instant) {
        // Sorted so the jitter draws, and so a simulation, replay identically.
        for key in neighbours.keys.sorted() where neighbours[key]!.nextDump <= now {
            neighbours[key]?.wantsPeriodicDump = true
            neighbours[key]?.nextDump = jitteredDump(now)
        }
        if now >= nextSweep {
            sweep(now: now)
            nextSweep = now.adding(seconds: config.sweepInterval)
        }
    }

    public var nextDeadline: Instant {
        var d = nextSweep
        for n in neighbours.values where n.nextDump < d { d = n.nextDump }
        return d
    }

    private func sweep(now: Instant) {
        let t = stamp(now)
        for i in entries.indices where entries[i].live {
            let before = Int(entries[i].routeCount)
            let base = i * routeSlots
            var j = 0
            while j < Int(entries[i].routeCount) {
                if Int32(bitPattern: routePool[base + j].expires &- t) <= 0 { removeRoute(at: j, of: i) } else { j += 1 }
            }
            let count = Int(entries[i].routeCount)
            if count != before || (entries[i].selected < 0 && count > 0) {
                reselect(Int32(i), now: now)
            }
            if entries[i].routeCount == 0, entries[i].lostAt != 0,
               t &- entries[i].lostAt >= deciseconds(config.sourceGarbageTime), !entries[i].triggered {
                freeEntry(Int32(i))
            }
        }
        let dedup = deciseconds(config.requestDedupTime)
        recentRequests = recentRequests.filter { t &- $0.value < dedup }
    }

    private func jitteredDump(_ now: Instant) -> Instant {
        let j = 0.88 + Double(random.next() % 1000) / 1000 * 0.24
        return now.adding(seconds: config.dumpInterval * j)
    }

    private func stamp(_ now: Instant) -> UInt32 {
        UInt32(truncatingIfNeeded: (now.nanoseconds &- epoch.nanoseconds) / 100_000_000) &+ 1
    }

    private func deciseconds(_ s: Double) -> UInt32 { UInt32(max(1, s * 10)) }

    // MARK: - Output

    /// Whether a drain left triggered updates for the next one (only with `maxAdvertsPerDrain`).
    public var hasPendingOutput: Bool { !triggeredList.isEmpty }

    /// Messages to send, each for one neighbour, without the 0x10 frame byte.
    public func drainOutgoing() -> [(to: PublicKey, message: [UInt8])] {
        /// A triggered advertisement: what to tell every neighbour but the route's next hop.
        struct Advert { let key: PublicKey; let kind: RoutingTLV.Kind; let route: NeighbourRoute; let nextHop: UInt16 }
        let triggered: [Int32]
        if triggeredList.count <= config.maxAdvertsPerDrain {
            triggered = triggeredList
            triggeredList.removeAll(keepingCapacity: true)
        } else {
            // Oldest first; the rest stay triggered (and keep coalescing) for the next drain.
            triggered = Array(triggeredList.prefix(config.maxAdvertsPerDrain))
            triggeredList.removeFirst(config.maxAdvertsPerDrain)
        }
        var adverts: [Advert] = []
        adverts.reserveCapacity(triggered.count)
        var retractions = 0
        for idx in triggered {
            let i = Int(idx)
            entries[i].triggered = false
            guard entries[i].live else { continue }
            let key = origins.key(entries[i].origin)
            if let r = selectedRoute(i) {
                let signed = !entries[i].everAdvertised || entries[i].advertisedSeqno != r.seqno
                entries[i].everAdvertised = true
                entries[i].advertisedSeqno = r.seqno
                entries[i].advertisedMetric = routeMetric(r)
                entries[i].advertisedSlot = r.slot
                adverts.append(Advert(key: key, kind: signed ? .update : .refresh, route: r, nextHop: r.slot))
            } else {
                entries[i].advertisedMetric = RouteMetric.infinity
                entries[i].advertisedSlot = .max
                adverts.append(Advert(key: key, kind: .retraction, route: .empty, nextHop: .max))
                retractions += 1
            }
        }
        let selfUpdate = self.selfUpdate
        let sendSelf = selfTriggered && config.advertisesSelf
        selfTriggered = false

        for key in neighbours.keys.sorted() {
            guard var n = neighbours[key] else { continue }
            var packer = MessagePacker(limit: config.maxMessageBytes)
            for tlv in n.pending { packer.add(tlv) }
            n.pending.removeAll()
            if n.wantsFullDump || n.wantsPeriodicDump {
                let signed = n.wantsFullDump
                if config.advertisesSelf { packer.add(selfUpdate) }
                for i in entries.indices where entries[i].live && entries[i].selected >= 0 {
                    let r = routePool[i * routeSlots + Int(entries[i].selected)]
                    guard r.slot != n.slot else { continue }
                    add(signed ? .update : .refresh, origins.key(entries[i].origin), r, to: &packer)
                }
                if retractions > 0 {
                    for a in adverts where a.kind == .retraction { packer.add(.retraction(origin: a.key)) }
                }
                n.wantsFullDump = false
                n.wantsPeriodicDump = false
            } else {
                if sendSelf { packer.add(selfUpdate) }
                for a in adverts {
                    // Split horizon with poisoned reverse: the next hop hears a retraction.
                    if a.kind == .retraction || a.nextHop == n.slot {
                        packer.add(.retraction(origin: a.key))
                    } else {
                        add(a.kind, a.key, a.route, to: &packer)
                    }
                }
            }
            neighbours[key] = n
            for m in packer.finish() {
                guard outgoing.count < config.maxQueuedMessages else { stats.droppedQueueFull += 1; continue }
                stats.messagesSent += 1
                stats.bytesSent += m.count
                outgoing.append((key, m))
            }
        }
        defer { outgoing.removeAll(keepingCapacity: true) }
        return outgoing
    }

    /// Writes an update (with the signature, straight from the directory) or a refresh for
    /// route `r` of origin `key`.
    private func add(_ kind: RoutingTLV.Kind, _ key: PublicKey, _ r: NeighbourRoute, to packer: inout MessagePacker) {
        if kind == .update {
            packer.make(room: RoutingTLV.updateSize)
            RoutingTLV.encodeUpdateHeader(into: &packer.current, origin: key, seqno: r.seqno,
                                          flags: origins.flags(ofSignature: r.signature), metric: routeMetric(r))
            origins.appendSignature(r.signature, to: &packer.current)
        } else {
            packer.add(.refresh(origin: key, seqno: r.seqno, metric: routeMetric(r)))
        }
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
        guard OverlayAddress.isOverlay(address) else { return nil }
        let tag = OverlayAddress.lookupTag(for: address)
        guard let id = origins.origin(forTag: tag), Int(id) < entryOfOrigin.count else { return nil }
        let idx = Int(entryOfOrigin[Int(id)])
        guard idx >= 0, OriginEntry.owns(address, address: origins.address(id)), let r = selectedRoute(idx),
              let hop = slotKeys[Int(r.slot)] else { return nil }
        return (origins.key(id), hop)
    }

    private func setSelected(_ i: Int, _ value: Int16) {
        let was = entries[i].selected >= 0, now = value >= 0
        if was != now { reachableCount += now ? 1 : -1 }
        entries[i].selected = Int8(value)
    }

    /// Origins known, reachable or not.
    public var originCount: Int { liveEntries }

    /// Selected route metric toward `destination`, nil if unreachable.
    public func metric(to destination: PublicKey) -> UInt16? {
        guard let idx = entryIndex(destination), let r = selectedRoute(Int(idx)) else { return nil }
        return routeMetric(r)
    }

    /// Heap use of this router's own tables (entries, route pool, index); keys and signatures
    /// are in the `OriginDirectory` (`origins.estimatedMemoryBytes`).
    public var estimatedMemoryBytes: Int {
        entries.count * MemoryLayout<OriginEntry>.stride + routePool.count * MemoryLayout<NeighbourRoute>.stride
            + entryOfOrigin.count * MemoryLayout<Int32>.stride
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
