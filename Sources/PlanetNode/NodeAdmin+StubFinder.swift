import PlanetCore
import PlanetAdmin
import PlanetCapacity

/// The finder's calls on a stub (Docs/cli.md, "nodes find"; Docs/protocol.md, "Capacity on
/// stub nodes"): a stub holds no directory, so `getNodes`, `findNodes` and `getNode` become a
/// query to its upstream, answered later from the node's loop. This is the one admin call
/// that waits on the network: the caller gives a reply closure, which the node calls exactly
/// once, from its loop, when the answer is in or after `CapacityFinds.timeout`.
extension Node {
    /// Whether the finder's calls are asked of the upstream (use `admin(_:now:reply:)`).
    public var findsThroughUpstream: Bool { capacity.gossip.isStub }

    /// Answers any admin call; the finder's calls on a stub asynchronously (the upstream is
    /// asked), everything else at once.
    public func admin(_ request: AdminRequest, now: Instant, reply: @escaping (Result<any AdminResponse, AdminError>) -> Void) {
        switch request {
        case .getNodes, .getNode, .findNodes:
            guard findsThroughUpstream else { reply(admin(request, now: now)); return }
            let coordinates = config.capacity.latitude.flatMap { lat in config.capacity.longitude.map { (lat, $0) } }
            capacity.askUpstream(request, upstream: router.stubUpstream, ownKey: identity.publicKey, coordinates: coordinates,
                                 now: now, reply: reply)
            pump(now: now)
        default:
            reply(admin(request, now: now))
        }
    }
}

extension CapacityNeighbour {
    /// Sends the finder call `request` to the upstream as a find query, checked here first so
    /// a bad argument is answered at once, as it is on any node.
    func askUpstream(_ request: AdminRequest, upstream: PublicKey?, ownKey: PublicKey, coordinates: (latitude: Double, longitude: Double)?,
                     now: Instant, reply: @escaping (Result<any AdminResponse, AdminError>) -> Void) {
        guard unixTime(now) != nil else { reply(.failure(AdminError("the node has not been told the time yet; try again"))); return }
        var filters: [CapacityMessage.Filter]
        switch request {
        case .getNode(let text):
            guard PublicKey(hex: text) != nil || IPv6Address(text) != nil else {
                reply(.failure(.argument("node", "'\(text)' is neither a public key (64 hex digits) nor an overlay address"))); return
            }
            filters = [.init("node", text)]
        case .getNodes: filters = []
        case .findNodes(let given): filters = given.map { .init($0.filter.argument, $0.value) }
        default: reply(.failure(AdminError("not a capacity call"))); return
        }
        if case .findNodes = request {
            switch CapacityQuery.parse(filters.map { ($0.name, $0.value) }) {
            case .failure(let e): reply(.failure(.argument(e.argument, e.reason))); return
            case .success(let q) where q.sort == .distance && q.near == nil:
                // Distances from this node, not from the upstream: the upstream limits by them.
                guard let here = coordinates else {
                    reply(.failure(.argument("sort", "distance needs near LAT,LON (this node has no coordinates in its config)"))); return
                }
                filters.append(.init("near", "\(here.latitude),\(here.longitude)"))
            case .success: break
            }
        }
        guard filters.allSatisfy({ $0.name.utf8.count <= 255 && $0.value.utf8.count <= 255 }), filters.count <= 255,
              CapacityMessage.findQuery(id: 0, filters: filters).encodedCount <= CapacityMessage.maxBytes else {
            reply(.failure(AdminError("the filters are too long to send to the upstream"))); return
        }
        guard let upstream else { reply(.failure(AdminError("upstream did not answer (this stub has no upstream up)"))); return }
        guard let id = gossip.find(filters, upstream: upstream, now: now) else {
            reply(.failure(AdminError("too many finder calls waiting for the upstream; try again"))); return
        }
        waitingFinds[id] = (request, reply)
        finishFinds(now: now)
    }

    /// Replies to the admin calls whose query finished: the records the upstream sent (each
    /// signature checked by `CapacityFinds`) answered as the node answers from its directory,
    /// with the upstream's metrics.
    func finishFinds(now: Instant) {
        guard gossip.finds.hasOutcomes, let unix = unixTime(now) else { return }
        for (id, outcome) in gossip.finds.drain() {
            guard let waiting = waitingFinds.removeValue(forKey: id) else { continue }
            switch outcome {
            case .failed(let reason):
                waiting.reply(.failure(AdminError(reason)))
            case .found(let records, let metrics, let held):
                var byKey: [PublicKey: Int] = [:]
                for (r, m) in zip(records, metrics) { if let m, let (k, _) = CapacityRecord.header(r) { byKey[k] = m } }
                let config = announcer.config
                let coordinates = config.latitude.flatMap { lat in config.longitude.map { (lat, $0) } }
                var snapshot = CapacityFinderSnapshot(entries: [], unixNow: unix, ownKey: announcer.identity.publicKey, coordinates: coordinates)
                snapshot.fetched = .init(records: records, metrics: byKey, held: held)
                waiting.reply(Node.answerCapacity(waiting.request, snapshot: snapshot) { keys in keys.map { byKey[$0] } })
            }
        }
    }
}
