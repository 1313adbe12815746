import PlanetCore

/// The peers' timers in time order, so a timer pass visits the peers that are due and not
/// all of them: a public hub holds 10⁴ links, and a pass over all of them on each 50 ms tick
/// was ~40 % of its idle CPU (Docs/scale.md, "A public hub").
///
/// A min-heap of (when, peer). A peer is in it at most once *live*: `LinkPeer.scheduledAt`
/// holds the instant of its live entry; an entry whose instant differs (the peer was
/// rescheduled earlier) or whose peer left is stale and skipped when it comes up. A peer
/// whose timers move later keeps its earlier entry, which then fires early and harmlessly
/// (`tickPeer` finds nothing due) and is rescheduled from there.
struct PeerTimers {
    private var heap: [(at: Instant, peer: LinkPeer)] = []

    var count: Int { heap.count }

    mutating func removeAll() {
        for e in heap { e.peer.scheduledAt = .never }
        heap.removeAll(keepingCapacity: true)
    }

    /// Schedules `peer` at `at` unless it already has a live entry no later.
    mutating func schedule(_ peer: LinkPeer, at: Instant) {
        guard at < peer.scheduledAt else { return }
        peer.scheduledAt = at
        heap.append((at, peer))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].at < heap[parent].at else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    /// The earliest live entry's instant (stale ones at the top are dropped on the way).
    /// `isCurrent` says whether the peer is still one of the layer's.
    mutating func earliest(isCurrent: (LinkPeer) -> Bool) -> Instant {
        while let top = heap.first {
            if top.peer.scheduledAt == top.at && isCurrent(top.peer) { return top.at }
            popTop()
        }
        return .never
    }

    /// Takes every live entry due at `now` into `out` (their peers then have no live entry).
    mutating func takeDue(now: Instant, isCurrent: (LinkPeer) -> Bool, into out: inout [LinkPeer]) {
        while let top = heap.first, top.at <= now {
            popTop()
            guard top.peer.scheduledAt == top.at, isCurrent(top.peer) else { continue }
            top.peer.scheduledAt = .never
            out.append(top.peer)
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].at < heap[m].at { m = l }
            if r < heap.count && heap[r].at < heap[m].at { m = r }
            guard m != i else { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}
