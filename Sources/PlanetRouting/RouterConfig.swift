/// Tunables of the router. Defaults are what planetd runs with; the reasons are in
/// Docs/protocol.md (routing, "timers and bounds").
public struct RouterConfig: Sendable {
    /// Seconds between full (unsigned) refresh dumps to each neighbour, or between digest
    /// summaries to one that reconciles; jittered ±12%.
    public var dumpInterval: Double = 60
    /// A neighbour's route that is not refreshed for this long is dropped (3.5 dumps, like Babel).
    public var routeHoldTime: Double = 210
    /// An origin with no routes left is forgotten (with its feasibility distance) after this long.
    public var sourceGarbageTime: Double = 300
    /// Seconds between sweeps for expired routes, starving origins and stale requests.
    public var sweepInterval: Double = 2
    /// A seqno request for the same (origin, seqno) is forwarded at most once per this period.
    public var requestDedupTime: Double = 1.5
    /// Hop count a fresh seqno request starts with.
    public var requestHopCount: UInt8 = 64
    /// A better route must beat the selected one by this much to replace it.
    public var switchHysteresis: UInt16 = 16
    /// A link cost change smaller than max(this, old/8) is ignored.
    public var costHysteresis: UInt16 = 5
    /// Metric changes smaller than max(this, old/8) wait for the next dump instead of a triggered update.
    public var triggerMetricDelta: UInt16 = 16

    /// Whether neighbours that say they can (a summary TLV) reconcile by digest instead of
    /// receiving periodic dumps (Router+Reconciliation.swift). Off: the router behaves as
    /// before reconciliation existed (the new TLVs are unknown to it), as an old peer would.
    public var reconcilesByDigest = true
    /// A bucket of one neighbour's summaries is compared at most once per this many seconds
    /// (each comparison is a pass over the table; an honest neighbour sends one a `dumpInterval`).
    public var summaryMinInterval: Double = 10
    /// A summary is 256 buckets (3.1 kB) whatever the table's size; to a neighbour we advertise
    /// fewer routes than this, the periodic dump of refreshes (40 B each) is smaller and goes instead.
    public var summaryMinRoutes = 80

    /// Whether this node originates a route to itself. A node that does not still relays
    /// everyone else's routes (planetsim's `--origins` sampling uses this; planetd always does).
    public var advertisesSelf = true

    /// Triggered route changes sent per `drainOutgoing`, oldest first; the rest wait for the
    /// next drain (`hasPendingOutput`) and coalesce meanwhile. Lets a runtime pace routing
    /// output to what its links carry; unlimited by default (planetd drains everything and
    /// paces the bytes per neighbour instead, PlanetNode `NeighbourPacer`).
    public var maxAdvertsPerDrain: Int = .max

    /// Origin signatures a router checks per `tick` (one turn of planetd's loop, which ticks
    /// at once while any wait); the rest wait in a `VerificationBacklog`, served round robin
    /// per neighbour. 64 checks are ~5 ms of CPU, so packets read between two slices wait at
    /// most that long, while an idle loop still checks ~12,000 a second (a 10⁴-origin dump,
    /// which the pacer spreads over ~1 s, is checked as fast as it arrives).
    public var verificationsPerTurn: Int = 64
    /// Updates waiting for their signature check from one neighbour: 32,768 is ~3 s of checks,
    /// three times a 10⁴-origin dump; past it the neighbour's own oldest give way (counted) and
    /// come again on request.
    public var maxUnverifiedPerNeighbour: Int = 32_768
    /// … and from all neighbours together (~250 bytes each, 32 MB in all); past it the longest
    /// backlog gives up its oldest update.
    public var maxUnverified: Int = 131_072

    /// A stub router (Router+Stub.swift) keeps no routing table: it originates its own route,
    /// tells its neighbours it relays nothing (`stubHello`), and resolves the origin of each
    /// destination it talks to through its upstream, checking the signature itself.
    public var stub = false
    /// Origins a stub keeps resolved, and for how long an answer stands (then it asks again,
    /// so an origin that went away stops being sent to within this time).
    public var stubCacheSize = 1024
    public var stubCacheLifetime: Double = 300
    /// Origin queries a stub has out at once; an unanswered one is sent again after
    /// `stubQueryRetry` seconds, `stubQueryTries` times in all, then the address is unresolved.
    public var stubMaxQueries = 256
    public var stubQueryRetry: Double = 1
    public var stubQueryTries = 3
    /// Origin queries answered per neighbour: each costs a lookup and a 103-byte answer.
    public var originQueriesPerSecond: Double = 50
    public var originQueryBurst: Double = 100

    public var maxOrigins: Int = 200_000
    /// The smallest share of `maxOrigins` a neighbour has however many there are (the share is
    /// `maxOrigins / neighbours`, at least this): a hub with 4,096 neighbours still lets each
    /// bring 1,024 origins before the table, once full, takes room from its own oldest.
    public var minOriginShare: Int = 1024
    public var maxRoutesPerOrigin: Int = 4
    /// As many as the link layer's `maxPeers` (16,384: a public hub of 10⁴ stubs, Docs/scale.md).
    /// Neighbour slots are 16-bit; a stub neighbour's record is ~200 B.
    public var maxNeighbours: Int = 16_384
    public var maxPendingRequests: Int = 4096
    /// Messages waiting in the outgoing queue (all neighbours together).
    public var maxQueuedMessages: Int = 100_000
    /// Upper bound of one routing message's size, the 0x10 byte not included.
    public var maxMessageBytes: Int = 1200

    public init() {}
}
