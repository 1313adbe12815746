import PlanetCore

/// Distance-vector routing after Babel (RFC 8966) with signed origins, sans-I/O.
///
/// Every node originates one route that covers its 200::/7 address and its 300::/64 subnet,
/// keyed by its public key. The origin signs (key, seqno, flags); neighbours relay the
/// signature and can only change the metric. Loop freedom comes from Babel's feasibility
/// condition; signatures make sure nobody but the origin can move its seqno forward.
/// Design and wire format: Docs/protocol.md, "routing (PlanetRouting)".
///
/// The state is split over files the way babeld splits it, one protocol noun each; this file
/// holds the class, all its stored state, seqno persistence and the timers:
/// - Router+Neighbours.swift: the neighbour table (`neighbourUp`/`Cost`/`Down`, per-neighbour queues);
/// - Router+Routes.swift: routes, updates, route selection and the lookups (`route(forAddress:)`, `routes()`);
/// - Router+Sources.swift: origin entries and their feasibility distances;
/// - Router+Requests.swift: route and seqno requests and their de-duplication;
/// - Router+Messages.swift: `receive` (TLV dispatch) and `drainOutgoing` (TLV packing);
/// - Router+Verification.swift: signed updates waiting for their signature check, checked a
///   slice per `tick` (`VerificationBacklog`);
/// - Router+Reconciliation.swift: digest summaries, range lists and their answers, which
///   replace periodic dumps with neighbours that reconcile (`ReconciliationDigest`).
public final class Router {
    public let identity: NodeIdentity
    public let config: RouterConfig
    public internal(set) var stats = RouterStats()
    public private(set) var selfSeqno: UInt32
    public let selfFlags: UInt8 = 0

    /// Origin keys and verified signatures, interned (shared by all routers in planetsim).
    public let origins: OriginDirectory
    let logger: Logger
    var random: SplitMix64
    let epoch: Instant
    var selfSignature: [UInt8]
    var selfTriggered = true

    var neighbours: [PublicKey: Neighbour] = [:]
    var slotKeys: [PublicKey?] = []
    /// Link cost per neighbour slot; a route's metric is its advertised metric plus this.
    var slotCosts: [UInt16] = []
    var freeSlots: [UInt16] = []
    /// Per neighbour slot, when its periodic dump or summary is due (.never: a free slot), and
    /// the earliest of them (nil: to be found again), so `tick` and `nextDeadline` read a flat
    /// array instead of every neighbour's record (Router+Due.swift).
    var slotNextDump: [Instant] = []
    var earliestDump: Instant? = .never
    /// Neighbours a drain must visit (Router+Due.swift): those with something queued or owed,
    /// a dump under way, or a timer that fired; and the neighbours that are not stubs, which
    /// hear every triggered update. A hub's drain after each input then costs what changed,
    /// not a pass over thousands of stubs.
    var drainDue: Set<PublicKey> = []
    var routerNeighbours: Set<PublicKey> = []

    /// Entry index per `OriginDirectory` id, -1 for origins this router does not hold.
    var entryOfOrigin: [Int32] = []
    var entries: [OriginEntry] = []
    /// The routes of entry i are `routePool[i * routeSlots ..< i * routeSlots + routeCount]`,
    /// in arrival order: one flat array instead of a heap array per origin.
    var routePool: [NeighbourRoute] = []
    let routeSlots: Int
    var freeEntries: [Int32] = []
    var liveEntries = 0
    var triggeredList: [Int32] = []
    /// Entries by reconciliation bucket (the origin key's first byte): the head of each
    /// bucket's chain and each entry's successor (-1: none), so a range list is answered
    /// from its bucket alone.
    var bucketHeads = [Int32](repeating: -1, count: ReconciliationDigest.bucketCount)
    var nextInBucket: [Int32] = []
    /// Per neighbour slot: the entries whose offer from it we refused (route slots full), and
    /// the entries it told us it refused from us (Router+Reconciliation.swift, "Declined offers").
    var declinedFrom: [EntryBits] = []
    var declinedBy: [EntryBits] = []
    /// When metric drift below the trigger threshold is next sent (Router+Reconciliation.swift).
    var nextDriftSweep: Instant
    /// Origins with a selected route, kept current so simulators can poll it cheaply.
    public internal(set) var reachableCount = 0

    var recentRequests: [RequestKey: UInt32] = [:]

    /// Who brought each origin entry, oldest first, for the fair shares of the origin table
    /// (Router+Shares.swift), and the arrival count that orders them.
    var shares = OriginShares()
    var originArrivals: UInt32 = 0

    /// Signed updates waiting for their signature check (Router+Verification.swift), and the
    /// deadline that asks for the next slice of checks: due at once while any wait.
    var backlog: VerificationBacklog
    var backlogDue = Instant.never

    /// A stub's resolved origins and queries (Router+Stub.swift); empty on other routers.
    var stub = StubOrigins()
    /// Neighbours whose stub hello arrived since the node last asked (`takeNewStubNeighbours`).
    var newStubNeighbours: [PublicKey] = []

    var nextSweep: Instant
    var outgoing: [(to: PublicKey, message: [UInt8])] = []

    /// `origins` is where keys and verified signatures are interned; a router normally owns
    /// its own, planetsim shares one between all its routers.
    public init(identity: NodeIdentity, config: RouterConfig = .init(), origins: OriginDirectory = OriginDirectory(),
                logger: Logger = .disabled, now: Instant, random: SplitMix64, seqno: UInt32 = 0) {
        self.identity = identity
        self.config = config
        self.origins = origins
        self.routeSlots = min(max(1, config.maxRoutesPerOrigin), Int(Int8.max))
        self.logger = logger
        self.random = random
        self.epoch = now
        self.selfSeqno = seqno
        self.selfSignature = OriginSignature.sign(identity, seqno: seqno, flags: 0)
        self.nextSweep = now.adding(seconds: config.sweepInterval)
        self.nextDriftSweep = config.reconcilesByDigest ? now.adding(seconds: config.dumpInterval) : .never
        self.backlog = VerificationBacklog(perNeighbour: config.maxUnverifiedPerNeighbour, total: config.maxUnverified)
    }

    // MARK: - Sequence number persistence

    /// Sets our seqno to at least `seqno` (the runtime saves `selfSeqno` and restores it at
    /// start, past what it saved). Never moves it backwards.
    public func restoreSelfSeqno(_ seqno: UInt32) {
        guard SequenceNumber.isNewer(seqno, than: selfSeqno) else { return }
        setSelfSeqno(seqno)
    }

    func setSelfSeqno(_ seqno: UInt32) {
        selfSeqno = seqno
        selfSignature = OriginSignature.sign(identity, seqno: seqno, flags: selfFlags)
        selfTriggered = true
        stats.selfSeqnoBumps += 1
    }

    /// Our own route, signed.
    var selfUpdate: RoutingTLV {
        .update(origin: identity.publicKey, seqno: selfSeqno, flags: selfFlags, metric: 0, signature: selfSignature)
    }

    // MARK: - Timers

    public func tick(now: Instant) {
        verifyBacklog(now: now, budget: config.verificationsPerTurn)
        // Sorted so the jitter draws, and so a simulation, replay identically. Only the due
        // neighbours' keys are sorted, found in the flat per-slot array (Router+Due.swift).
        for key in dueDumpKeys(now: now) {
            drainDue.insert(key)
            // The first dump's hold ends here at the latest, for a neighbour whose first
            // routing message was lost (Router+Due.swift, `heard`).
            heardFrom(key)
            // A neighbour that reconciles gets a summary, and only what differs after it.
            // A stub neighbour is owed nothing; a stub refreshes its own route and says again what it is.
            if neighbours[key]!.isStub {
            } else if config.stub {
                neighbours[key]?.wantsPeriodicDump = true
                queue(.stubHello, to: key)
            } else if neighbours[key]!.reconciles { neighbours[key]?.wantsSummary = true } else { neighbours[key]?.wantsPeriodicDump = true }
            setNextDump(key, jitteredDump(now))
        }
        stubTimers(now: now)
        if now >= nextDriftSweep {
            sendDrift()
            nextDriftSweep = now.adding(seconds: config.dumpInterval)
        }
        if now >= nextSweep {
            sweep(now: now)
            nextSweep = now.adding(seconds: config.sweepInterval)
        }
    }

    public var nextDeadline: Instant {
        min(min(min(nextSweep, backlogDue), min(nextDriftSweep, stubDeadline)), earliestDumpDeadline())
    }

    func sweep(now: Instant) {
        let t = stamp(now)
        for i in entries.indices where entries[i].live {
            let before = Int(entries[i].routeCount)
            let base = i * routeSlots
            var j = 0
            while j < Int(entries[i].routeCount) {
                if Int32(bitPattern: routePool[base + j].expires &- t) <= 0 { removeRoute(at: j, of: i) } else { j += 1 }
            }
            let count = Int(entries[i].routeCount)
            if count != before || (entries[i].selected < 0 && count > 0) {
                reselect(Int32(i), now: now)
            }
            if entries[i].routeCount == 0, entries[i].lostAt != 0,
               t &- entries[i].lostAt >= deciseconds(config.sourceGarbageTime), !entries[i].triggered {
                freeEntry(Int32(i))
            }
        }
        let dedup = deciseconds(config.requestDedupTime)
        recentRequests = recentRequests.filter { t &- $0.value < dedup }
    }

    func jitteredDump(_ now: Instant) -> Instant {
        let j = 0.88 + Double(random.next() % 1000) / 1000 * 0.24
        return now.adding(seconds: config.dumpInterval * j)
    }

    func stamp(_ now: Instant) -> UInt32 {
        UInt32(truncatingIfNeeded: (now.nanoseconds &- epoch.nanoseconds) / 100_000_000) &+ 1
    }

    func deciseconds(_ s: Double) -> UInt32 { UInt32(max(1, s * 10)) }
}
