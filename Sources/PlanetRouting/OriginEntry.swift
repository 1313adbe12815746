import PlanetCore

/// What one neighbour last told us about one origin. Times are router-relative
/// deciseconds (u32) to keep the entry small: a node holds one per neighbour per origin.
struct NeighbourRoute {
    var slot: UInt16
    var advertisedMetric: UInt16
    /// advertisedMetric plus the link cost; infinity when unusable.
    var metric: UInt16
    var flags: UInt8
    var seqno: UInt32
    var expires: UInt32
    /// The origin's signature over (origin, seqno, flags); shared storage, never copied.
    var signature: [UInt8]
}

/// Everything the router knows about one origin: the routes offered by neighbours, the
/// feasibility distance (RFC 8966 3.5.1) and what we last advertised.
struct OriginEntry {
    let key: PublicKey
    /// The origin's node address; its /64 is the same high word with the 0x03 prefix byte.
    let address: IPv6Address
    /// Newest verified seqno seen for this origin, with its flags and signature.
    var seqno: UInt32
    var flags: UInt8
    var signature: [UInt8]

    var hasFeasibilityDistance = false
    var fdSeqno: UInt32 = 0
    var fdMetric: UInt16 = RouteMetric.infinity

    var routes: [NeighbourRoute] = []
    /// Index into `routes`, -1 when no route is selected.
    var selected: Int16 = -1

    var everAdvertised = false
    var advertisedSeqno: UInt32 = 0
    var advertisedMetric: UInt16 = RouteMetric.infinity
    var advertisedSlot: UInt16 = .max
    var triggered = false
    var live = true
    /// Deciseconds: when the last route disappeared, and when we last asked for a newer seqno.
    var lostAt: UInt32 = 0
    var lastRequest: UInt32 = 0

    init(key: PublicKey, seqno: UInt32, flags: UInt8, signature: [UInt8]) {
        self.key = key
        self.address = key.address
        self.seqno = seqno
        self.flags = flags
        self.signature = signature
    }

    var selectedRoute: NeighbourRoute? { selected >= 0 ? routes[Int(selected)] : nil }

    /// RFC 8966 3.5.1: the neighbour's advertised metric `m` (before our link cost) against
    /// the distance we advertised: newer seqno, or same seqno and strictly smaller metric.
    /// Retractions are always feasible.
    func isFeasible(seqno s: UInt32, metric m: UInt16) -> Bool {
        if m == RouteMetric.infinity || !hasFeasibilityDistance { return true }
        return SequenceNumber.isNewer(s, than: fdSeqno) || (s == fdSeqno && m < fdMetric)
    }

    /// The signature we already hold for (seqno, flags), so a repeat is not verified again.
    func knownSignature(seqno s: UInt32) -> (signature: [UInt8], flags: UInt8)? {
        if s == seqno { return (signature, flags) }
        for r in routes where r.seqno == s { return (r.signature, r.flags) }
        return nil
    }

    func owns(_ a: IPv6Address) -> Bool {
        if a == address { return true }
        return a.high == address.high | (UInt64(0x01) << 56)
    }
}
