import PlanetCore

// Fair shares of the origin table. A neighbour can send genuinely signed updates for as many
// fresh keys as it likes; with one bound for all (`maxOrigins`), a flood filled the table and
// every origin after it, honest ones through other neighbours included, was refused until the
// fakes' routes expired. Instead each origin entry is attributed to the neighbour that brought
// it first, and each neighbour linked now has a share: `maxOrigins / neighbours`, at least
// `minOriginShare`. Nothing is evicted while there is room. Once the table is full, a new
// origin from a neighbour that holds its share or more evicts that neighbour's oldest entry;
// from a neighbour under its share, the oldest entry of whoever is most over its share. Entries
// of neighbours that left have a share of 0 (they go first); if nobody is over, the origin is
// refused (`origin-table-full`). The node's own route is not an entry and never goes; its VMs
// live in its /64 and have no entries of their own. Docs/security.md, "Fair shares".
//
// An evicted entry goes with its routes and feasibility distance, as the sweep's garbage
// collection does; if it comes back it starts afresh (a new origin for feasibility). Our
// neighbours keep what we advertised for it until their hold time, and what they send us for
// it meanwhile has no route here (counted `no-route`): for a fake origin, nothing is lost.

/// Per neighbour slot, the entries it brought, oldest first. Entries that left since (garbage
/// collection, eviction) are skipped when met: an entry is still the one queued while its
/// arrival number matches.
struct OriginShares {
    struct Queue {
        var fifo: [(index: Int32, arrival: UInt32)] = []
        var head = 0
        var count = 0
    }

    /// Indexed by neighbour slot; `departed` holds the entries of neighbours that left.
    private(set) var queues: [Queue] = []
    private(set) var departed = Queue()

    func count(_ owner: UInt16) -> Int {
        if owner == Router.departedOwner { return departed.count }
        return Int(owner) < queues.count ? queues[Int(owner)].count : 0
    }

    mutating func added(_ index: Int32, owner: UInt16, arrival: UInt32) {
        withQueue(owner) {
            $0.fifo.append((index, arrival))
            $0.count += 1
        }
    }

    mutating func removed(owner: UInt16) { withQueue(owner) { $0.count -= 1 } }

    /// The owner's oldest entry still held, taken off its queue; `isCurrent` says whether a
    /// queued (index, arrival) is still that owner's entry.
    mutating func popOldest(_ owner: UInt16, isCurrent: (Int32, UInt32) -> Bool) -> Int32? {
        var found: Int32?
        withQueue(owner) { q in
            while q.head < q.fifo.count {
                let (i, a) = q.fifo[q.head]
                q.head += 1
                if isCurrent(i, a) { found = i; break }
            }
            OriginShares.compact(&q, isCurrent: isCurrent)
        }
        return found
    }

    /// A neighbour left: its entries, in their order, join the departed ones (no share).
    mutating func depart(_ owner: UInt16, isCurrent: (Int32, UInt32) -> Bool) -> [Int32] {
        guard Int(owner) < queues.count else { return [] }
        let q = queues[Int(owner)]
        queues[Int(owner)] = Queue()
        var moved: [Int32] = []
        for (i, a) in q.fifo[q.head...] where isCurrent(i, a) {
            departed.fifo.append((i, a))
            departed.count += 1
            moved.append(i)
        }
        return moved
    }

    /// Slots with entries now (departed aside), for the victim search.
    var slots: Range<Int> { 0..<queues.count }

    private mutating func withQueue(_ owner: UInt16, _ body: (inout Queue) -> Void) {
        if owner == Router.departedOwner { body(&departed); return }
        if Int(owner) >= queues.count { queues.append(contentsOf: repeatElement(Queue(), count: Int(owner) + 1 - queues.count)) }
        body(&queues[Int(owner)])
    }

    /// Drops the consumed front and, when most of the queue is stale, the entries that left.
    private static func compact(_ q: inout Queue, isCurrent: (Int32, UInt32) -> Bool) {
        if q.head > 1024, q.head * 2 > q.fifo.count { q.fifo.removeFirst(q.head); q.head = 0 }
        if q.fifo.count - q.head > 2 * q.count + 1024 {
            q.fifo = q.fifo[q.head...].filter { isCurrent($0.index, $0.arrival) }
            q.head = 0
        }
    }

    /// Rough heap use: 8 bytes a queued entry (counted, not allocated: an array's capacity
    /// follows the allocator, and planetsim's same seed must give the same figures).
    var estimatedMemoryBytes: Int { (queues.reduce(0) { $0 + $1.fifo.count } + departed.fifo.count) * 8 }
}

extension Router {
    /// The owner of entries whose neighbour left.
    static let departedOwner = UInt16.max

    /// Each linked neighbour's share of the origin table now.
    public var originShare: Int {
        guard !neighbours.isEmpty else { return config.maxOrigins }
        return min(config.maxOrigins, max(config.minOriginShare, config.maxOrigins / neighbours.count))
    }

    /// Origin entries a neighbour brought and the table still holds (for tests and the admin API).
    public func originsHeld(from key: PublicKey) -> Int {
        guard let n = neighbours[key] else { return 0 }
        return shares.count(n.slot)
    }

    func shareOf(_ owner: UInt16) -> Int {
        owner == Router.departedOwner || slotKeys.count <= Int(owner) || slotKeys[Int(owner)] == nil ? 0 : originShare
    }

    /// Whose oldest entry makes room in a full table for an origin `slot` brings, or nil.
    func shareVictim(for slot: UInt16) -> UInt16? {
        let own = shares.count(slot)
        if own > 0, own >= shareOf(slot) { return slot }
        var best: UInt16?
        var bestExcess = 0
        let departed = shares.count(Router.departedOwner)
        if departed > 0 { best = Router.departedOwner; bestExcess = departed }
        for s in shares.slots {
            let excess = shares.count(UInt16(s)) - shareOf(UInt16(s))
            if excess > bestExcess { best = UInt16(s); bestExcess = excess }
        }
        return best
    }

    /// Evicts `owner`'s oldest entry, routes and all; false if it had none.
    func evictOldest(of owner: UInt16) -> Bool {
        guard let idx = shares.popOldest(owner, isCurrent: { isEntry($0, arrival: $1, owner: owner) }) else { return false }
        freeEntry(idx)  // its routes with it
        stats.drops.count(.originEvicted)
        return true
    }

    func isEntry(_ idx: Int32, arrival: UInt32, owner: UInt16) -> Bool {
        let i = Int(idx)
        return i < entries.count && entries[i].live && entries[i].arrival == arrival && entries[i].owner == owner
    }

    /// A neighbour left: what it brought stays (other neighbours may route it) with no share.
    func sharesNeighbourDown(_ slot: UInt16) {
        for idx in shares.depart(slot, isCurrent: { isEntry($0, arrival: $1, owner: slot) }) {
            entries[Int(idx)].owner = Router.departedOwner
        }
    }
}
