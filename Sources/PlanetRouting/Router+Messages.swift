import PlanetCore

// Routing messages (babeld's message.c): a received message is validated and its TLVs
// dispatched; on drain, each neighbour's queued TLVs, dumps and triggered updates are packed
// into messages of at most `maxMessageBytes` (the codec itself is RoutingMessage.swift).

extension Router {
    /// `message` is everything after the 0x10 inner-frame byte.
    public func receive(_ message: [UInt8], from neighbour: PublicKey, now: Instant) {
        stats.messagesReceived += 1
        stats.bytesReceived += message.count
        guard var n = neighbours[neighbour] else { stats.drops.count(.fromNonNeighbour); return }
        var unknown = 0
        if RoutingMessage.validate(message, unknown: &unknown) != nil { stats.drops.count(.malformed); return }
        stats.drops.count(.unknownTLV, unknown)
        // Whatever it says may leave it owed something (answers, lists, a dump): the next
        // drain visits it. Its first message also ends the hold on its first dump.
        drainDue.insert(neighbour)
        if !n.heard {
            heardFrom(neighbour)
            n.heard = true
        }
        if config.stub { receiveAsStub(message, from: n, now: now); return }
        var summaries: [(first: Int, buckets: [RoutingTLV.SummaryBucket])] = []
        RoutingMessage.forEach(message) { t in
            switch t.kind {
            case .update:
                if refusedFromStub(n.key, origin: t.origin!) { return }
                let signature = t.signature(in: message)
                if needsVerification(origin: t.origin!, seqno: t.seqno, flags: t.flags, signature: signature) {
                    deferUpdate(n, origin: t.origin!, seqno: t.seqno, flags: t.flags, metric: t.metric, signature: signature, now: now)
                } else {
                    handleUpdate(n, origin: t.origin!, seqno: t.seqno, flags: t.flags, metric: t.metric, signature: signature, now: now)
                }
            case .refresh:
                if refusedFromStub(n.key, origin: t.origin!) { return }
                handleUpdate(n, origin: t.origin!, seqno: t.seqno, flags: 0, metric: t.metric, signature: nil, now: now)
            case .retraction:
                if let idx = entryIndex(t.origin!) {
                    setBit(&declinedFrom, slot: n.slot, Int(idx), false)
                    removeRoute(idx, slot: n.slot); reselect(idx, now: now)
                }
            case .routeRequest:
                handleRouteRequest(n, origin: t.origin)
            case .seqnoRequest:
                handleSeqnoRequest(n, origin: t.origin!, seqno: t.seqno, hopCount: t.hopCount, now: now)
            case .stubHello:
                markStub(n.key, now: now)
            case .originQuery:
                handleOriginQuery(n.key, address: t.address, now: now)
            case .originAnswer, .originUnknown:
                // Answers are for stubs, which ask; we asked nothing.
                stats.drops.count(.unsolicitedAnswer)
            case .summary, .rangeList, .prefixRetraction:
                // Without reconciliation these are what they are to an older router: unknown.
                guard config.reconcilesByDigest else { stats.drops.count(.unknownTLV); return }
                switch t.kind {
                case .summary:
                    neighbours[n.key]?.reconciles = true
                    if t.count > 0 { summaries.append((Int(t.first), t.summaryBuckets(in: message))) }
                case .rangeList:
                    handleRangeList(n, low: t.low, high: t.high, entries: t.rangeEntries(in: message))
                default:
                    handlePrefixRetraction(n, prefix: t.low, now: now)
                }
            }
        }
        // One pass over the table for all the summary parts of a message.
        if !summaries.isEmpty { handleSummaries(n, summaries, now: now) }
    }

    func trigger(_ idx: Int32) {
        guard !entries[Int(idx)].triggered else { return }
        entries[Int(idx)].triggered = true
        triggeredList.append(idx)
    }

    /// Whether a drain left triggered updates for the next one (only with `maxAdvertsPerDrain`).
    public var hasPendingOutput: Bool { !triggeredList.isEmpty }

    /// Messages to send, each for one neighbour, without the 0x10 frame byte.
    ///
    /// `dumpRoom` says how many bytes of a dump each neighbour may be sent now (everything by
    /// default). Requests, replies and triggered updates always go; a dump (a new neighbour's
    /// full table, the periodic refresh) only as far as the room, the rest in later drains.
    /// A runtime that paces its links passes what the neighbour's queue has room for, so a
    /// table of 10⁵ origins (10 MB, 10 s at 1 MB/s) does not sit in that queue in front of a
    /// seqno request or an update the neighbour needs now (Docs/security.md, "Fair shares").
    public func drainOutgoing(dumpRoom: (PublicKey) -> Int = { _ in .max }) -> [(to: PublicKey, message: [UInt8])] {
        /// A triggered advertisement: what to tell every neighbour but the route's next hop.
        struct Advert { let index: Int; let key: PublicKey; let kind: RoutingTLV.Kind; let route: NeighbourRoute; let nextHop: UInt16 }
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
        for idx in triggered {
            let i = Int(idx)
            entries[i].triggered = false
            guard entries[i].live else { continue }
            // Everyone hears the change, and each neighbour decides afresh whether it declines it.
            for s in declinedBy.indices { declinedBy[s].remove(i) }
            let key = origins.key(entries[i].origin)
            if let r = selectedRoute(i) {
                let signed = !entries[i].everAdvertised || entries[i].advertisedSeqno != r.seqno
                entries[i].everAdvertised = true
                entries[i].advertisedSeqno = r.seqno
                entries[i].advertisedMetric = routeMetric(r)
                entries[i].advertisedSlot = r.slot
                adverts.append(Advert(index: i, key: key, kind: signed ? .update : .refresh, route: r, nextHop: r.slot))
            } else {
                entries[i].advertisedMetric = RouteMetric.infinity
                entries[i].advertisedSlot = .max
                adverts.append(Advert(index: i, key: key, kind: .retraction, route: .empty, nextHop: .max))
            }
        }
        let selfUpdate = self.selfUpdate
        let sendSelf = selfTriggered && config.advertisesSelf
        selfTriggered = false

        // Every non-stub neighbour hears triggered updates; otherwise only those with work.
        let visit = adverts.isEmpty && !sendSelf ? drainDue : drainDue.union(routerNeighbours)
        drainDue.removeAll(keepingCapacity: true)
        for key in visit.sorted() {
            guard var n = neighbours[key] else { continue }
            var packer = MessagePacker(limit: config.maxMessageBytes)
            for tlv in n.pending { packer.add(tlv) }
            n.pending.removeAll()
            // A stub gets answers and nothing else: no dumps, summaries or anyone's changes.
            if n.isStub {
                neighbours[key] = n
                emit(packer.finish(), to: key)
                continue
            }
            // Its first dump waits until it has said what it is (`heard`, Router+Due.swift).
            let held = !n.heard && n.dumpCursor == nil
            // A summary is 256 buckets (3.1 kB) whatever the table; below `summaryMinRoutes`
            // routes the dump it replaces is smaller, and goes instead. While a dump is still
            // under way the summary waits for its end: it would show the buckets not yet sent
            // as differing, and their lists would fetch those routes a second time.
            var summary: BucketDigests?
            if n.wantsSummary && n.dumpCursor == nil {
                let d = advertisedDigests(to: n)
                if Int(d.counts.reduce(0, +)) < config.summaryMinRoutes {
                    n.wantsSummary = false
                    n.wantsPeriodicDump = true
                } else {
                    summary = d
                }
            }
            var selfSent = false
            if !held && (n.wantsFullDump || n.wantsPeriodicDump) {
                // A dump starts from the first entry; one under way starts again only when a
                // full dump asks for the signatures a periodic one leaves out.
                if n.dumpCursor == nil || (n.wantsFullDump && !n.dumpSigned) {
                    n.dumpCursor = 0
                    n.dumpSigned = n.wantsFullDump
                    if config.advertisesSelf { packer.add(selfUpdate); selfSent = true }
                }
                n.wantsFullDump = false
                n.wantsPeriodicDump = false
            }
            // A neighbour not heard yet gets all of it with its first dump (`held`), changes too.
            if sendSelf && !selfSent && !held { packer.add(selfUpdate) }
            // The dump's slice for this drain, `sliced`, written from the table as it is now.
            var sliced = 0..<0
            if let start = n.dumpCursor {
                let room = dumpRoom(key)
                let signed = n.dumpSigned
                var i = start
                while i < entries.count && packer.byteCount < room {
                    if entries[i].live && entries[i].selected >= 0 {
                        let r = routePool[i * routeSlots + Int(entries[i].selected)]
                        if r.slot != n.slot {
                            // A new neighbour is told what every neighbour holds (what we last
                            // advertised, unless a trigger is waiting), so digests agree afterwards.
                            if signed, config.reconcilesByDigest, !entries[i].triggered, entries[i].everAdvertised,
                               entries[i].advertisedSeqno == r.seqno, entries[i].advertisedSlot == r.slot,
                               entries[i].advertisedMetric != RouteMetric.infinity {
                                add(.update, origins.key(entries[i].origin), r, metric: entries[i].advertisedMetric, to: &packer)
                            } else {
                                add(signed ? .update : .refresh, origins.key(entries[i].origin), r, to: &packer)
                            }
                        }
                    }
                    i += 1
                }
                sliced = start..<i
                n.dumpCursor = i < entries.count ? i : nil
            }
            for a in adverts where !held {
                if sliced.contains(a.index) {
                    // The slice carries the route as it is; what it cannot say is that it is gone.
                    if a.kind == .retraction { packer.add(.retraction(origin: a.key)) }
                } else if a.kind == .retraction || a.nextHop == n.slot {
                    // Split horizon with poisoned reverse: the next hop hears a retraction.
                    packer.add(.retraction(origin: a.key))
                } else {
                    add(a.kind, a.key, a.route, to: &packer)
                }
            }
            if config.reconcilesByDigest {
                // After everything else, so the summary covers what this drain just sent.
                addOwed(for: &n, to: &packer)
                addRangeLists(for: &n, to: &packer)
                if let summary {
                    addSummary(summary, to: &packer)
                    n.wantsSummary = false
                }
            }
            neighbours[key] = n
            if n.hasDrainWork { drainDue.insert(key) }
            emit(packer.finish(), to: key)
        }
        defer { outgoing.removeAll(keepingCapacity: true) }
        return outgoing
    }

    func emit(_ messages: [[UInt8]], to key: PublicKey) {
        for m in messages {
            guard outgoing.count < config.maxQueuedMessages else { stats.drops.count(.queueFull); continue }
            stats.messagesSent += 1
            stats.bytesSent += m.count
            outgoing.append((key, m))
        }
    }

    /// Writes an update (with the signature, straight from the directory) or a refresh for
    /// route `r` of origin `key`.
    /// `metric` overrides the route's metric now (reconciliation sends what was advertised).
    func add(_ kind: RoutingTLV.Kind, _ key: PublicKey, _ r: NeighbourRoute, metric: UInt16? = nil, to packer: inout MessagePacker) {
        let m = metric ?? routeMetric(r)
        if kind == .update {
            packer.make(room: RoutingTLV.updateSize)
            RoutingTLV.encodeUpdateHeader(into: &packer.current, origin: key, seqno: r.seqno,
                                          flags: origins.flags(ofSignature: r.signature), metric: m)
            origins.appendSignature(r.signature, to: &packer.current)
        } else {
            packer.add(.refresh(origin: key, seqno: r.seqno, metric: m))
        }
    }
}
