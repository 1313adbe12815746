import PlanetCore

/// What neighbour protocols send, paced per neighbour. A full signed routing dump for a new
/// neighbour is ~105 bytes per origin, 1 MB at 10⁴ origins and 10 MB at 10⁵, and handed to the
/// UDP socket in one go it would overflow the socket's buffer, the kernel dropping most of it
/// every time (Docs/scale.md). Here each neighbour's frames wait in FIFOs and leave at `rate`
/// bytes per second after a `burst`, so a dump is spread over the link instead of lost, while
/// the small triggered updates of a running network pass at once. (The router hands a dump over
/// only while little waits here, `Node.neighbourDumpQueueBytes`, so what it says next does not
/// queue behind a whole table.) All protocols share one allowance per neighbour; each has a lane,
/// and a lower lane's frames leave before a higher one's, so a bulk protocol cannot delay routing.
struct NeighbourPacer {
    struct Lane {
        var frames: [[UInt8]] = []
        var head = 0
        /// Bytes waiting in this lane.
        var bytes = 0

        var isEmpty: Bool { head == frames.count }

        mutating func pop() -> [UInt8] {
            let frame = frames[head]
            frames[head] = []
            head += 1
            bytes -= frame.count
            if head == frames.count {
                frames.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 64, head * 2 > frames.count {
                frames.removeFirst(head)
                head = 0
            }
            return frame
        }
    }

    struct Queue {
        var lanes: [Lane] = []
        var bytes = 0
        var allowance: TokenBucket

        var isEmpty: Bool { bytes == 0 && lanes.allSatisfy(\.isEmpty) }
        /// The first lane with a frame waiting.
        var firstBusyLane: Int? { lanes.firstIndex { !$0.isEmpty } }
    }

    let rate: Double
    let burst: Double
    let maxQueuedBytes: Int
    private(set) var queues: [PublicKey: Queue] = [:]
    /// Frames refused because their neighbour's queue was full, by lane.
    private(set) var refused: [Int: UInt64] = [:]

    init(rate: Double, burst: Double, maxQueuedBytes: Int) {
        precondition(rate > 0 && burst > 0 && maxQueuedBytes > 0)
        self.rate = rate
        self.burst = burst
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// False, queueing nothing and counting it, when the neighbour's queue (all lanes) already
    /// holds `maxQueuedBytes`.
    @discardableResult
    mutating func enqueue(_ frame: [UInt8], to key: PublicKey, lane: Int = 0, now: Instant) -> Bool {
        precondition(lane >= 0 && lane < 16)
        // Taken out of the dictionary while it is changed: a copy left behind would share the
        // lanes' buffers, and every append would copy a whole lane (quadratic in a big dump;
        // a fifth of a relay's CPU under a 100,000-origin flood before it was done this way).
        var q = queues.removeValue(forKey: key) ?? Queue(allowance: TokenBucket(rate: rate, burst: burst, now: now))
        guard q.bytes + frame.count <= maxQueuedBytes else {
            refused[lane, default: 0] += 1
            queues[key] = q
            return false
        }
        while q.lanes.count <= lane { q.lanes.append(Lane()) }
        q.lanes[lane].frames.append(frame)
        q.lanes[lane].bytes += frame.count
        q.bytes += frame.count
        queues[key] = q
        return true
    }

    /// Hands `send` every frame whose neighbour has the allowance for it, lowest lane first and
    /// oldest first within a lane, and returns how many went. A frame leaves while the allowance
    /// is positive, so one frame may overdraw it (by at most a message), which the next refill
    /// pays back.
    @discardableResult
    mutating func release(now: Instant, _ send: (PublicKey, [UInt8]) -> Void) -> Int {
        var sent = 0
        for key in Array(queues.keys) {
            guard var q = queues.removeValue(forKey: key) else { continue }  // out while changed, as in `enqueue`
            while let lane = q.firstBusyLane,
                  q.allowance.spend(Double(q.lanes[lane].frames[q.lanes[lane].head].count), now: now) {
                let frame = q.lanes[lane].pop()
                q.bytes -= frame.count
                send(key, frame)
                sent += 1
            }
            // An idle queue with a full allowance holds nothing worth keeping.
            if q.isEmpty, q.allowance.isFull(at: now) { continue }
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

    /// Bytes waiting for this neighbour in `lane` and the lanes that leave before it: what a
    /// frame queued in `lane` now would wait behind.
    func queuedBytes(for key: PublicKey, throughLane lane: Int) -> Int {
        guard let q = queues[key] else { return 0 }
        return q.lanes.prefix(lane + 1).reduce(0) { $0 + $1.bytes }
    }

    /// Whether anything waits for this neighbour (or for anyone, with nil).
    func hasQueued(for key: PublicKey? = nil) -> Bool {
        if let key { return !(queues[key]?.isEmpty ?? true) }
        return queues.values.contains { !$0.isEmpty }
    }

    /// A neighbour that went away: what waited for it is moot.
    mutating func forget(_ key: PublicKey) { queues[key] = nil }

    /// Drops what waits for `key` in one lane (a routing dump to a neighbour that turned out to
    /// be a stub); returns how many frames went.
    @discardableResult
    mutating func drop(lane: Int, for key: PublicKey) -> Int {
        guard var q = queues.removeValue(forKey: key) else { return 0 }
        defer { queues[key] = q }
        guard lane < q.lanes.count else { return 0 }
        let waiting = q.lanes[lane].frames[q.lanes[lane].head...]
        q.bytes -= waiting.reduce(0) { $0 + $1.count }
        q.lanes[lane] = Lane()
        return waiting.count
    }
}
