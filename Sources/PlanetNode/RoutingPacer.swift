import PlanetCore

/// Routing output, paced per neighbour. The router hands over whole tables at once: a full
/// signed dump for a new neighbour is ~105 bytes per origin, 1 MB at 10⁴ origins and 10 MB at
/// 10⁵, and handed to the UDP socket in one go it would overflow the socket's buffer, the kernel
/// dropping most of it every time (Docs/scale.md). Here each neighbour's routing frames wait in
/// a FIFO and leave at `rate` bytes per second after a `burst`, so a dump is spread over the
/// link instead of lost, while the small triggered updates of a running network pass at once.
struct RoutingPacer {
    struct Queue {
        var frames: [[UInt8]] = []
        var head = 0
        var bytes = 0
        var allowance: TokenBucket

        var isEmpty: Bool { head == frames.count }
    }

    let rate: Double
    let burst: Double
    let maxQueuedBytes: Int
    private(set) var queues: [PublicKey: Queue] = [:]

    init(rate: Double, burst: Double, maxQueuedBytes: Int) {
        precondition(rate > 0 && burst > 0 && maxQueuedBytes > 0)
        self.rate = rate
        self.burst = burst
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// False, queueing nothing, when the neighbour's queue already holds `maxQueuedBytes`.
    mutating func enqueue(_ frame: [UInt8], to key: PublicKey, now: Instant) -> Bool {
        var q = queues[key] ?? Queue(allowance: TokenBucket(rate: rate, burst: burst, now: now))
        guard q.bytes + frame.count <= maxQueuedBytes else { return false }
        q.frames.append(frame)
        q.bytes += frame.count
        queues[key] = q
        return true
    }

    /// Hands `send` every frame whose neighbour has the allowance for it, oldest first, and
    /// returns how many went. A frame leaves while the allowance is positive, so one frame may
    /// overdraw it (by at most a message), which the next refill pays back.
    @discardableResult
    mutating func release(now: Instant, _ send: (PublicKey, [UInt8]) -> Void) -> Int {
        var sent = 0
        for key in Array(queues.keys) {
            guard var q = queues[key] else { continue }
            while !q.isEmpty, q.allowance.spend(Double(q.frames[q.head].count), now: now) {
                let frame = q.frames[q.head]
                q.frames[q.head] = []
                q.head += 1
                q.bytes -= frame.count
                send(key, frame)
                sent += 1
            }
            if q.isEmpty {
                // An idle queue with a full allowance holds nothing worth keeping.
                if q.allowance.isFull(at: now) { queues[key] = nil; continue }
                q.frames.removeAll(keepingCapacity: true)
                q.head = 0
            } else if q.head > 64, q.head * 2 > q.frames.count {
                q.frames.removeFirst(q.head)
                q.head = 0
            }
            queues[key] = q
        }
        return sent
    }

    /// When the next waiting frame may leave (nil when nothing waits).
    var nextDeadline: Instant? {
        var d: Instant?
        for q in queues.values where !q.isEmpty {
            // A hair past the moment the debt is paid, so the release finds the allowance positive.
            let due = q.allowance.nextAvailable.adding(seconds: 0.001)
            if d == nil || due < d! { d = due }
        }
        return d
    }

    /// Whether anything waits for this neighbour (or for anyone, with nil).
    func hasQueued(for key: PublicKey? = nil) -> Bool {
        if let key { return !(queues[key]?.isEmpty ?? true) }
        return queues.values.contains { !$0.isEmpty }
    }

    /// A neighbour that went away: what waited for it is moot.
    mutating func forget(_ key: PublicKey) { queues[key] = nil }
}
