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

    private let verifier: SignatureVerifier
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
    private var freeSlots: [UInt16] = []

    private var originIndex: [PublicKey: Int32] = [:]
    private var entries: [OriginEntry] = []
    private var freeEntries: [Int32] = []
    private var tagIndex: [UInt64: PublicKey] = [:]
    private var triggeredList: [Int32] = []
    /// Origins with a selected route, kept current so simulators can poll it cheaply.
    public private(set) var reachableCount = 0

    struct RequestKey: Hashable { let origin: PublicKey; let seqno: UInt32 }
    private var recentRequests: [RequestKey: UInt32] = [:]

    private var nextSweep: Instant
    private var outgoing: [(to: PublicKey, message: [UInt8])] = []

    public init(identity: NodeIdentity, config: RouterConfig = .init(), verifier: SignatureVerifier = CachingSignatureVerifier(),
                logger: Logger = .disabled, now: Instant, random: SplitMix64, seqno: UInt32 = 0) {
        self.identity = identity
        self.config = config
        self.verifier = verifier
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

    // MARK: - Neighbours

    public func neighbourUp(_ key: PublicKey, cost: UInt16, now: Instant) {
        if neighbours[key] != nil { neighbourCost(key, cost: cost, now: now); return }
        guard key != identity.publicKey else { return }
        guard neighbours.count < config.maxNeighbours else { stats.droppedNeighbourTableFull += 1; return }
        let slot: UInt16
        if let s = freeSlots.popLast() { slot = s; slotKeys[Int(s)] = key } else { slot = UInt16(slotKeys.count); slotKeys.append(key) }
        var n = Neighbour(key: key, slot: slot, cost: max(1, min(cost, RouteMetric.infinity - 1)), nextDump: jitteredDump(now))
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
        for i in entries.indices where entries[i].live {
            var touched = false
            for j in entries[i].routes.indices where entries[i].routes[j].slot == n.slot {
                let r = entries[i].routes[j]
                entries[i].routes[j].metric = RouteMetric.adding(r.advertisedMetric, c)
                touched = true
            }
            if touched { reselect(Int32(i), now: now) }
        }
    }

    public func neighbourDown(_ key: PublicKey, now: Instant) {
        guard let n = neighbours.removeValue(forKey: key) else { return }
        for i in entries.indices where entries[i].live {
            if entries[i].routes.contains(where: { $0.slot == n.slot }) {
                removeRoute(Int32(i), slot: n.slot)
                reselect(Int32(i), now: now)
            }
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
        let tlvs: [RoutingTLV]
        switch RoutingMessage.decode(message, unknown: &unknown) {
        case .success(let t): tlvs = t
        case .failure: stats.droppedMalformed += 1; return
        }
        stats.droppedUnknownTLV += unknown
        for tlv in tlvs {
            switch tlv {
            case let .update(origin, seqno, flags, metric, signature):
                handleUpdate(n, origin: origin, seqno: seqno, flags: flags, metric: metric, signature: signature, now: now)
            case let .refresh(origin, seqno, metric):
                handleUpdate(n, origin: origin, seqno: seqno, flags: 0, metric: metric, signature: nil, now: now)
            case let .retraction(origin):
                if let idx = originIndex[origin] { removeRoute(idx, slot: n.slot); reselect(idx, now: now) }
            case let .routeRequest(origin):
                handleRouteRequest(n, origin: origin)
            case let .seqnoRequest(origin, seqno, hops):
                handleSeqnoRequest(n, origin: origin, seqno: seqno, hopCount: hops, now: now)
            }
        }
    }

    private func handleUpdate(_ n: Neighbour, origin: PublicKey, seqno: UInt32, flags: UInt8, metric: UInt16,
                              signature: [UInt8]?, now: Instant) {
        if origin == identity.publicKey {
            // Our own route coming back around a cycle is normal. A verified seqno newer than
            // ours means an earlier run of this node got further than we remember: jump past
            // it. (Equal seqnos sign identical bytes: ed25519 is deterministic.)
            guard let signature else { return }
            guard SequenceNumber.isNewer(seqno, than: selfSeqno) else { return }
            guard verifier.verified(origin: origin, seqno: seqno, flags: flags, signature: signature[...]) != nil else {
                stats.droppedBadSignature += 1; return
            }
            setSelfSeqno(seqno &+ 1)
            return
        }
        let existing = originIndex[origin]
        var sig: [UInt8]
        var sigFlags = flags
        if let signature {
            if let idx = existing, let known = entries[Int(idx)].knownSignature(seqno: seqno), known.flags == flags, known.signature == signature {
                sig = known.signature
            } else {
                stats.signaturesVerified += 1
                guard let v = verifier.verified(origin: origin, seqno: seqno, flags: flags, signature: signature[...]) else {
                    stats.droppedBadSignature += 1; return
                }
                sig = v
            }
        } else {
            guard let idx = existing, let known = entries[Int(idx)].knownSignature(seqno: seqno) else {
                // We never saw this seqno signed: ask this neighbour for the signed version.
                stats.droppedUnverifiedRefresh += 1
                if metric != RouteMetric.infinity { queue(.routeRequest(origin: origin), to: n.key) }
                return
            }
            sig = known.signature
            sigFlags = known.flags
        }
        if metric == RouteMetric.infinity {
            if let idx = existing { removeRoute(idx, slot: n.slot); reselect(idx, now: now) }
            return
        }
        let idx: Int32
        if let e = existing {
            idx = e
        } else {
            guard let created = createEntry(origin, seqno: seqno, flags: sigFlags, signature: sig) else { return }
            idx = created
        }
        stats.updatesAccepted += 1
        let i = Int(idx)
        if SequenceNumber.isNewer(seqno, than: entries[i].seqno) {
            entries[i].seqno = seqno
            entries[i].flags = sigFlags
            entries[i].signature = sig
        }
        let route = NeighbourRoute(slot: n.slot, advertisedMetric: metric, metric: RouteMetric.adding(metric, n.cost),
                                   flags: sigFlags, seqno: seqno, expires: stamp(now) &+ deciseconds(config.routeHoldTime),
                                   signature: sig)
        if let j = entries[i].routes.firstIndex(where: { $0.slot == n.slot }) {
            entries[i].routes[j] = route
        } else if entries[i].routes.count < config.maxRoutesPerOrigin {
            entries[i].routes.append(route)
        } else {
            // Full: replace the worst unselected candidate if this one is better.
            var worst = -1
            for (j, r) in entries[i].routes.enumerated() where Int16(j) != entries[i].selected {
                if worst < 0 || r.metric > entries[i].routes[worst].metric { worst = j }
            }
            guard worst >= 0, entries[i].routes[worst].metric > route.metric else { stats.droppedRouteSlotsFull += 1; return }
            entries[i].routes[worst] = route
        }
        reselect(idx, now: now)
    }

    private func handleRouteRequest(_ n: Neighbour, origin: PublicKey?) {
        guard let origin else {
            neighbours[n.key]?.wantsFullDump = true
            return
        }
        if origin == identity.publicKey {
            queue(.update(origin: origin, seqno: selfSeqno, flags: selfFlags, metric: 0, signature: selfSignature), to: n.key)
        } else if let idx = originIndex[origin], let r = entries[Int(idx)].selectedRoute, r.slot != n.slot {
            queue(.update(origin: origin, seqno: r.seqno, flags: r.flags, metric: r.metric, signature: r.signature), to: n.key)
        } else {
            queue(.retraction(origin: origin), to: n.key)
        }
    }

    private func handleSeqnoRequest(_ n: Neighbour, origin: PublicKey, seqno: UInt32, hopCount: UInt8, now: Instant) {
        if origin == identity.publicKey {
            if SequenceNumber.isNewer(seqno, than: selfSeqno) { setSelfSeqno(seqno) }
            queue(.update(origin: origin, seqno: selfSeqno, flags: selfFlags, metric: 0, signature: selfSignature), to: n.key)
            return
        }
        guard let idx = originIndex[origin] else { return }
        let e = entries[Int(idx)]
        if let r = e.selectedRoute, SequenceNumber.isAtLeast(r.seqno, seqno) {
            queue(.update(origin: origin, seqno: r.seqno, flags: r.flags, metric: r.metric, signature: r.signature), to: n.key)
            return
        }
        guard hopCount > 1 else { return }
        // Forward toward the origin: our selected next hop, else the best unfeasible offer.
        var target: UInt16?
        if let r = e.selectedRoute, r.slot != n.slot { target = r.slot }
        if target == nil {
            target = e.routes.filter { $0.slot != n.slot && $0.metric != RouteMetric.infinity }.min { $0.metric < $1.metric }?.slot
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

    private func createEntry(_ origin: PublicKey, seqno: UInt32, flags: UInt8, signature: [UInt8]) -> Int32? {
        guard originIndex.count < config.maxOrigins else { stats.droppedOriginTableFull += 1; return nil }
        let entry = OriginEntry(key: origin, seqno: seqno, flags: flags, signature: signature)
        let idx: Int32
        if let f = freeEntries.popLast() { idx = f; entries[Int(f)] = entry } else { idx = Int32(entries.count); entries.append(entry) }
        originIndex[origin] = idx
        let tag = OverlayAddress.lookupTag(for: entry.address)
        // First key to claim a tag keeps it; a colliding key needs ~2^48 work to make and is
        // then still checked against the full address in `route(forAddress:)`.
        if tagIndex[tag] == nil { tagIndex[tag] = origin }
        return idx
    }

    private func freeEntry(_ idx: Int32) {
        let e = entries[Int(idx)]
        originIndex[e.key] = nil
        let tag = OverlayAddress.lookupTag(for: e.address)
        if tagIndex[tag] == e.key { tagIndex[tag] = nil }
        setSelected(Int(idx), -1)
        entries[Int(idx)].live = false
        entries[Int(idx)].routes = []
        entries[Int(idx)].signature = []
        freeEntries.append(idx)
    }

    private func removeRoute(_ idx: Int32, slot: UInt16) {
        let i = Int(idx)
        guard let j = entries[i].routes.firstIndex(where: { $0.slot == slot }) else { return }
        let selectedSlot = entries[i].selectedRoute?.slot
        entries[i].routes.remove(at: j)
        setSelected(i, -1)
        if let s = selectedSlot, let k = entries[i].routes.firstIndex(where: { $0.slot == s }) { setSelected(i, Int16(k)) }
    }

    /// Picks the best feasible route, keeping the current one unless the new one is better
    /// by the hysteresis, updates the feasibility distance, and decides whether the change
    /// is worth a triggered update.
    private func reselect(_ idx: Int32, now: Instant) {
        let i = Int(idx)
        let current = Int(entries[i].selected)
        var best = -1
        for (j, r) in entries[i].routes.enumerated() where r.metric != RouteMetric.infinity {
            guard entries[i].isFeasible(seqno: r.seqno, metric: r.advertisedMetric) else { continue }
            if best < 0 || r.metric < entries[i].routes[best].metric || (r.metric == entries[i].routes[best].metric && j == current) {
                best = j
            }
        }
        if current >= 0, best >= 0, best != current {
            let c = entries[i].routes[current]
            if c.metric != RouteMetric.infinity, entries[i].isFeasible(seqno: c.seqno, metric: c.advertisedMetric),
               c.seqno == entries[i].routes[best].seqno,
               UInt32(entries[i].routes[best].metric) + UInt32(config.switchHysteresis) > UInt32(c.metric) {
                best = current
            }
        }
        setSelected(i, Int16(best))
        let t = stamp(now)
        if best >= 0 {
            let r = entries[i].routes[best]
            if !entries[i].hasFeasibilityDistance || SequenceNumber.isNewer(r.seqno, than: entries[i].fdSeqno) {
                entries[i].hasFeasibilityDistance = true
                entries[i].fdSeqno = r.seqno
                entries[i].fdMetric = r.metric
            } else if r.seqno == entries[i].fdSeqno && r.metric < entries[i].fdMetric {
                entries[i].fdMetric = r.metric
            }
            let e = entries[i]
            let adv = e.advertisedMetric
            let delta = adv > r.metric ? adv - r.metric : r.metric - adv
            if !e.everAdvertised || adv == RouteMetric.infinity || e.advertisedSeqno != r.seqno || e.advertisedSlot != r.slot
                || delta > max(config.triggerMetricDelta, adv / 8) {
                trigger(idx)
            }
        } else {
            if entries[i].everAdvertised && entries[i].advertisedMetric != RouteMetric.infinity { trigger(idx) }
            if entries[i].routes.isEmpty {
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
        let key = entries[i].key
        let offers = entries[i].routes.filter { $0.metric != RouteMetric.infinity }.sorted { $0.metric < $1.metric }.prefix(2)
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
            let before = entries[i].routes.count
            if entries[i].routes.contains(where: { Int32(bitPattern: $0.expires &- t) <= 0 }) {
                let sel = entries[i].selectedRoute?.slot
                entries[i].routes.removeAll { Int32(bitPattern: $0.expires &- t) <= 0 }
                setSelected(i, -1)
                if let s = sel, let k = entries[i].routes.firstIndex(where: { $0.slot == s }) { setSelected(i, Int16(k)) }
            }
            if entries[i].routes.count != before || (entries[i].selected < 0 && !entries[i].routes.isEmpty) {
                reselect(Int32(i), now: now)
            }
            if entries[i].routes.isEmpty, entries[i].lostAt != 0,
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

    /// Messages to send, each for one neighbour, without the 0x10 frame byte.
    public func drainOutgoing() -> [(to: PublicKey, message: [UInt8])] {
        let triggered = triggeredList
        triggeredList.removeAll(keepingCapacity: true)
        var adverts: [(idx: Int32, tlv: RoutingTLV, nextHop: UInt16)] = []
        adverts.reserveCapacity(triggered.count)
        for idx in triggered {
            let i = Int(idx)
            entries[i].triggered = false
            guard entries[i].live else { continue }
            if let r = entries[i].selectedRoute {
                let signed = !entries[i].everAdvertised || entries[i].advertisedSeqno != r.seqno
                let tlv: RoutingTLV = signed
                    ? .update(origin: entries[i].key, seqno: r.seqno, flags: r.flags, metric: r.metric, signature: r.signature)
                    : .refresh(origin: entries[i].key, seqno: r.seqno, metric: r.metric)
                entries[i].everAdvertised = true
                entries[i].advertisedSeqno = r.seqno
                entries[i].advertisedMetric = r.metric
                entries[i].advertisedSlot = r.slot
                adverts.append((idx, tlv, r.slot))
            } else {
                entries[i].advertisedMetric = RouteMetric.infinity
                entries[i].advertisedSlot = .max
                adverts.append((idx, .retraction(origin: entries[i].key), .max))
            }
        }
        let selfUpdate = RoutingTLV.update(origin: identity.publicKey, seqno: selfSeqno, flags: selfFlags, metric: 0, signature: selfSignature)
        let sendSelf = selfTriggered
        selfTriggered = false

        for key in neighbours.keys.sorted() {
            guard var n = neighbours[key] else { continue }
            var packer = MessagePacker(limit: config.maxMessageBytes)
            for tlv in n.pending { packer.add(tlv) }
            n.pending.removeAll()
            if n.wantsFullDump || n.wantsPeriodicDump {
                let signed = n.wantsFullDump
                packer.add(selfUpdate)
                for i in entries.indices where entries[i].live && entries[i].selected >= 0 {
                    let sel = Int(entries[i].selected)
                    guard entries[i].routes[sel].slot != n.slot else { continue }
                    let key = entries[i].key, seqno = entries[i].routes[sel].seqno, metric = entries[i].routes[sel].metric
                    packer.add(signed ? .update(origin: key, seqno: seqno, flags: entries[i].routes[sel].flags, metric: metric,
                                                signature: entries[i].routes[sel].signature)
                                      : .refresh(origin: key, seqno: seqno, metric: metric))
                }
                for a in adverts { if case .retraction = a.tlv { packer.add(a.tlv) } }
                n.wantsFullDump = false
                n.wantsPeriodicDump = false
            } else {
                if sendSelf { packer.add(selfUpdate) }
                for a in adverts {
                    // Split horizon with poisoned reverse: the next hop hears a retraction.
                    packer.add(a.nextHop == n.slot ? .retraction(origin: entries[Int(a.idx)].key) : a.tlv)
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

    // MARK: - Lookups

    public func nextHop(to destination: PublicKey) -> PublicKey? {
        guard let idx = originIndex[destination], let r = entries[Int(idx)].selectedRoute else { return nil }
        return slotKeys[Int(r.slot)]
    }

    /// The origin owning `address` (its 200::/7 address or an address in its 300::/64) and the
    /// neighbour to forward to. nil for our own address and subnet (the node delivers those
    /// locally) and for anything unreachable or outside the overlay.
    public func route(forAddress address: IPv6Address) -> (destination: PublicKey, nextHop: PublicKey)? {
        guard OverlayAddress.isOverlay(address) else { return nil }
        let tag = OverlayAddress.lookupTag(for: address)
        guard let key = tagIndex[tag], let idx = originIndex[key] else { return nil }
        let e = entries[Int(idx)]
        guard e.owns(address), let r = e.selectedRoute, let hop = slotKeys[Int(r.slot)] else { return nil }
        return (key, hop)
    }

    private func setSelected(_ i: Int, _ value: Int16) {
        let was = entries[i].selected >= 0, now = value >= 0
        if was != now { reachableCount += now ? 1 : -1 }
        entries[i].selected = value
    }

    /// Origins known, reachable or not.
    public var originCount: Int { originIndex.count }

    /// Selected route metric toward `destination`, nil if unreachable.
    public func metric(to destination: PublicKey) -> UInt16? {
        guard let idx = originIndex[destination] else { return nil }
        return entries[Int(idx)].selectedRoute?.metric
    }

    /// Rough heap use of the routing tables, for planetsim's memory estimate.
    public var estimatedMemoryBytes: Int {
        var b = MemoryLayout<OriginEntry>.stride * entries.count + originIndex.count * 64 + tagIndex.count * 48
        for e in entries where e.live { b += 32 + e.routes.count * MemoryLayout<NeighbourRoute>.stride }
        return b
    }

    public func routes() -> [RouteInfo] {
        var out: [RouteInfo] = []
        for e in entries where e.live {
            let sel = e.selectedRoute
            let cands = e.routes.enumerated().compactMap { (j, r) -> RouteInfo.Candidate? in
                guard let k = slotKeys[Int(r.slot)] else { return nil }
                return .init(neighbour: k, metric: r.metric, seqno: r.seqno, feasible: e.isFeasible(seqno: r.seqno, metric: r.advertisedMetric),
                             selected: Int16(j) == e.selected)
            }
            out.append(RouteInfo(origin: e.key, address: e.address, subnet: e.key.subnet,
                                 nextHop: sel.flatMap { slotKeys[Int($0.slot)] }, metric: sel?.metric ?? RouteMetric.infinity,
                                 seqno: sel?.seqno ?? e.seqno,
                                 feasibilityDistance: e.hasFeasibilityDistance ? (e.fdSeqno, e.fdMetric) : nil, candidates: cands))
        }
        return out.sorted { $0.origin < $1.origin }
    }
}
