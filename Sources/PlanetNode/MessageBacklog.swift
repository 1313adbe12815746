import PlanetCore

/// Messages from neighbours waiting to be handled, each neighbour's in arrival order, the
/// neighbours served in turn (round robin), one message at a time. `CapacityNeighbour` keeps
/// gossip messages here so their signature checks are spread over the node's ticks instead of
/// holding its one event loop (see there). A neighbour's queue is an array read from a head
/// index, compacted now and then, so taking a message is amortised O(1).
struct MessageBacklog {
    private var queues: [PublicKey: [[UInt8]]] = [:]
    private var heads: [PublicKey: Int] = [:]
    /// Neighbours with something waiting, served from `cursor`.
    private var order: [PublicKey] = []
    private var cursor = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    func waiting(from key: PublicKey) -> Int { (queues[key]?.count ?? 0) - (heads[key] ?? 0) }

    /// Queues `body` from `key` unless that neighbour has `perNeighbour` waiting or all have
    /// `total`; false when refused.
    mutating func add(_ body: [UInt8], from key: PublicKey, perNeighbour: Int, total: Int) -> Bool {
        let waiting = waiting(from: key)
        guard waiting < perNeighbour, count < total else { return false }
        if waiting == 0 { order.append(key) }
        queues[key, default: []].append(body)
        count += 1
        return true
    }

    /// The next message, one neighbour after another.
    mutating func next() -> (key: PublicKey, body: [UInt8])? {
        guard count > 0 else { return nil }
        if cursor >= order.count { cursor = 0 }
        let key = order[cursor]
        var queue = queues.removeValue(forKey: key) ?? []
        var head = heads[key] ?? 0
        let body = queue[head]
        queue[head] = []
        head += 1
        count -= 1
        if head == queue.count {
            heads[key] = nil
            order.remove(at: cursor)
        } else {
            if head > 64, head * 2 > queue.count { queue.removeFirst(head); head = 0 }
            queues[key] = queue
            heads[key] = head
            cursor += 1
        }
        return (key, body)
    }

    /// Forgets what `key` still had waiting (a neighbour that went down).
    mutating func removeAll(from key: PublicKey) {
        guard let queue = queues.removeValue(forKey: key) else { return }
        count -= queue.count - (heads.removeValue(forKey: key) ?? 0)
        if let i = order.firstIndex(of: key) {
            order.remove(at: i)
            if i < cursor { cursor -= 1 }
        }
    }
}
