import PlanetCore

/// When each node next wants its `tick`: a binary min-heap of (deadline, node) with lazy
/// deletion, so one thread can serve 10⁴ nodes' timers at O(log n) per change instead of asking
/// every node for its deadline on every turn.
///
/// A node's entry is pushed only when its deadline moves earlier than the one it has in the
/// heap (`scheduled`); a deadline that moves later leaves the earlier entry, which then fires
/// early: the node ticks, finds nothing due, and is scheduled again (what the runtime's
/// `EventLoop.setDeadline` does with its one timer). An entry whose time no longer matches
/// `scheduled` is stale and skipped.
struct DeadlineHeap {
    private var times: [UInt64] = []
    private var owners: [Int32] = []
    private(set) var scheduled: [Instant]

    init(count: Int) {
        scheduled = Array(repeating: .never, count: count)
    }

    var count: Int { times.count }

    mutating func schedule(_ node: Int, at deadline: Instant) {
        guard deadline != .never, deadline < scheduled[node] else { return }
        scheduled[node] = deadline
        times.append(deadline.nanoseconds)
        owners.append(Int32(node))
        var i = times.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard times[i] < times[parent] else { break }
            times.swapAt(i, parent)
            owners.swapAt(i, parent)
            i = parent
        }
    }

    /// The earliest live deadline (stale entries dropped on the way).
    mutating func earliest() -> Instant? {
        while let t = times.first {
            if scheduled[Int(owners[0])].nanoseconds == t { return Instant(nanoseconds: t) }
            pop()
        }
        return nil
    }

    /// The next node due at `now`, its entry removed; nil when none is.
    mutating func popDue(now: Instant) -> Int? {
        guard let t = earliest(), t <= now else { return nil }
        let node = Int(owners[0])
        pop()
        scheduled[node] = .never
        return node
    }

    private mutating func pop() {
        let last = times.count - 1
        times.swapAt(0, last)
        owners.swapAt(0, last)
        times.removeLast()
        owners.removeLast()
        var i = 0
        let n = times.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n, times[l] < times[m] { m = l }
            if r < n, times[r] < times[m] { m = r }
            if m == i { break }
            times.swapAt(i, m)
            owners.swapAt(i, m)
            i = m
        }
    }
}
