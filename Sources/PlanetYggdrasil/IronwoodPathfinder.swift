import PlanetCore

/// Path lookups and the path cache (ironwood pathfinder.go).
///
/// To reach a key, a node multicasts a PathLookup down the tree links whose bloom filter holds
/// the (transformed) key; the owner answers with a PathNotify carrying its coordinates signed
/// by itself, routed greedily back to the asker's coordinates. The asker keeps the path a
/// minute (longer while packets arrive from that key) and routes Traffic by it. A lookup is
/// remembered as a "rumor" under the transformed key (the asker may know only a partial key);
/// a notify is only accepted for a rumor or a path we already have.
struct IronwoodPathfinder {
    struct Path {
        var path: [UInt64]
        var seq: UInt64
        /// When the path was first learnt: a lookup for the key is throttled for a second after
        /// (ironwood never updates it later).
        var requestedAt: Instant
        var expires: Instant
        /// The last packet sent along the path, re-sent when a newer path arrives.
        var traffic: IronwoodTraffic?
        /// A PathBroken came back: incoming packets no longer extend the path's life.
        var broken = false
    }

    struct Rumor {
        /// The latest packet waiting for this lookup (ironwood keeps one).
        var traffic: IronwoodTraffic?
        var sentAt: Instant
        var expires: Instant
    }

    /// Our own signed coordinates (seq, coords, signature), re-signed only when they change.
    var notifySeq: UInt64 = 0
    var notifyCoords: [UInt64] = []
    var notifySignature: [UInt8]
    var paths: [PublicKey: Path] = [:]
    var rumors: [PublicKey: Rumor] = [:]

    init(identity: NodeIdentity) {
        notifySignature = IronwoodPathNotify.sign(seq: 0, coords: [], by: identity)
    }
}

extension IronwoodRouter {
    /// Ironwood's `_rumorSendLookup`: note (or renew) the rumor under the transformed key and
    /// send the lookup, unless one went for it less than a second ago.
    func rumorLookup(_ dest: PublicKey, now: Instant) {
        let xform = transform(dest)
        if var rumor = pathfinder.rumors[xform] {
            guard now.seconds(since: rumor.sentAt) >= timing.pathThrottle else { drops.count(.lookupThrottled); return }
            rumor.sentAt = now
            rumor.expires = now.adding(seconds: timing.pathTimeout)
            pathfinder.rumors[xform] = rumor
        } else {
            guard pathfinder.rumors.count < limits.rumors else { drops.count(.rumorTableFull); return }
            pathfinder.rumors[xform] = .init(traffic: nil, sentAt: now, expires: now.adding(seconds: timing.pathTimeout))
        }
        sendLookup(dest, now: now)
    }

    /// Ironwood's `_sendLookup`: our lookup, handled as if it had arrived from ourselves.
    func sendLookup(_ dest: PublicKey, now: Instant) {
        if let path = pathfinder.paths[dest], now.seconds(since: path.requestedAt) < timing.pathThrottle {
            drops.count(.lookupThrottled)
            return
        }
        let lookup = IronwoodPathLookup(source: selfKey, dest: dest, from: rootAndPath(selfKey).1)
        handleLookup(lookup, from: selfKey, now: now)
    }

    /// Ironwood's `_handleLookup`: pass the lookup on, and answer it if its transformed
    /// destination is our transformed key.
    func handleLookup(_ lookup: IronwoodPathLookup, from fromKey: PublicKey, now: Instant) {
        multicast(lookup, from: fromKey)
        guard transform(lookup.dest) == transform(selfKey) else { return }
        let coords = rootAndPath(selfKey).1
        let seq = unixSeconds(now)
        if pathfinder.notifySeq != seq || pathfinder.notifyCoords != coords {
            pathfinder.notifySeq = seq
            pathfinder.notifyCoords = coords
            pathfinder.notifySignature = IronwoodPathNotify.sign(seq: seq, coords: coords, by: identity)
        }
        let notify = IronwoodPathNotify(path: lookup.from, watermark: .max, source: selfKey, dest: lookup.source,
                                        seq: pathfinder.notifySeq, coords: pathfinder.notifyCoords,
                                        signature: pathfinder.notifySignature)
        handleNotify(notify, now: now)
    }

    /// Ironwood's `_handleNotify`: forward it toward its path, or, if it is for us, take the
    /// path when it is newer and different (or answers a rumor) and signed by its source.
    func handleNotify(_ notify: IronwoodPathNotify, now: Instant) {
        var notify = notify
        if let id = nextHop(notify.path, watermark: &notify.watermark) {
            emit(id, .pathNotify, notify.encoded)
            return
        }
        guard notify.dest == selfKey else { drops.count(.notifyNotForUs); return }
        var info: IronwoodPathfinder.Path
        if let known = pathfinder.paths[notify.source] {
            guard notify.seq > known.seq, notify.coords != known.path else { drops.count(.notifyStale); return }
            guard (try? notify.verify()) != nil else { drops.count(.notifyBadSignature); return }
            info = known
            info.expires = now.adding(seconds: timing.pathTimeout)
        } else {
            let xform = transform(notify.source)
            guard pathfinder.rumors[xform] != nil else { drops.count(.notifyUnrequested); return }
            guard (try? notify.verify()) != nil else { drops.count(.notifyBadSignature); return }
            guard pathfinder.paths.count < limits.paths else { drops.count(.pathTableFull); return }
            info = .init(path: [], seq: 0, requestedAt: now, expires: now.adding(seconds: timing.pathTimeout))
            if let waiting = pathfinder.rumors[xform]!.traffic, waiting.dest == notify.source {
                info.traffic = waiting
                pathfinder.rumors[xform]!.traffic = nil
            }
        }
        info.path = notify.coords
        info.seq = notify.seq
        info.broken = false
        let pending = info.traffic
        info.traffic = nil
        pathfinder.paths[notify.source] = info
        output.append(.pathNotify(key: notify.source))
        if let traffic = pending { sendTraffic(traffic, now: now) }
    }

    /// Ironwood's pathfinder `_handleTraffic` (WriteTo's second half): route by the known path
    /// and keep the packet, or look the key up and keep the packet with the rumor.
    func sendTraffic(_ traffic: IronwoodTraffic, now: Instant) {
        var traffic = traffic
        if let info = pathfinder.paths[traffic.dest] {
            traffic.path = info.path
            // Our own coordinates, from the cache `distance` fills (cleared whenever the tree
            // changes): walking the tree and allocating a visited set per packet cost more.
            traffic.from = ownPath()
            pathfinder.paths[traffic.dest]!.traffic = traffic
            routeTraffic(traffic, now: now)
            return
        }
        rumorLookup(traffic.dest, now: now)
        let xform = transform(traffic.dest)
        guard pathfinder.rumors[xform] != nil else { return }  // the lookup table was full (counted)
        if pathfinder.rumors[xform]!.traffic != nil { drops.count(.bufferedReplaced) }
        pathfinder.rumors[xform]!.traffic = traffic
    }

    /// Ironwood's `_doBroken`: tell the traffic's source, routing back to its `from`.
    func sendBroken(for traffic: IronwoodTraffic, now: Instant) {
        handleBroken(IronwoodPathBroken(path: traffic.from, watermark: .max, source: traffic.source, dest: traffic.dest), now: now)
    }

    /// Ironwood's `_handleBroken`: forward it, or, if we are the source, mark the path broken
    /// and look the destination up again (throttled).
    func handleBroken(_ broken: IronwoodPathBroken, now: Instant) {
        var broken = broken
        if let id = nextHop(broken.path, watermark: &broken.watermark) {
            emit(id, .pathBroken, broken.encoded)
            return
        }
        guard broken.source == selfKey else { drops.count(.brokenNotForUs); return }
        guard pathfinder.paths[broken.dest] != nil else { return }
        pathfinder.paths[broken.dest]!.broken = true
        sendLookup(broken.dest, now: now)
    }

    /// A packet from `key` arrived: its path lives another minute, unless it was reported broken.
    func resetPathTimeout(_ key: PublicKey, now: Instant) {
        guard let info = pathfinder.paths[key], !info.broken else { return }
        pathfinder.paths[key]!.expires = now.adding(seconds: timing.pathTimeout)
    }

    func expirePaths(now: Instant) {
        for (key, info) in pathfinder.paths where info.expires <= now {
            pathfinder.paths[key] = nil
        }
        for (key, rumor) in pathfinder.rumors where rumor.expires <= now {
            if rumor.traffic != nil { drops.count(.bufferedExpired) }
            pathfinder.rumors[key] = nil
        }
    }
}
