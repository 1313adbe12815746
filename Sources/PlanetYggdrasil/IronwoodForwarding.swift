import PlanetCore

/// Greedy forwarding by tree distance (ironwood router.go `_getDist`, `_lookup`,
/// `handleTraffic`), used by Traffic, PathNotify and PathBroken alike.
///
/// A destination is its coordinates (ports from the root). The distance from a node to it is
/// the hops up to their common prefix and down again. A node forwards only while its own
/// distance is below the packet's watermark, lowers the watermark to it, and hands the packet to
/// a peer strictly closer; so even while coordinates change a packet cannot loop. Among closer
/// peers it picks the lowest cost per unit of distance gained, then the closer, then the older
/// link; of two links to one key, the one with the lower priority number.
extension IronwoodRouter {
    /// Tree distance from `key` (its current coordinates, cached until the tree changes) to `destPath`.
    func distance(_ destPath: [UInt64], from key: PublicKey) -> UInt64 {
        let keyPath: [UInt64]
        if let cached = pathCache[key] {
            keyPath = cached
        } else {
            keyPath = rootAndPath(key).1
            pathCache[key] = keyPath
        }
        var dist = UInt64(keyPath.count + destPath.count)
        for i in 0..<min(keyPath.count, destPath.count) {
            guard keyPath[i] == destPath[i] else { break }
            dist -= 2
        }
        return dist
    }

    /// This node's coordinates (its path from the root), cached as `distance` caches every key's.
    func ownPath() -> [UInt64] {
        if let cached = pathCache[selfKey] { return cached }
        let path = rootAndPath(selfKey).1
        pathCache[selfKey] = path
        return path
    }

    /// The link to forward to, or nil when no peer is closer than we are, or when we are not
    /// below the watermark (then the watermark is left as it was).
    func nextHop(_ path: [UInt64], watermark: inout UInt64) -> IronwoodPeerID? {
        let selfDist = distance(path, from: selfKey)
        guard selfDist < watermark else { return nil }
        watermark = selfDist
        // Every packet comes through here: the candidates go into a list kept across calls
        // (no allocation per packet), with their distances, so none is computed twice. The
        // oldest-first order matters (the rules below are not transitive across keys), so the
        // list is still sorted; it holds one or two links in the usual case.
        var candidates = nextHopScratch
        candidates.removeAll(keepingCapacity: true)
        defer { nextHopScratch = candidates }
        for (key, ids) in peers {
            let dist = distance(path, from: key)
            guard dist < selfDist else { continue }
            for id in ids { candidates.append((links[id]!.order, id, dist)) }
        }
        if candidates.count > 1 { candidates.sort { $0.0 < $1.0 } }
        var best: IronwoodPeerID?
        var bestCPD = UInt64.max
        var bestDist = UInt64.max
        for (_, id, dist) in candidates {
            let link = links[id]!
            let cpd = cost(id) / (selfDist - dist)
            let accept: Bool
            if let b = best {
                let bestLink = links[b]!
                if link.key == bestLink.key && link.priority < bestLink.priority { accept = true }
                else if link.key == bestLink.key && link.priority > bestLink.priority { accept = false }
                else if cpd != bestCPD { accept = cpd < bestCPD }
                else if dist != bestDist { accept = dist < bestDist }
                else { accept = link.order < bestLink.order }
            } else {
                accept = true
            }
            if accept { (best, bestCPD, bestDist) = (id, cpd, dist) }
        }
        return best
    }

    /// Ironwood's `handleTraffic`: forward, deliver (resetting the sender's path timeout), or,
    /// at a dead end, send a PathBroken back to the source.
    func routeTraffic(_ traffic: IronwoodTraffic, now: Instant) {
        var traffic = traffic
        if let id = nextHop(traffic.path, watermark: &traffic.watermark) {
            emit(id, .traffic, traffic.encoded)
        } else if traffic.dest == selfKey {
            resetPathTimeout(traffic.source, now: now)
            output.append(.deliver(source: traffic.source, payload: traffic.payload))
        } else {
            drops.count(.trafficDeadEnd)
            sendBroken(for: traffic, now: now)
        }
    }
}
