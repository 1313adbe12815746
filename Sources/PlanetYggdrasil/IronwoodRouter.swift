import PlanetCore

/// Ironwood's router (network/router.go, bloomfilter.go, pathfinder.go at commit 743fe2f, the one
/// yggdrasil 0.5.12 pins) as a sans-I/O state machine: frames from links and the time go in,
/// frames for links, delivered payloads and path notifications come out (`takeOutput`).
///
/// One object per node. The concepts live in their own files, as extensions of this class:
/// the spanning tree (`IronwoodTree`, `IronwoodTreeInfo`), the bloom filters per tree link
/// (`IronwoodBlooms`), path lookups and the path cache (`IronwoodPathfinder`) and greedy
/// forwarding by tree distance (`IronwoodForwarding`). Iteration over peers is in a fixed order
/// (by key, links by age) where ironwood iterates a Go map, so a run is reproducible; every
/// choice ironwood makes in map order is one it would also make in some order.
///
/// Not here: keepalives and the link's read deadline (the link layer's, as in ironwood's
/// peers.go), per-link send queues (ironwood drops the oldest queued packet after 25 ms; the
/// runtime's writer does that), and the end-to-end sessions (`encrypted/`), which are the
/// payloads of `send` and `.deliver`.
public final class IronwoodRouter {
    /// Bounds on every table the network fills (ironwood has none). When one is full, new
    /// entries are refused and counted (`drops`); existing entries keep working.
    public struct Limits: Sendable {
        /// Links (several may go to one key). Ironwood's next-hop search sizes for 1024.
        public var links = 1024
        /// Tree entries (`infos`): our peers' ancestries, so about peers × tree depth; public
        /// nodes with ~1,650 peers hold a few thousand.
        public var treeInfos = 16_384
        /// Known paths to destinations (the path cache) and pending lookups (rumors), each.
        public var paths = 4096
        public var rumors = 4096
        public init() {}
    }

    /// Ironwood's timers (network/config.go defaults; yggdrasil changes none of them).
    public struct Timing: Sendable {
        /// How often the maintenance runs: parent choice, announcements, blooms.
        public var maintenance = 1.0
        /// Our own announcement is renewed after this (routerRefresh, 4 min).
        public var refresh = 240.0
        /// Another node's tree entry is forgotten this long after it was last replaced (routerTimeout, 5 min).
        public var timeout = 300.0
        /// A path, or a pending lookup, is forgotten after this (pathTimeout, 1 min).
        public var pathTimeout = 60.0
        /// At most one lookup per destination in this time (pathThrottle, 1 s).
        public var pathThrottle = 1.0
        public init() {}
    }

    /// One link, ironwood's `*peer` as the router sees it.
    struct Link {
        let key: PublicKey
        let port: UInt64
        let priority: UInt8
        /// Global connection counter: the oldest link wins ties in forwarding.
        let order: UInt64
        /// Exponentially weighted SigReq→SigRes time in nanoseconds; starts "unknown" (2^32−1 ns).
        var lag: UInt64 = IronwoodRouter.unknownLatency
        /// Whether this link answered the current request (so its RTT counted once).
        var responded = false
        var sigReqSentAt: Instant?
        var sigResAt: Instant?
    }

    /// Ironwood's `routerUnknownLatency`: time.Duration(^uint32(0)).
    static let unknownLatency: UInt64 = UInt64(UInt32.max)

    public let identity: NodeIdentity
    public let limits: Limits
    public let timing: Timing
    /// What goes into bloom filters and is compared in lookups instead of a key (ironwood's
    /// `WithBloomTransform`); yggdrasil installs `YggdrasilBloomKey.transform`, so a lookup for a
    /// partial key recovered from an address finds the node. Set it before adding peers.
    public var transform: @Sendable (PublicKey) -> PublicKey

    var selfKey: PublicKey { identity.publicKey }
    let nonces: () -> UInt64

    var links: [IronwoodPeerID: Link] = [:]
    /// The links of each peer key, and the port all of them share.
    var peers: [PublicKey: Set<IronwoodPeerID>] = [:]
    var ports: [UInt64: PublicKey] = [:]
    var portOf: [PublicKey: UInt64] = [:]
    var nextOrder: UInt64 = 0

    var tree = IronwoodTree()
    var blooms: [PublicKey: IronwoodPeerBloom] = [:]
    var pathfinder: IronwoodPathfinder
    /// Each key's path from the root, for distances; cleared whenever the tree changes.
    var pathCache: [PublicKey: [UInt64]] = [:]
    /// `nextHop`'s candidate list (link order, link, distance), kept so a packet allocates none.
    var nextHopScratch: [(UInt64, IronwoodPeerID, UInt64)] = []

    var nextMaintenance: Instant
    /// Unix seconds minus monotonic seconds (PathNotify's seq is wall-clock seconds).
    var wallClockOffset: Int64 = 0
    var output: [IronwoodRouterOutput] = []
    public internal(set) var drops = DropCounters<IronwoodDropReason>()

    /// `nonces` draws the SigReq nonces (ironwood reads 8 bytes of crypto/rand); tests pass a
    /// fixed sequence. The first maintenance, which makes the node its own root, runs at `now`.
    public init(identity: NodeIdentity, now: Instant, limits: Limits = Limits(), timing: Timing = Timing(),
                transform: @escaping @Sendable (PublicKey) -> PublicKey = YggdrasilBloomKey.transform,
                nonces: @escaping () -> UInt64 = Sodium.randomUInt64) {
        self.identity = identity
        self.limits = limits
        self.timing = timing
        self.transform = transform
        self.nonces = nonces
        self.pathfinder = IronwoodPathfinder(identity: identity)
        self.nextMaintenance = now
        tree.doRoot2 = true
        tick(now: now)
    }

    /// The largest payload `send` carries: ironwood's MTU for yggdrasil's 131070-byte frames,
    /// less a Traffic with empty paths, two keys, the largest watermark and the type byte.
    public var mtu: Int { IronwoodFrame.maxLength - (1 + 1 + 2 * PublicKey.byteCount + Uvarint.size(.max) + 1) }

    /// The wall clock, for PathNotify's seq (Unix seconds, so it grows across restarts).
    public func setWallClock(unixSeconds: UInt64, at now: Instant) {
        wallClockOffset = Int64(unixSeconds) - Int64(now.seconds)
    }

    func unixSeconds(_ now: Instant) -> UInt64 { UInt64(max(0, Int64(now.seconds) + wallClockOffset)) }

    // MARK: Links

    /// A link came up (after the meta handshake): ironwood's `addPeer`. A new key gets the
    /// lowest free port ≥ 1; another link to a known key shares its port and is sent every
    /// announcement that key was already sent. Each link gets the key's current SigReq and the
    /// bloom last sent to the key. False (and counted) when the table is full or the key is ours.
    @discardableResult
    public func addPeer(_ id: IronwoodPeerID, key: PublicKey, priority: UInt8, now: Instant) -> Bool {
        guard links[id] == nil, key != selfKey else { return false }
        guard links.count < limits.links else { drops.count(.peerTableFull); return false }
        if peers[key] == nil {
            var port: UInt64 = 1
            while ports[port] != nil { port += 1 }
            peers[key] = []
            ports[port] = key
            portOf[key] = port
            tree.sent[key] = []
            blooms[key] = IronwoodPeerBloom()
        }
        let port = portOf[key]!
        links[id] = Link(key: key, port: port, priority: priority, order: nextOrder)
        nextOrder += 1
        if !peers[key]!.isEmpty {
            for k in tree.sent[key]!.sorted() {
                if let info = tree.infos[k] { emit(id, .announce, info.announce(for: k).encoded) }
            }
        }
        peers[key]!.insert(id)
        if tree.requests[key] == nil { tree.requests[key] = newRequest() }
        sendRequest(tree.requests[key]!, on: id, now: now)
        emit(id, .bloom, blooms[key]!.send.encoded)
        return true
    }

    /// A link went down: ironwood's `removePeer`. The last link of a key takes the key's
    /// request, response, sent set, port and blooms with it; otherwise the remaining links are
    /// sent the bloom again (the peer's view may have raced with the closed link).
    public func removePeer(_ id: IronwoodPeerID, now: Instant) {
        guard let link = links.removeValue(forKey: id) else { return }
        peers[link.key]?.remove(id)
        if peers[link.key]?.isEmpty ?? true {
            peers[link.key] = nil
            ports[link.port] = nil
            portOf[link.key] = nil
            tree.sent[link.key] = nil
            tree.requests[link.key] = nil
            tree.responses[link.key] = nil
            pathCache[link.key] = nil
            blooms[link.key] = nil
        } else {
            for other in linkIDs(of: link.key) { emit(other, .bloom, blooms[link.key]!.send.encoded) }
        }
    }

    /// The links of `key`, oldest first.
    func linkIDs(of key: PublicKey) -> [IronwoodPeerID] {
        (peers[key] ?? []).sorted { links[$0]!.order < links[$1]!.order }
    }

    // MARK: Input

    /// A frame from a link. Throws when ironwood would close the link: a body that does not
    /// decode, a SigRes not signed by the peer for us, an Announce whose signatures fail.
    /// Keepalive and dummy frames are the link layer's and ignored here.
    public func receive(_ frame: IronwoodFrame, from id: IronwoodPeerID, now: Instant) throws(IronwoodRouterError) {
        guard let link = links[id] else { drops.count(.unknownPeer); return }
        do {
            switch frame.type {
            case .dummy, .keepAlive:
                return
            case .sigReq:
                let request = try IronwoodSigReq(body: frame.body)
                let response = IronwoodSigRes(answering: request, node: link.key, port: link.port, parent: identity)
                emit(id, .sigRes, response.encoded)
            case .sigRes:
                let response = try IronwoodSigRes(body: frame.body)
                guard response.verify(node: selfKey, parent: link.key) else { throw IronwoodRouterError.badSignature(.sigRes) }
                links[id]!.sigResAt = now
                let rtt = links[id]!.sigReqSentAt.map { now.nanoseconds &- $0.nanoseconds } ?? 0
                handleResponse(response, on: id, rtt: rtt)
            case .announce:
                let announce = try IronwoodAnnounce(body: frame.body)
                do { try announce.verify() } catch { throw IronwoodRouterError.badSignature(.announce) }
                handleAnnounce(announce, on: id, now: now)
            case .bloom:
                let bloom = try IronwoodBloom(body: frame.body)
                blooms[link.key]?.recv = bloom
                // The empty bloom a link opens with (the last one sent, empty for a new peer)
                // does not count: only a filter that names the peer itself is its own.
                if bloom.contains(transform(link.key).bytes) { blooms[link.key]?.heard = true }
            case .pathLookup:
                let lookup = try IronwoodPathLookup(body: frame.body)
                guard blooms[link.key]?.onTree == true else { drops.count(.lookupOffTree); return }
                handleLookup(lookup, from: link.key, now: now)
            case .pathNotify:
                handleNotify(try IronwoodPathNotify(body: frame.body), now: now)
            case .pathBroken:
                handleBroken(try IronwoodPathBroken(body: frame.body), now: now)
            case .traffic:
                routeTraffic(try IronwoodTraffic(body: frame.body), now: now)
            }
        } catch let error as IronwoodRouterError {
            throw error
        } catch {
            throw .malformed(frame.type)
        }
    }

    // MARK: Time

    /// Expires what is due and runs the maintenance when its second has come.
    public func tick(now: Instant) {
        expireTree(now: now)
        expirePaths(now: now)
        if now >= nextMaintenance {
            maintain(now: now)
            nextMaintenance = now.adding(seconds: timing.maintenance)
        }
    }

    /// The next maintenance (at most a second away). Expiries are checked on every tick, so an
    /// entry goes at the first tick at or after its deadline: at most one maintenance period late.
    public var nextDeadline: Instant? { nextMaintenance }

    /// Ironwood's `_doMaintenance`, once a second.
    func maintain(now: Instant) {
        tree.doRoot2 = tree.doRoot2 || tree.doRoot1
        pathCache.removeAll(keepingCapacity: true)
        fixParent(now: now)
        sendAnnounces()
        maintainBlooms()
    }

    // MARK: Sending

    /// Ironwood's WriteTo: with a path to `dest`, the packet goes out greedily (and is kept, so
    /// it can be re-sent if a newer path arrives); without one, a lookup goes out (throttled)
    /// and the packet waits, the latest one per destination only, until a notify brings a path.
    public func send(to dest: PublicKey, payload: [UInt8], now: Instant) {
        guard payload.count <= mtu else { drops.count(.oversize); return }
        let traffic = IronwoodTraffic(path: [], from: [], source: selfKey, dest: dest, watermark: .max, payload: payload)
        sendTraffic(traffic, now: now)
    }

    /// Ironwood's SendLookup: look `key` up (a whole key or a partial one recovered from an
    /// address; matching is by `transform`), at most once a second per transformed key.
    public func lookup(_ key: PublicKey, now: Instant) {
        rumorLookup(key, now: now)
    }

    public func takeOutput() -> [IronwoodRouterOutput] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    /// Queues a frame, unless it exceeds ironwood's frame limit (which ironwood drops unsent).
    func emit(_ id: IronwoodPeerID, _ type: IronwoodFrame.FrameType, _ body: [UInt8]) {
        guard body.count + 1 <= IronwoodFrame.maxLength else { drops.count(.oversize); return }
        output.append(.frame(id, IronwoodFrame(type: type, body: body)))
    }
}
