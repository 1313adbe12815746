import PlanetCore

/// Signed updates waiting for their origin signature to be checked, per neighbour.
///
/// An ed25519 verification costs ~77 µs, and a neighbour can send thousands of genuinely
/// signed updates for fresh keys a second. Checked as they arrive, 100,000 of them kept a
/// node's one event loop busy for many seconds, and every datagram behind that work, data
/// included, waited in the socket or overflowed it (Docs/security.md, "Hostile neighbours").
/// Here they wait instead, and the router checks a bounded number per turn of the runtime's
/// loop (`RouterConfig.verificationsPerTurn`), taking one from each neighbour in turn:
///
/// - **Fair.** Neighbours are served round robin, one update each, so one neighbour's flood
///   delays another neighbour's update by at most one verification per flooding neighbour.
/// - **Known origins first.** Within a neighbour, an update for an origin the router already
///   holds (a seqno bump that keeps an honest route alive) is checked before updates that
///   would add a new origin, so a backlog of fake origins does not hold up the routes in use.
/// - **Latest wins.** A second update from the same neighbour for the same origin replaces the
///   waiting one and keeps its place: only the newest can matter, and a repeating flooder
///   cannot grow the backlog.
/// - **Bounded, each neighbour within its share.** At most `perNeighbour` per neighbour: past
///   it, the neighbour's own oldest update gives way to its new one (new origins before known
///   ones). At most `total` in all: past it, the longest backlog gives up its oldest, and only
///   if it is longer than the arriving neighbour's, so a few flooding neighbours cannot crowd
///   out one that sends little. Every update refused or given up is counted by the router, and
///   comes again: an honest neighbour's periodic dump carries the origin as an unsigned
///   refresh, which makes the router ask for the signed update (`routeRequest`).
struct VerificationBacklog {
    /// One update as it arrived (the signature is checked when it leaves).
    struct Update {
        let origin: PublicKey
        var seqno: UInt32
        var flags: UInt8
        var metric: UInt16
        var signature: [UInt8]
    }

    /// One neighbour's waiting updates: newest per origin, known origins and new ones in two
    /// FIFOs (each key is in exactly one, decided when it first arrives).
    struct Queue {
        var waiting: [PublicKey: Update] = [:]
        var known: [PublicKey] = []
        var knownHead = 0
        var fresh: [PublicKey] = []
        var freshHead = 0

        var count: Int { waiting.count }

        mutating func pop() -> Update? {
            while knownHead < known.count || freshHead < fresh.count {
                let key: PublicKey
                if knownHead < known.count {
                    key = known[knownHead]; knownHead += 1
                } else {
                    key = fresh[freshHead]; freshHead += 1
                }
                if let u = waiting.removeValue(forKey: key) { compact(); return u }
            }
            compact()
            return nil
        }

        /// Gives up the oldest update that would add a new origin (else the oldest known one).
        mutating func dropOldest() -> Bool {
            defer { compact() }
            while freshHead < fresh.count {
                let key = fresh[freshHead]
                freshHead += 1
                if waiting.removeValue(forKey: key) != nil { return true }
            }
            while knownHead < known.count {
                let key = known[knownHead]
                knownHead += 1
                if waiting.removeValue(forKey: key) != nil { return true }
            }
            return false
        }

        /// Reclaims the consumed fronts of the FIFOs now and then (amortised O(1)).
        mutating func compact() {
            if knownHead == known.count { known.removeAll(keepingCapacity: waiting.count > 0); knownHead = 0 }
            if freshHead == fresh.count { fresh.removeAll(keepingCapacity: waiting.count > 0); freshHead = 0 }
            if knownHead > 1024, knownHead * 2 > known.count { known.removeFirst(knownHead); knownHead = 0 }
            if freshHead > 1024, freshHead * 2 > fresh.count { fresh.removeFirst(freshHead); freshHead = 0 }
        }
    }

    enum Admission { case queued, replaced, refused }

    let perNeighbour: Int
    let total: Int
    /// Per neighbour slot (the router's slot numbers).
    private(set) var queues: [Queue] = []
    /// Slots with something waiting, served round robin from `cursor`.
    private var active: [UInt16] = []
    private var cursor = 0
    private(set) var count = 0

    init(perNeighbour: Int, total: Int) {
        self.perNeighbour = max(1, perNeighbour)
        self.total = max(1, total)
    }

    var isEmpty: Bool { count == 0 }

    func waiting(slot: UInt16) -> Int { Int(slot) < queues.count ? queues[Int(slot)].count : 0 }

    func holds(slot: UInt16, origin: PublicKey) -> Bool {
        Int(slot) < queues.count && queues[Int(slot)].waiting[origin] != nil
    }

    /// Queues `u` from neighbour `slot`; `known` says whether the router holds its origin.
    /// `evicted` is told how many waiting updates (its neighbour's own oldest, or the longest
    /// backlog's) were given up for it.
    mutating func add(_ u: Update, slot: UInt16, known: Bool, evicted: inout Int) -> Admission {
        let s = Int(slot)
        if s >= queues.count { queues.append(contentsOf: repeatElement(Queue(), count: s + 1 - queues.count)) }
        if queues[s].waiting[u.origin] != nil {
            queues[s].waiting[u.origin] = u
            return .replaced
        }
        let wasActive = queues[s].count > 0
        if queues[s].count >= perNeighbour {
            // Over its share: this neighbour's own oldest goes, nobody else's.
            guard queues[s].dropOldest() else { return .refused }
            count -= 1
            evicted += 1
        } else if count >= total {
            // Room is taken from the longest backlog, and only if it is longer than this one's.
            guard let longest = active.max(by: { queues[Int($0)].count < queues[Int($1)].count }),
                  queues[Int(longest)].count > queues[s].count + 1, queues[Int(longest)].dropOldest() else { return .refused }
            count -= 1
            evicted += 1
            if queues[Int(longest)].count == 0 { deactivate(longest) }
        }
        if !wasActive { active.append(slot) }
        queues[s].waiting[u.origin] = u
        if known { queues[s].known.append(u.origin) } else { queues[s].fresh.append(u.origin) }
        count += 1
        return .queued
    }

    /// The next update, one neighbour after another.
    mutating func next() -> (slot: UInt16, update: Update)? {
        while !active.isEmpty {
            if cursor >= active.count { cursor = 0 }
            let slot = active[cursor]
            guard let u = queues[Int(slot)].pop() else { deactivate(slot); continue }
            count -= 1
            if queues[Int(slot)].count == 0 { deactivate(slot) } else { cursor += 1 }
            return (slot, u)
        }
        return nil
    }

    /// Forgets what a neighbour that went down was still waiting with; returns how many.
    mutating func removeAll(slot: UInt16) -> Int {
        guard Int(slot) < queues.count else { return 0 }
        let n = queues[Int(slot)].count
        count -= n
        queues[Int(slot)] = Queue()
        deactivate(slot)
        return n
    }

    private mutating func deactivate(_ slot: UInt16) {
        guard let i = active.firstIndex(of: slot) else { return }
        active.remove(at: i)
        if i < cursor { cursor -= 1 }
    }

    /// Rough heap use: per update its key, signature array and two index entries.
    var estimatedMemoryBytes: Int { count * (32 + 32 + 64 + 16 + 48) }
}
