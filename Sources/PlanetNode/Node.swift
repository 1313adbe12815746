import PlanetCore
import PlanetAdmin
import PlanetLink
import PlanetRouting
import PlanetCapacity

/// A whole node as a state machine: the link layer, the neighbour protocols (routing first),
/// end-to-end sessions and the data plane composed. Inputs are datagrams, packets from local
/// devices, admin calls and the passing of time; outputs collect in `output` for the runtime to
/// carry out. Nothing here does I/O.
///
/// The files, in a packet's order (Docs/architecture.md, "A packet's path"):
///   Node+Send.swift      local device → route → direct frame or session (`receiveTunPacket`)
///   NodeSessions.swift   sealing, opening, the session handshake, error reports, session timers
///   SessionControl.swift sealed control messages inside a session
///   Node+Punching.swift  hole punching: candidate endpoints over the session, probes by the link layer
///   Node+Receive.swift   datagram → link → the one frame dispatch → direct, overlay or neighbour protocol
///   Node+Relay.swift     an overlay packet for someone else: hop limit, route, sealed again in place
///   Node+Deliver.swift   a packet for a local device, into `output`
///   Node+Foreign.swift   one node, two networks: packets with no Planetary route, and back
///   Node+VM.swift        VMs hosted here: inbound policy by sender key, per-VM counters (VMGuard.swift)
///   Node+Events.swift    the event pump: link events to the neighbour protocols, paced output
///   Node+Capacity.swift  the runtime's inputs to the capacity directory (CapacityNeighbour)
///   NodeAdmin.swift      the admin API's answers (NodeAdmin+Capacity.swift: the finder's)
public final class Node {
    public let identity: NodeIdentity
    public let config: NodeConfig
    public let address: IPv6Address
    public let subnet: IPv6Prefix
    public let started: Instant
    let logger: Logger

    /// The node's parts: the runtime speaks to the node only through its verbs (here and in the
    /// Node+… files), so these are for the package's tests and tools, not public.
    package let links: LinkLayer
    /// The route table the data plane reads; also the first neighbour protocol (`RoutingNeighbour`).
    package let router: Router
    /// The capacity directory and this node's own record (`CapacityNeighbour`, Node+Capacity.swift).
    package let capacity: CapacityNeighbour
    var neighbourProtocols = NeighbourProtocols()
    var sessions = SessionTable()
    var pending = PendingPackets()
    /// A stub's packets whose destination's origin is being asked for (Node+Stub.swift).
    var waitingForOrigin = PendingQueue<UInt64>()
    var controlHandlers = SessionControlHandlers()
    /// ICMPv6 errors and relays' error reports are rate limited; answered session inits too,
    /// the budget shared by neighbour and by source (SessionInitShares.swift).
    var icmpLimiter: TokenBucket
    var reportLimiter: TokenBucket
    var initShares = SessionInitShares()
    /// "Administratively prohibited" answers to packets a VM's policy refused: a bucket of their
    /// own, so a scan of a locked-down VM cannot use up the node's other ICMPv6 errors.
    var vmRefusalLimiter: TokenBucket
    /// The VMs this node hosts: their policies, counters and flows (Node+VM.swift).
    public internal(set) var vms = VMGuard()
    /// The node's own stream (session indices); the link layer and the router each got a stream
    /// split from it, so no two draw the same numbers.
    var random: SplitMix64

    public var stats = NodeStats()
    public var output = NodeOutput()
    /// Swapped with the link layer's event queue on every pump, so draining allocates nothing.
    var eventBuffer: [LinkEvent] = []
    var ownedAddresses = OwnedAddressCache()
    /// Cleared after every call that can change a route.
    var routeCache = RouteCache()
    var pacer = NeighbourPacer(rate: Node.neighbourBytesPerSecond, burst: Node.neighbourBurstBytes,
                               maxQueuedBytes: Node.neighbourMaxQueuedBytes)
    /// When the session timers last ran (they run every `sessionTimerInterval` while any
    /// session has a handshake under way or traffic to watch).
    var sessionTimersRan = Instant.zero
    /// A neighbour protocol may have something to say since the last pump (`pumpData`): a
    /// frame of its came in, or a stub's router queued an origin query.
    var protocolOutputPending = false
    /// Hole punching's state and counters (Node+Punching.swift).
    var punching: Punching
    /// The second network packets without a Planetary route take (Node+Foreign.swift).
    var foreign: ForeignNetwork?

    /// Neighbour-protocol output per neighbour (Docs/protocol.md, "Pacing neighbour output"):
    /// 1 MB/s after a 256 KiB burst, so a 10⁴-origin routing dump (~1 MB) takes ~1 s and a
    /// 10⁵-origin one ~10 s; at most 16 MiB waiting (a 10⁵-origin dump and change).
    public static let neighbourBytesPerSecond = 1_000_000.0
    public static let neighbourBurstBytes = 262_144.0
    public static let neighbourMaxQueuedBytes = 16 << 20
    /// A routing dump goes to the pacer a slice at a time, while less than this waits for the
    /// neighbour (~64 ms at `neighbourBytesPerSecond`): the most a request or triggered update
    /// to a neighbour still receiving its table waits behind it.
    public static let neighbourDumpQueueBytes = 64 << 10

    /// How long a packet may wait for a session before the sender gets "address unreachable".
    public static let pendingTimeout = 5.0
    public static let sessionInitRetry = 1.0
    public static let sessionRekeyAfter = 120.0
    public static let sessionRejectAfter = 180.0
    public static let sessionTimerInterval = 0.5

    /// `ciphers` is what handshakes offer; the runtime narrows it when the operator disables AES.
    /// `transmits`: where every datagram the node sends is written, in order; the runtime makes
    /// it with the slots it can send in a batch and flushes it after each input.
    public init(identity: NodeIdentity, config: NodeConfig, logger: Logger = .disabled, now: Instant, random: SplitMix64 = .system(),
                ciphers: TransportCiphers = .hardwareSupported, transmits: TransmitQueue = TransmitQueue()) {
        self.identity = identity
        self.config = config
        self.logger = logger
        var random = random
        address = identity.address
        subnet = identity.subnet
        started = now
        icmpLimiter = TokenBucket(rate: 100, burst: 50, now: now)
        reportLimiter = TokenBucket(rate: 100, burst: 50, now: now)
        vmRefusalLimiter = TokenBucket(rate: 20, burst: 10, now: now)
        var linkConfig = LinkConfig(config)
        linkConfig.ciphers = ciphers
        links = LinkLayer(identity: identity, config: linkConfig, rng: random.split(), logger: logger, now: now, transmits: transmits)
        var routerConfig = RouterConfig()
        routerConfig.stub = config.routing.isStub(peers: config.peers, listen: config.listen)
        router = Router(identity: identity, config: routerConfig, logger: logger, now: now, random: random.split())
        capacity = CapacityNeighbour(identity: identity, config: config.capacity)
        self.random = random
        punching = Punching(enabled: config.nat.punch, now: now)
        // A dump is handed to the pacer only while the neighbour's queue is short, so whatever
        // routing has to say next (a seqno request, a triggered update) waits behind at most
        // that much, not behind a whole table.
        // (Counted in routing's lane and those before it: a bulk protocol's backlog in a later
        // lane never holds the table back.)
        register(RoutingNeighbour(router: router, dumpRoom: { [unowned self] key in
            Node.neighbourDumpQueueBytes - self.pacer.queuedBytes(for: key, throughLane: RoutingNeighbour.lane)
        }))
        capacity.follow(router)
        register(capacity)
        register(EndpointsControlHandler(node: self))
        // tcp:// and tls:// peers are Yggdrasil links: the runtime's YggdrasilTransport dials them.
        for peer in config.peers where peer.scheme == .udp { links.addPeer(uri: peer, now: now) }
        pump(now: now)
    }

    /// A signed discovery beacon for the runtime to multicast (`LinkLayer.makeBeacon`).
    public func makeBeacon(listenPort: UInt16, timestamp: UInt64) -> [UInt8] {
        links.makeBeacon(listenPort: listenPort, timestamp: timestamp)
    }

    /// The seqno this node last announced its own route with, to save across restarts, and
    /// the one a restart starts past (`Router.restoreSelfSeqno`).
    public var routeSeqno: UInt32 { router.selfSeqno }
    public func restoreRouteSeqno(_ seqno: UInt32) { router.restoreSelfSeqno(seqno) }

    /// Adds a neighbour protocol: its frames are dispatched to it from now on, and neighbours
    /// that come up after this are announced to it.
    public func register(_ p: NeighbourProtocol) {
        neighbourProtocols.register(p)
    }

    // MARK: Inputs other than packets

    public func resolved(_ uri: PeerURI, endpoints: [Endpoint], now: Instant) {
        links.resolved(uri: uri, endpoints: endpoints, now: now)
        pump(now: now)
    }

    public func tick(now: Instant) {
        links.tick(now: now)
        for p in neighbourProtocols.all { p.tick(now: now) }
        routeCache.clear()
        sessionTimers(now: now)
        stubTimers(now: now)
        vms.sweep(now: now, force: false)
        punchTimers(now: now)
        pump(now: now)
    }

    public var nextDeadline: Instant {
        var d = links.nextDeadline
        for p in neighbourProtocols.all { d = min(d, p.nextDeadline) }
        if let oldest = pending.oldest { d = min(d, oldest.adding(seconds: Node.pendingTimeout)) }
        if let oldest = waitingForOrigin.oldest { d = min(d, oldest.adding(seconds: Node.pendingTimeout)) }
        if let paced = pacer.nextDeadline { d = min(d, paced) }
        if sessions.hasHandshakes || sessions.hasTraffic { d = min(d, sessionTimersRan.adding(seconds: Node.sessionTimerInterval)) }
        d = min(d, punchDeadline)
        return d
    }

    public func addPeer(_ uri: PeerURI, now: Instant) {
        links.addPeer(uri: uri, now: now)
        pump(now: now)
    }

    /// Removes the one configured peer `uri` names (`Node.peerNamed`), or says why none.
    @discardableResult
    public func removePeer(_ uri: PeerURI, now: Instant) -> Result<PeerURI, AdminError> {
        let configured = Set(links.snapshot(now: now).compactMap(\.uri))
        let named = Node.peerNamed(by: uri, among: configured)
        if case .success(let m) = named { links.removePeer(uri: m, now: now) }
        pump(now: now)
        return named
    }

    /// The configured peer a `peers remove` URI names, and never another on the same endpoint:
    /// with `?key=`, the peer pinned to that key there; without, the unpinned peer there, or,
    /// when the endpoint has no unpinned peer but exactly one pinned, that one (the endpoint
    /// alone names it). Several pinned and none unpinned is ambiguous: the error lists them.
    static func peerNamed(by uri: PeerURI, among configured: Set<PeerURI>) -> Result<PeerURI, AdminError> {
        let there = configured.filter { $0.endpointText == uri.endpointText }
        if let m = there.first(where: { $0.pinnedKey == uri.pinnedKey }) { return .success(m) }
        if uri.pinnedKey == nil, there.count == 1, let only = there.first { return .success(only) }
        if there.isEmpty { return .failure(AdminError("no peer \(uri)")) }
        let others = there.map(\.description).sorted().joined(separator: ", ")
        return .failure(AdminError("no peer \(uri); that endpoint has \(others): name one of them exactly"))
    }

    func isLocal(_ a: IPv6Address) -> Bool { a == address || subnet.contains(a) }
}

extension LinkConfig {
    init(_ c: NodeConfig) {
        self.init()
        allowedPublicKeys = Set(c.allowedPublicKeys)
    }
}
