import PlanetCore

/// Packets from the TUN waiting for a session to their destination. Bounded per destination
/// and overall, oldest dropped first, so a burst toward an unreachable node can't grow memory;
/// a destination whose handshake doesn't finish in time gets its packets answered with ICMPv6.
/// A stub's packets waiting for their destination's origin use the same queue, keyed by the
/// address's lookup tag (`Node.waitingForOrigin`).
public typealias PendingPackets = PendingQueue<PublicKey>

public struct PendingQueue<Key: Hashable> {
    public let perDestination: Int
    public let total: Int
    private var queues: [Key: [(packet: [UInt8], since: Instant)]] = [:]
    public private(set) var count = 0

    public init(perDestination: Int = 64, total: Int = 4096) {
        self.perDestination = perDestination
        self.total = total
    }

    /// Queues a packet; returns how many older packets were dropped to make room.
    @discardableResult
    public mutating func enqueue(_ packet: [UInt8], for key: Key, now: Instant) -> Int {
        var dropped = 0
        var queue = queues[key] ?? []
        if queue.count >= perDestination {
            queue.removeFirst()
            count -= 1
            dropped += 1
        }
        if count >= total, let victim = queues.max(by: { $0.value.count < $1.value.count })?.key, victim != key {
            queues[victim]!.removeFirst()
            if queues[victim]!.isEmpty { queues[victim] = nil }
            count -= 1
            dropped += 1
        } else if count >= total {
            if !queue.isEmpty { queue.removeFirst(); count -= 1; dropped += 1 } else { return 1 }
        }
        queue.append((packet, now))
        count += 1
        queues[key] = queue
        return dropped
    }

    public mutating func take(for key: Key) -> [[UInt8]] {
        guard let q = queues.removeValue(forKey: key) else { return [] }
        count -= q.count
        return q.map(\.packet)
    }

    public func has(_ key: Key) -> Bool { queues[key] != nil }

    /// Removes and returns packets queued at or before `deadline`: the node's deadline for a
    /// waiting packet is exactly its queueing time plus the timeout, so a tick at that moment
    /// must expire it, or the deadline would stay where it is and the loop fire again at once.
    public mutating func expire(queuedAtOrBefore deadline: Instant) -> [(Key, [UInt8])] {
        var out = [(Key, [UInt8])]()
        for (key, q) in queues {
            let old = q.prefix { $0.since <= deadline }
            guard !old.isEmpty else { continue }
            out.append(contentsOf: old.map { (key, $0.packet) })
            let rest = Array(q.dropFirst(old.count))
            queues[key] = rest.isEmpty ? nil : rest
            count -= old.count
        }
        return out
    }

    public var oldest: Instant? { queues.values.compactMap { $0.first?.since }.min() }
}
