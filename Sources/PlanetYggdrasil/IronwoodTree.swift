import PlanetCore

/// The spanning tree's state (ironwood router.go): every node's latest signed announcement we
/// know, what each peer key was already sent, our SigReq per peer key and the answers.
///
/// The root is the smallest key anyone can reach. Each node asks every peer to sign its next
/// announcement (SigReq with seq = our seq + 1 and a random nonce); the answer (SigRes) names the
/// port the parent knows us by. We pick a parent among the peers that answered, sign the
/// announcement it agreed to and gossip it; each peer is sent our ancestry and its own, once.
struct IronwoodTree {
    var infos: [PublicKey: IronwoodTreeInfo] = [:]
    /// Per peer key: the keys whose current announcement it has (sent by us or by it).
    var sent: [PublicKey: Set<PublicKey>] = [:]
    var requests: [PublicKey: IronwoodSigReq] = [:]
    var responses: [PublicKey: IronwoodSigRes] = [:]
    /// Our own announcement's refresh is due (4 min), or a peer sent us an old one of ours.
    var refresh = false
    /// No better parent was found: become root at the next maintenance (doRoot2), a second
    /// after it was first noticed (doRoot1), giving a parent's answer time to arrive.
    var doRoot1 = false
    var doRoot2 = false
}

extension IronwoodRouter {
    // MARK: Requests and responses

    func newRequest() -> IronwoodSigReq {
        IronwoodSigReq(seq: (tree.infos[selfKey]?.seq ?? 0) &+ 1, nonce: nonces())
    }

    func sendRequest(_ request: IronwoodSigReq, on id: IronwoodPeerID, now: Instant) {
        links[id]!.responded = false
        links[id]!.sigReqSentAt = now
        emit(id, .sigReq, request.encoded)
    }

    /// Ironwood's `_sendReqs`: after every change of our own announcement, forget the old
    /// requests and answers and ask every peer key again (one request per key, on each link).
    func sendRequests(now: Instant) {
        tree.requests.removeAll()
        tree.responses.removeAll()
        for key in peers.keys.sorted() {
            let request = newRequest()
            tree.requests[key] = request
            for id in linkIDs(of: key) { sendRequest(request, on: id, now: now) }
        }
    }

    /// A SigRes signed by the link's key for us (checked by `receive`). The first answer to the
    /// key's current request is kept as a parent candidate; each link's first answer is its RTT
    /// sample: a new link starts at twice its first RTT (stability first), then moves 1/8 of the
    /// way to each new sample, a sample counting at most twice the old value.
    func handleResponse(_ response: IronwoodSigRes, on id: IronwoodPeerID, rtt: UInt64) {
        let key = links[id]!.key
        guard tree.requests[key] == response.request else { drops.count(.staleResponse); return }
        if tree.responses[key] == nil { tree.responses[key] = response }
        if !links[id]!.responded {
            links[id]!.responded = true
            let lag = links[id]!.lag
            if lag == Self.unknownLatency {
                links[id]!.lag = rtt &* 2
            } else {
                links[id]!.lag = lag &* 7 / 8 &+ min(rtt, lag &* 2) / 8
            }
        }
    }

    /// Ironwood's `_getCost`: the link's lag in whole milliseconds, at least 1.
    func cost(_ id: IronwoodPeerID) -> UInt64 {
        max(1, links[id]!.lag / 1_000_000)
    }

    // MARK: Parent selection

    /// Ironwood's `_fix`: keep or change our parent, or become root. Candidates are the peers
    /// that answered our current request and whose ancestry we know and does not pass through
    /// us; a smaller root always wins; for the same root, a peer whose cost (its depth × the
    /// link's cost, cheapest link) beats the best so far replaces a parent we do not have yet,
    /// and at a refresh one that costs less than half of it replaces the current parent.
    func fixParent(now: Instant) {
        var bestRoot = selfKey
        var bestParent = selfKey
        var bestCost = UInt64.max
        let selfParent = tree.infos[selfKey]?.parent
        if let parent = selfParent, peers[parent] != nil {
            let (root, dists) = rootAndDistances(selfKey)
            if root < bestRoot {
                var cost = UInt64.max
                for id in linkIDs(of: parent) { cost = min(cost, dists[root]! &* self.cost(id)) }
                (bestRoot, bestParent, bestCost) = (root, parent, cost)
            }
        }
        for key in tree.responses.keys.sorted() {
            guard tree.infos[key] != nil else { continue }  // we do not know where it is yet
            let (root, dists) = rootAndDistances(key)
            if dists[selfKey] != nil { continue }  // its way to the root passes through us
            var cost = UInt64.max
            for id in linkIDs(of: key) { cost = min(cost, dists[root]! &* self.cost(id)) }
            if root < bestRoot {
                (bestRoot, bestParent, bestCost) = (root, key, cost)
            } else if root != bestRoot {
                continue
            }
            if (tree.refresh && cost &* 2 < bestCost) || (bestParent != selfParent && cost < bestCost) {
                (bestRoot, bestParent, bestCost) = (root, key, cost)
            }
        }
        guard tree.refresh || tree.doRoot1 || tree.doRoot2 || selfParent != bestParent else { return }
        if bestRoot != selfKey, let response = tree.responses[bestParent], useResponse(response, from: bestParent, now: now) {
            (tree.refresh, tree.doRoot1, tree.doRoot2) = (false, false, false)
            sendRequests(now: now)
        } else if tree.doRoot2 {
            becomeRoot(now: now)
            (tree.refresh, tree.doRoot1, tree.doRoot2) = (false, false, false)
            sendRequests(now: now)
        } else if !tree.doRoot1 {
            tree.doRoot1 = true
        }
    }

    /// Our announcement under `parent`, countersigned by us.
    func useResponse(_ response: IronwoodSigRes, from parent: PublicKey, now: Instant) -> Bool {
        update(IronwoodAnnounce(node: identity, parent: parent, response: response), now: now)
    }

    /// A fresh request answered by ourselves with port 0. Always newer than our current
    /// announcement (seq + 1), so it is always accepted.
    func becomeRoot(now: Instant) {
        let announce = IronwoodAnnounce.root(identity, request: newRequest())
        _ = update(announce, now: now)
    }

    // MARK: Announcements

    /// Ironwood's `_update`: store `announce` if it replaces what we know of its key
    /// (`IronwoodTreeInfo.isReplaced`). Every peer may then need it again, so it leaves every
    /// sent set; its timer restarts (our own: the refresh; others: the expiry).
    func update(_ announce: IronwoodAnnounce, now: Instant) -> Bool {
        if let info = tree.infos[announce.key], !info.isReplaced(by: announce) { return false }
        for key in tree.sent.keys { tree.sent[key]!.remove(announce.key) }
        pathCache.removeAll(keepingCapacity: true)
        let delay = announce.key == selfKey ? timing.refresh : timing.timeout
        tree.infos[announce.key] = IronwoodTreeInfo(announce, deadline: now.adding(seconds: delay))
        return true
    }

    /// Ironwood's `_handleAnnounce` (signatures already checked). Accepted: noted as known to
    /// the sender (and, if it is our own, older than we thought: we restarted, so refresh).
    /// Refused: if the sender's differs from ours, we answer that one link with ours.
    func handleAnnounce(_ announce: IronwoodAnnounce, on id: IronwoodPeerID, now: Instant) {
        let peerKey = links[id]!.key
        if tree.infos[announce.key] == nil, announce.key != selfKey, tree.infos.count >= limits.treeInfos {
            drops.count(.treeTableFull)
            return
        }
        if update(announce, now: now) {
            if announce.key == selfKey { tree.refresh = true }
            tree.sent[peerKey]?.insert(announce.key)
        } else {
            let ours = tree.infos[announce.key]!
            tree.sent[peerKey]?.insert(announce.key)
            if !ours.sameAnnouncement(as: announce) { emit(id, .announce, ours.announce(for: announce.key).encoded) }
        }
    }

    /// Ironwood's `_sendAnnounces` ("insanely delicate … change nothing"): each peer key is
    /// sent, root first, the entries of our ancestry and then of its own that it was not sent.
    func sendAnnounces() {
        let selfAncestry = ancestry(selfKey)
        for peerKey in tree.sent.keys.sorted() {
            var toSend: [PublicKey] = []
            for key in selfAncestry + ancestry(peerKey) where !tree.sent[peerKey]!.contains(key) {
                toSend.append(key)
                tree.sent[peerKey]!.insert(key)
            }
            guard !toSend.isEmpty else { continue }
            let bodies = toSend.map { tree.infos[$0]!.announce(for: $0).encoded }
            for id in linkIDs(of: peerKey) {
                for body in bodies { emit(id, .announce, body) }
            }
        }
    }

    /// Forgets other nodes' entries not replaced for 5 minutes; flags our refresh after 4.
    func expireTree(now: Instant) {
        var expired: [PublicKey] = []
        for (key, info) in tree.infos where info.deadline <= now {
            if key == selfKey {
                tree.refresh = true
                tree.infos[key]!.deadline = .never  // the timer fired once; the next update re-arms it
            } else {
                expired.append(key)
            }
        }
        guard !expired.isEmpty else { return }
        for key in expired {
            tree.infos[key] = nil
            for peer in tree.sent.keys { tree.sent[peer]!.remove(key) }
        }
        pathCache.removeAll(keepingCapacity: true)
    }

    // MARK: Walking the tree

    /// Root first: `key`, its parent, … up to the root or the first unknown entry, reversed.
    func ancestry(_ key: PublicKey) -> [PublicKey] {
        // A set for the loop check: a hostile peer can announce a chain as deep as the table.
        var backwards: [PublicKey] = []
        var seen: Set<PublicKey> = []
        var here = key
        while !seen.contains(here), let info = tree.infos[here] {
            backwards.append(here)
            seen.insert(here)
            here = info.parent
        }
        return backwards.reversed()
    }

    /// Ironwood's `_getRootAndDists`: the root reached from `dest` and each node on the way with
    /// its distance from `dest` (so `dists[root]` is `dest`'s depth).
    func rootAndDistances(_ dest: PublicKey) -> (PublicKey, [PublicKey: UInt64]) {
        var dists: [PublicKey: UInt64] = [:]
        var next = dest
        var root = dest
        var dist: UInt64 = 0
        while dists[next] == nil, let info = tree.infos[next] {
            root = next
            dists[next] = dist
            dist += 1
            next = info.parent
        }
        return (root, dists)
    }

    /// Ironwood's `_getRootAndPath`: `dest`'s coordinates, the ports from the root down. A loop
    /// or an unknown entry on the way gives (dest, []), as in ironwood.
    func rootAndPath(_ dest: PublicKey) -> (PublicKey, [UInt64]) {
        var ports: [UInt64] = []
        var visited: Set<PublicKey> = []
        var next = dest
        while true {
            guard !visited.contains(next), let info = tree.infos[next] else { return (dest, []) }
            visited.insert(next)
            if next == info.parent { break }
            ports.append(info.port)
            next = info.parent
        }
        return (next, ports.reversed())
    }
}
