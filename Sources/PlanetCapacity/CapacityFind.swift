import PlanetCore

/// A stub's `nodes find` queries out to its upstream (Docs/protocol.md, "Capacity on stub
/// nodes"): a stub holds no directory, so the finder's calls become a `findQuery` with an id,
/// and the answer comes back in `findAnswer` parts. Every record in an answer is checked
/// against its owner's signature here, and any that fails is discarded and counted: the
/// upstream can withhold records (or lie about its route metric), never forge one. Sans-I/O:
/// answers and the clock in, outcomes out (`drain`).
public final class CapacityFinds {
    /// How long a query waits for its whole answer: the admin caller waits this long at most.
    public static let timeout = 4.0
    /// Queries out at once (the admin socket serves a handful of callers; more are refused).
    public static let maxPending = 64

    public enum Outcome: Sendable {
        /// The records whose signatures verified, in the upstream's order, with its metrics
        /// (nil: no route from the upstream) and how many records it holds.
        case found(records: [[UInt8]], metrics: [Int?], held: Int)
        case failed(String)
    }

    struct Pending {
        let upstream: PublicKey
        let deadline: Instant
        var parts: [[CapacityMessage.Found]?] = []
        var held: UInt32 = 0
    }

    var pending: [UInt32: Pending] = [:]
    var nextId: UInt32 = 1
    var outcomes: [(id: UInt32, outcome: Outcome)] = []
    /// Records in answers whose signature did not verify (`capacity-find-bad-signature`).
    public private(set) var badSignatures: UInt64 = 0
    /// Answer parts for no query out, from another neighbour, or not fitting the first part's
    /// count (`capacity-find-unsolicited`).
    public private(set) var unsolicited: UInt64 = 0
    public private(set) var sent: UInt64 = 0

    public init() {}

    /// Registers a query to `upstream`; nil when too many are out already.
    func start(upstream: PublicKey, now: Instant) -> UInt32? {
        guard pending.count < CapacityFinds.maxPending else { return nil }
        let id = nextId
        nextId = nextId == .max ? 1 : nextId + 1
        pending[id] = Pending(upstream: upstream, deadline: now.adding(seconds: CapacityFinds.timeout))
        sent += 1
        return id
    }

    /// A query that could not even be sent.
    func fail(_ id: UInt32, _ reason: String) {
        pending[id] = nil
        outcomes.append((id, .failed(reason)))
    }

    /// One answer part from `from`. Complete once every part is in; then each record's
    /// signature is checked (`verify`, the directory's check).
    func receive(id: UInt32, part: Int, parts: Int, held: UInt32, records: [CapacityMessage.Found], from: PublicKey,
                 verify: ([UInt8]) -> Bool) {
        guard var p = pending[id], p.upstream == from else { unsolicited += 1; return }
        if p.parts.isEmpty { p.parts = Array(repeating: nil, count: parts) }
        guard p.parts.count == parts, part < parts, p.parts[part] == nil else { unsolicited += 1; return }
        p.parts[part] = records
        p.held = held
        guard p.parts.allSatisfy({ $0 != nil }) else { pending[id] = p; return }
        pending[id] = nil
        var kept: [[UInt8]] = [], metrics: [Int?] = []
        for r in p.parts.lazy.compactMap({ $0 }).joined() {
            guard CapacityRecord.header(r.bytes) != nil, verify(r.bytes) else { badSignatures += 1; continue }
            kept.append(r.bytes)
            metrics.append(r.metric.map(Int.init))
        }
        outcomes.append((id, .found(records: kept, metrics: metrics, held: Int(held))))
    }

    /// Queries whose answer did not come in time.
    func expire(now: Instant) {
        for (id, p) in pending where p.deadline <= now {
            pending[id] = nil
            outcomes.append((id, .failed("upstream did not answer")))
        }
    }

    /// The link to an upstream went down: its queries will not be answered.
    func upstreamDown(_ key: PublicKey) {
        for (id, p) in pending where p.upstream == key {
            pending[id] = nil
            outcomes.append((id, .failed("upstream did not answer (its link went down)")))
        }
    }

    var nextDeadline: Instant { pending.values.map(\.deadline).min() ?? .never }

    public var hasOutcomes: Bool { !outcomes.isEmpty }

    /// The queries finished since the last call.
    public func drain() -> [(id: UInt32, outcome: Outcome)] {
        defer { outcomes.removeAll() }
        return outcomes
    }

    public var pendingCount: Int { pending.count }
}
