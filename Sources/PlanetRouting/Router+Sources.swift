import PlanetCore

// Sources (babeld's source.c): one `OriginEntry` per origin we hold routes for, with its
// newest verified seqno and signature and its feasibility distance (`OriginEntry.isFeasible`),
// created on the first accepted update and garbage-collected by the sweep once it has had
// no routes for `sourceGarbageTime`.

extension Router {
    @inline(__always)
    func entryIndex(_ origin: PublicKey) -> Int32? {
        guard let id = origins.originId(origin), Int(id) < entryOfOrigin.count else { return nil }
        let e = entryOfOrigin[Int(id)]
        return e >= 0 ? e : nil
    }

    /// The signature we already hold for `seqno` (the entry's or a route's), so a repeat is
    /// not verified again.
    func knownSignature(_ i: Int, seqno s: UInt32) -> UInt32? {
        if s == entries[i].seqno { return entries[i].signature }
        let base = i * routeSlots
        for j in 0..<Int(entries[i].routeCount) where routePool[base + j].seqno == s { return routePool[base + j].signature }
        return nil
    }

    /// A new entry holding a reference to the origin and one to `signature` (the caller keeps its own).
    /// A full table makes room from a neighbour's share, or refuses (Router+Shares.swift).
    func createEntry(_ origin: PublicKey, seqno: UInt32, signature: UInt32, from slot: UInt16) -> Int32? {
        if liveEntries >= config.maxOrigins {
            guard let victim = shareVictim(for: slot), evictOldest(of: victim) else { stats.drops.count(.originTableFull); return nil }
        }
        let id = origins.retainOrigin(origin)
        origins.retainSignature(signature)
        originArrivals &+= 1
        let entry = OriginEntry(origin: id, seqno: seqno, signature: signature, owner: slot, arrival: originArrivals)
        let idx: Int32
        let b = ReconciliationDigest.bucket(of: origin)
        if let f = freeEntries.popLast() {
            idx = f; entries[Int(f)] = entry
            nextInBucket[Int(f)] = bucketHeads[b]
        } else {
            // Grown by a quarter rather than doubled: at 10^4-10^5 origins the tables are most
            // of a node's memory, and doubling would leave up to half of them unused.
            if entries.count == entries.capacity { entries.reserveCapacity(entries.count + entries.count / 4 + 16) }
            if routePool.count + routeSlots > routePool.capacity {
                routePool.reserveCapacity(routePool.count + routePool.count / 4 + 16 * routeSlots)
            }
            idx = Int32(entries.count); entries.append(entry)
            if nextInBucket.count == nextInBucket.capacity { nextInBucket.reserveCapacity(entries.capacity) }
            nextInBucket.append(bucketHeads[b])
            routePool.append(contentsOf: repeatElement(NeighbourRoute.empty, count: routeSlots))
        }
        if Int(id) >= entryOfOrigin.count {
            let need = Int(id) + 1
            if need > entryOfOrigin.capacity { entryOfOrigin.reserveCapacity(max(need, entryOfOrigin.count + entryOfOrigin.count / 4 + 16)) }
            entryOfOrigin.append(contentsOf: repeatElement(-1, count: need - entryOfOrigin.count))
        }
        bucketHeads[b] = idx
        clearDeclines(Int(idx))
        entryOfOrigin[Int(id)] = idx
        liveEntries += 1
        shares.added(idx, owner: slot, arrival: originArrivals)
        return idx
    }

    func freeEntry(_ idx: Int32) {
        let i = Int(idx)
        let base = i * routeSlots
        for j in 0..<Int(entries[i].routeCount) { origins.releaseSignature(routePool[base + j].signature) }
        entries[i].routeCount = 0
        setSelected(i, -1)
        origins.releaseSignature(entries[i].signature)
        unlinkFromBucket(idx)
        entryOfOrigin[Int(entries[i].origin)] = -1
        origins.releaseOrigin(entries[i].origin)
        entries[i].live = false
        liveEntries -= 1
        shares.removed(owner: entries[i].owner)
        freeEntries.append(idx)
    }

    /// Takes entry `idx` out of its bucket's chain (a walk of one bucket: ~1/256 of the table).
    func unlinkFromBucket(_ idx: Int32) {
        let b = ReconciliationDigest.bucket(of: origins.key(entries[Int(idx)].origin))
        if bucketHeads[b] == idx { bucketHeads[b] = nextInBucket[Int(idx)]; return }
        var i = bucketHeads[b]
        while i >= 0 {
            let next = nextInBucket[Int(i)]
            if next == idx { nextInBucket[Int(i)] = nextInBucket[Int(idx)]; return }
            i = next
        }
    }

    /// Calls `body` with every live entry of bucket `b`.
    func forEachEntry(inBucket b: Int, _ body: (Int) -> Void) {
        var i = bucketHeads[b]
        while i >= 0 {
            body(Int(i))
            i = nextInBucket[Int(i)]
        }
    }

    /// Origins known, reachable or not.
    public var originCount: Int { liveEntries }
}
