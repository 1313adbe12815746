import PlanetCore

// Reconciliation by digest (Docs/protocol.md, routing, "Reconciliation by digest"; the design:
// Docs/notes-route-digest.md). With a neighbour that reconciles, the periodic dump of every
// route is replaced by a summary of what we advertise to it: per bucket of origin keys
// (`ReconciliationDigest`, the mechanism capacity gossip uses), the count and digest of the
// (origin, seqno, metric) we last advertised, split horizon applied. The neighbour computes
// the same over the routes it holds from us; for a bucket that differs it sends us its range
// lists ((key prefix, seqno, metric) of those routes), and we answer with exactly the routes
// that differ (signed when its seqno differs, else a refresh) and prefix retractions for what
// it holds and we do not advertise. A summary also proves the routes it covers are still
// advertised: it refreshes their hold time as a dump did.
//
// What "advertised" means is the router's own record of what it last sent every neighbour
// (`OriginEntry.advertised*`): a metric change too small to trigger an update is not part of
// it, so metric drift never makes digests differ. Such drift is sent as refreshes once per
// `dumpInterval` (`sendDrift`), which is what the periodic dump did for it.

/// One bit per origin entry (by entry index), grown on demand: which entries a neighbour
/// offered and we refused, or refused from us (`Router.declinedFrom`, `declinedBy`).
struct EntryBits {
    private(set) var words: [UInt64] = []

    @inline(__always)
    func contains(_ i: Int) -> Bool { i >> 6 < words.count && words[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    mutating func insert(_ i: Int) {
        if i >> 6 >= words.count { words.append(contentsOf: repeatElement(0, count: (i >> 6) + 1 - words.count)) }
        words[i >> 6] |= 1 << UInt64(i & 63)
    }

    mutating func remove(_ i: Int) { if i >> 6 < words.count { words[i >> 6] &= ~(1 << UInt64(i & 63)) } }

    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
}

extension Router {
    // MARK: - Declined offers
    //
    // A router keeps `maxRoutesPerOrigin` routes per origin; an offer worse than all of them is
    // refused (`route-slots-full`), so a node with more neighbours than slots holds less from
    // some neighbour than it advertises, for good. Without more, every summary would show those
    // buckets differ and every answer resend the refused routes. Instead the range list marks a
    // refused offer (metric 0xFFFF, "declined"), and the advertiser leaves it out of that
    // neighbour's digests until the route changes (a triggered update goes to everyone anyway)
    // or the neighbour lists it as held. When a slot frees, the refuser asks the neighbours
    // it refused for their route (a route request), which the periodic dump used to re-offer.

    func setBit(_ table: inout [EntryBits], slot: UInt16, _ i: Int, _ on: Bool) {
        if Int(slot) >= table.count {
            guard on else { return }
            table.append(contentsOf: repeatElement(EntryBits(), count: Int(slot) + 1 - table.count))
        }
        if on { table[Int(slot)].insert(i) } else { table[Int(slot)].remove(i) }
    }

    @inline(__always)
    func bit(_ table: [EntryBits], slot: UInt16, _ i: Int) -> Bool { Int(slot) < table.count && table[Int(slot)].contains(i) }

    /// Entry `i` is new (or reused): nobody declined anything about it yet.
    func clearDeclines(_ i: Int) {
        for s in declinedFrom.indices { declinedFrom[s].remove(i) }
        for s in declinedBy.indices { declinedBy[s].remove(i) }
    }

    /// Entry `i` lost a route: ask the neighbours whose offer we refused for it again.
    func askDecliners(_ i: Int) {
        guard config.reconcilesByDigest else { return }
        for s in declinedFrom.indices where declinedFrom[s].contains(i) {
            declinedFrom[s].remove(i)
            if let key = slotKeys[s] { queue(.routeRequest(origin: origins.key(entries[i].origin)), to: key) }
        }
    }

    /// Our advertisement of entry `i` to neighbour slot `slot`, as the neighbour should hold it,
    /// or nil if we advertise it nothing. Entries waiting to be triggered count with what was
    /// last sent (that is what neighbours hold until the drain).
    @inline(__always)
    func advertised(_ i: Int, to slot: UInt16, neighbourKey: PublicKey) -> (seqno: UInt32, metric: UInt16)? {
        let e = entries[i]
        guard e.live, e.everAdvertised, e.advertisedMetric != RouteMetric.infinity, e.advertisedSlot != slot,
              origins.key(e.origin) != neighbourKey else { return nil }
        // What it declined is not what it holds.
        if bit(declinedBy, slot: slot, i) { return nil }
        return (e.advertisedSeqno, e.advertisedMetric)
    }

    /// The metric we last advertised for entry `i`, if its selected route is still the one
    /// advertised and no trigger is pending (else nil: the route as it is now goes).
    func settledMetric(_ i: Int) -> UInt16? {
        let e = entries[i]
        guard config.reconcilesByDigest, !e.triggered, e.everAdvertised, e.advertisedMetric != RouteMetric.infinity,
              let r = selectedRoute(i), r.seqno == e.advertisedSeqno, r.slot == e.advertisedSlot else { return nil }
        return e.advertisedMetric
    }

    /// The digests of everything we advertise to neighbour `n` now (our own route included).
    func advertisedDigests(to n: Neighbour) -> BucketDigests {
        var d = BucketDigests()
        if config.advertisesSelf {
            d.add(identity.publicKey, version: ReconciliationDigest.routeVersion(seqno: selfSeqno, metric: 0))
        }
        for i in entries.indices {
            guard let a = advertised(i, to: n.slot, neighbourKey: n.key) else { continue }
            d.add(origins.key(entries[i].origin), version: ReconciliationDigest.routeVersion(seqno: a.seqno, metric: a.metric))
        }
        return d
    }

    /// A summary of `d` (what we advertise to one neighbour): 256 buckets in 13 TLVs.
    func addSummary(_ d: BucketDigests, to packer: inout MessagePacker) {
        var first = 0
        while first < ReconciliationDigest.bucketCount {
            let count = min(RoutingTLV.bucketsPerSummary, ReconciliationDigest.bucketCount - first)
            let buckets = (first..<(first + count)).map { RoutingTLV.SummaryBucket(count: d.counts[$0], digest: d.digests[$0]) }
            packer.add(.summary(first: UInt8(first), buckets: buckets))
            first += count
        }
        stats.summariesSent += 1
    }

    // MARK: - Receiving a summary

    /// The summary TLVs of one message from `n`: one pass over our routes from it computes the
    /// same digests for the buckets they cover, refreshes those routes' hold time (the
    /// neighbour is alive and still advertising), and marks the buckets that differ for a range list.
    func handleSummaries(_ n: Neighbour, _ parts: [(first: Int, buckets: [RoutingTLV.SummaryBucket])], now: Instant) {
        let t = stamp(now)
        let minGap = deciseconds(config.summaryMinInterval)
        var compared = neighbours[n.key]?.compared ?? []
        if compared.isEmpty { compared = [UInt32](repeating: 0, count: ReconciliationDigest.bucketCount) }
        // Buckets this message covers and may compare now.
        var covered = [Bool](repeating: false, count: ReconciliationDigest.bucketCount)
        var theirs = [RoutingTLV.SummaryBucket?](repeating: nil, count: ReconciliationDigest.bucketCount)
        var any = false
        for (first, buckets) in parts {
            for (k, b) in buckets.enumerated() where compared[first + k] == 0 || t &- compared[first + k] >= minGap {
                covered[first + k] = true
                theirs[first + k] = b
                compared[first + k] = t
                any = true
            }
        }
        neighbours[n.key]?.compared = compared
        guard any else { return }
        var mine = BucketDigests()
        let expires = t &+ deciseconds(config.routeHoldTime)
        for i in entries.indices where entries[i].live {
            guard let j = routeIndex(i, slot: n.slot) else { continue }
            let key = origins.key(entries[i].origin)
            let b = ReconciliationDigest.bucket(of: key)
            guard covered[b] else { continue }
            let r = routePool[i * routeSlots + j]
            routePool[i * routeSlots + j].expires = expires
            mine.add(key, version: ReconciliationDigest.routeVersion(seqno: r.seqno, metric: r.advertisedMetric))
        }
        // Updates from it still waiting for their check would change what we hold: compare at
        // the next summary rather than ask for what is already here.
        guard backlog.waiting(slot: n.slot) == 0 else { return }
        guard var nb = neighbours[n.key] else { return }
        if nb.differed.isEmpty {
            nb.differed = [UInt64](repeating: 0, count: ReconciliationDigest.bucketCount)
            nb.repeats = [UInt8](repeating: 0, count: ReconciliationDigest.bucketCount)
        }
        for b in 0..<ReconciliationDigest.bucketCount {
            guard let their = theirs[b] else { continue }
            if mine.matches(b, count: their.count, digest: their.digest) { nb.differed[b] = 0; continue }
            stats.bucketsDiffering += 1
            // The same difference as last time (both sides unchanged) is one our list did not
            // settle (declined offers are settled, above; this is what is left: an origin our
            // table refused, a prefix collision). Lists for it go after 1, 2, 4, 8, 16 rounds,
            // then every 16th: a lost answer is retried at once, a lasting difference costs a
            // list per 16 rounds.
            let pair = their.digest ^ (mine.digests[b] &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(their.count) << 40 ^ UInt64(mine.counts[b])
            if nb.differed[b] == pair {
                nb.repeats[b] = nb.repeats[b] == .max ? 16 : nb.repeats[b] + 1
                let r = Int(nb.repeats[b])
                guard r & (r - 1) == 0 || r % 16 == 0 else { continue }
            } else {
                nb.differed[b] = pair
                nb.repeats[b] = 0
            }
            nb.listBuckets[b >> 6] |= 1 << UInt64(b & 63)
        }
        neighbours[n.key] = nb
    }

    /// Appends our range lists for the buckets owed to `n`: per bucket, the (prefix, seqno,
    /// metric) of every route we hold from it, sorted, in parts that together cover the bucket.
    func addRangeLists(for n: inout Neighbour, to packer: inout MessagePacker) {
        for w in 0..<4 where n.listBuckets[w] != 0 {
            for k in 0..<64 where n.listBuckets[w] & (1 << UInt64(k)) != 0 {
                let b = w * 64 + k
                var held: [RoutingTLV.RangeEntry] = []
                forEachEntry(inBucket: b) { i in
                    guard let j = routeIndex(i, slot: n.slot) else {
                        if bit(declinedFrom, slot: n.slot, i) {
                            held.append(.init(prefix: ReconciliationDigest.prefix(of: origins.key(entries[i].origin)), seqno: 0,
                                              metric: RouteMetric.infinity))
                        }
                        return
                    }
                    let r = routePool[i * routeSlots + j]
                    held.append(.init(prefix: ReconciliationDigest.prefix(of: origins.key(entries[i].origin)), seqno: r.seqno,
                                      metric: r.advertisedMetric))
                }
                held.sort { $0.prefix < $1.prefix }
                let range = ReconciliationDigest.prefixes(ofBucket: b)
                var low = range.lowerBound
                var start = 0
                repeat {
                    let end = min(held.count, start + RoutingTLV.entriesPerRangeList)
                    let high = end == held.count ? range.upperBound : held[end - 1].prefix
                    packer.add(.rangeList(low: low, high: high, entries: Array(held[start..<end])))
                    stats.rangeListsSent += 1
                    if high == range.upperBound { break }
                    low = high + 1
                    start = end
                } while true
            }
            n.listBuckets[w] = 0
        }
    }

    // MARK: - Answering a range list

    /// `n` listed what it holds from us in `low ... high`: owe it every route we advertise
    /// there that it lacks or holds differently, and retract every prefix it holds that we
    /// do not advertise. Entries waiting to be triggered are left to the trigger (it goes to
    /// every neighbour anyway).
    func handleRangeList(_ n: Neighbour, low: UInt64, high: UInt64, entries listed: [RoutingTLV.RangeEntry]) {
        guard var nb = neighbours[n.key] else { return }
        var theirs: [UInt64: (seqno: UInt32, metric: UInt16)] = [:]
        theirs.reserveCapacity(listed.count)
        for e in listed { theirs[e.prefix] = (e.seqno, e.metric) }
        // Bounded like every per-neighbour queue: a list can owe at most its bucket.
        let bound = liveEntries + 1 + config.maxPendingRequests
        func owe(_ index: Int32, _ mine: (seqno: UInt32, metric: UInt16), prefix: UInt64) {
            let held = theirs.removeValue(forKey: prefix)
            if let held, held.seqno == mine.seqno, held.metric == mine.metric { return }
            guard nb.owed.count < bound else { stats.drops.count(.queueFull); return }
            nb.owed.append((index, held?.seqno != mine.seqno))
        }
        let me = ReconciliationDigest.prefix(of: identity.publicKey)
        if config.advertisesSelf, me >= low, me <= high {
            // Our own route declined (it holds better ones): nothing to resend.
            if theirs[me]?.metric == RouteMetric.infinity { theirs.removeValue(forKey: me) } else { owe(-1, (selfSeqno, 0), prefix: me) }
        }
        forEachEntry(inBucket: ReconciliationDigest.bucket(ofPrefix: low)) { i in
            let key = origins.key(entries[i].origin)
            let p = ReconciliationDigest.prefix(of: key)
            guard p >= low, p <= high else { return }
            if entries[i].triggered { _ = theirs.removeValue(forKey: p); return }
            // Its word on what it declined: left out of its digests until the route changes.
            // Listed as held, or not listed at all, it declines nothing (any more).
            let declined = theirs[p]?.metric == RouteMetric.infinity
            if declined != bit(declinedBy, slot: n.slot, i) { setBit(&declinedBy, slot: n.slot, i, declined) }
            if declined {
                // Nothing to send; a retraction only if we no longer advertise it at all.
                let e = entries[i]
                if e.everAdvertised, e.advertisedMetric != RouteMetric.infinity, e.advertisedSlot != n.slot { _ = theirs.removeValue(forKey: p) }
                return
            }
            guard let a = advertised(i, to: n.slot, neighbourKey: n.key) else { return }
            owe(Int32(i), a, prefix: p)
        }
        for p in theirs.keys.sorted() {
            guard nb.retractPrefixes.count < bound else { stats.drops.count(.queueFull); break }
            nb.retractPrefixes.append(p)
        }
        neighbours[n.key] = nb
    }

    /// Appends what range lists found `n` to lack, read now (a route that changed since goes as it is now).
    func addOwed(for n: inout Neighbour, to packer: inout MessagePacker) {
        for (index, signed) in n.owed {
            if index < 0 {
                if config.advertisesSelf { packer.add(selfUpdate) }
            } else {
                let i = Int(index)
                guard i < entries.count, !entries[i].triggered, let a = advertised(i, to: n.slot, neighbourKey: n.key),
                      let r = selectedRoute(i), r.seqno == a.seqno else { continue }
                let key = origins.key(entries[i].origin)
                if signed {
                    packer.make(room: RoutingTLV.updateSize)
                    RoutingTLV.encodeUpdateHeader(into: &packer.current, origin: key, seqno: a.seqno,
                                                  flags: origins.flags(ofSignature: r.signature), metric: a.metric)
                    origins.appendSignature(r.signature, to: &packer.current)
                } else {
                    packer.add(.refresh(origin: key, seqno: a.seqno, metric: a.metric))
                }
            }
            stats.reconciledRoutesSent += 1
        }
        n.owed.removeAll()
        for p in n.retractPrefixes { packer.add(.prefixRetraction(prefix: p)) }
        stats.prefixRetractionsSent += n.retractPrefixes.count
        n.retractPrefixes.removeAll()
    }

    /// `n` advertises us no route for origins with this prefix: drop the ones we hold from it.
    func handlePrefixRetraction(_ n: Neighbour, prefix: UInt64, now: Instant) {
        var hit: [Int32] = []
        forEachEntry(inBucket: ReconciliationDigest.bucket(ofPrefix: prefix)) { i in
            guard ReconciliationDigest.prefix(of: origins.key(entries[i].origin)) == prefix else { return }
            if routeIndex(i, slot: n.slot) != nil { hit.append(Int32(i)) }
            setBit(&declinedFrom, slot: n.slot, i, false)
        }
        for idx in hit { removeRoute(idx, slot: n.slot); reselect(idx, now: now) }
    }

    // MARK: - Metric drift

    /// Metric changes too small to trigger an update used to reach neighbours with the next
    /// periodic dump; with summaries instead, they are sent once per `dumpInterval` as
    /// triggered refreshes of the routes that drifted (and only those).
    func sendDrift() {
        for i in entries.indices where entries[i].live && !entries[i].triggered && entries[i].everAdvertised {
            guard let r = selectedRoute(i), r.seqno == entries[i].advertisedSeqno, r.slot == entries[i].advertisedSlot,
                  routeMetric(r) != entries[i].advertisedMetric else { continue }
            trigger(Int32(i))
        }
    }
}
