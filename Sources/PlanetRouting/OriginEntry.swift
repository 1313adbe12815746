import PlanetCore

/// What one neighbour last told us about one origin: 16 bytes, a node holds one per neighbour
/// per origin. Times are router-relative deciseconds (u32). The metric through this neighbour
/// is not stored: it is `advertisedMetric` plus the neighbour's current link cost.
struct NeighbourRoute {
    var slot: UInt16
    var advertisedMetric: UInt16
    var seqno: UInt32
    var expires: UInt32
    /// The origin's signature over (origin, seqno, flags), a counted reference into the
    /// `OriginDirectory` (which also knows the flags).
    var signature: UInt32

    static let empty = NeighbourRoute(slot: 0, advertisedMetric: RouteMetric.infinity, seqno: 0, expires: 0, signature: 0)
}

/// Everything the router knows about one origin besides the routes (which sit in the
/// router's flat route pool): the feasibility distance (RFC 8966 3.5.1) and what we last
/// advertised, and who brought it (the fair shares). 48 bytes; the key, address and signatures live once in the `OriginDirectory`.
struct OriginEntry {
    /// The origin's id in the `OriginDirectory` (a counted reference).
    var origin: UInt32
    /// Newest verified seqno seen for this origin, and a counted reference to its signature.
    var seqno: UInt32
    var signature: UInt32

    var fdSeqno: UInt32 = 0
    var advertisedSeqno: UInt32 = 0
    /// Deciseconds: when the last route disappeared, and when we last asked for a newer seqno.
    var lostAt: UInt32 = 0
    var lastRequest: UInt32 = 0
    var fdMetric: UInt16 = RouteMetric.infinity
    var advertisedMetric: UInt16 = RouteMetric.infinity
    var advertisedSlot: UInt16 = .max
    /// Index among this origin's routes, -1 when no route is selected.
    var selected: Int8 = -1
    var routeCount: UInt8 = 0
    var hasFeasibilityDistance = false
    var everAdvertised = false
    var triggered = false
    var live = true
    /// The neighbour slot that brought the origin first, whose share it counts against
    /// (`Router.departedOwner` once that neighbour left), and when, in arrivals
    /// (Router+Shares.swift).
    var owner: UInt16
    var arrival: UInt32

    init(origin: UInt32, seqno: UInt32, signature: UInt32, owner: UInt16 = 0, arrival: UInt32 = 0) {
        self.origin = origin
        self.seqno = seqno
        self.signature = signature
        self.owner = owner
        self.arrival = arrival
    }

    /// RFC 8966 3.5.1: the neighbour's advertised metric `m` (before our link cost) against
    /// the distance we advertised: newer seqno, or same seqno and strictly smaller metric.
    /// Retractions are always feasible.
    @inline(__always)
    func isFeasible(seqno s: UInt32, metric m: UInt16) -> Bool {
        if m == RouteMetric.infinity || !hasFeasibilityDistance { return true }
        return SequenceNumber.isNewer(s, than: fdSeqno) || (s == fdSeqno && m < fdMetric)
    }

    /// Whether `a` is the origin's node address (`address`) or inside its /64 (same high word
    /// with the 0x03 prefix byte).
    static func owns(_ a: IPv6Address, address: IPv6Address) -> Bool {
        if a == address { return true }
        return a.high == address.high | (UInt64(0x01) << 56)
    }
}
