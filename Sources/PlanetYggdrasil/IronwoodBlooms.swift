import PlanetCore

/// The bloom filters of one peer key (ironwood bloomfilter.go `bloomInfo`).
///
/// Only tree links (our parent, our children) carry filters. What we send a tree peer is our own
/// transformed key merged with what every other tree peer sent us: the keys reachable through us
/// away from that peer. Lookups go down the links whose received filter holds the key sought.
struct IronwoodPeerBloom {
    var send = IronwoodBloom()
    var recv = IronwoodBloom()
    /// Maintenance rounds since the filter was last sent; at 3600 (an hour) it goes again anyway.
    var seq: UInt16 = 0
    var onTree = false
    /// We are sending ones no longer needed; the next round computes the filter afresh.
    var zDirty = false
    /// A bloom from this peer naming the peer itself has arrived since its first link came up.
    /// Until then what we send it names only us (see `bloomFor`).
    var heard = false
}

extension IronwoodRouter {
    /// Ironwood's `blooms._doMaintenance`, after the tree's.
    func maintainBlooms() {
        fixOnTree()
        sendAllBlooms()
    }

    /// Which peers are tree links now. A link that leaves the tree is sent the empty filter, so
    /// it does not start with stale ones should it return.
    func fixOnTree() {
        guard let selfInfo = tree.infos[selfKey] else { return }  // not before our first announcement
        for key in blooms.keys.sorted() {
            var bloom = blooms[key]!
            let wasOn = bloom.onTree
            bloom.onTree = selfInfo.parent == key || tree.infos[key]?.parent == selfKey
            if wasOn && !bloom.onTree {
                bloom.send = IronwoodBloom()
                for id in linkIDs(of: key) { emit(id, .bloom, bloom.send.encoded) }
            }
            blooms[key] = bloom
        }
    }

    /// Ironwood's `_getBloomFor`, kept exactly, including its quirk: the zDirty flag it computes
    /// is only stored when the filter changed. With `keepOnes`, bits sent before stay set (ones
    /// travel faster than zeros, against flapping) and, when that kept extra ones, the next
    /// round recomputes without them.
    ///
    /// Where we part from ironwood: a tree peer whose own bloom has not arrived yet is sent only
    /// our key. Otherwise a newcomer A could find a node B behind us (our bloom to A names B)
    /// before B can find A (our bloom to B names A only after A's bloom came and a round
    /// passed): B's first lookup for A, sent with its Ack to A's first Init, would go nowhere,
    /// and two ironwood ends then leave the session half open for a minute. Once A's bloom is
    /// here, one round names A to every tree peer and every tree peer to A.
    func bloomFor(_ key: PublicKey, keepOnes: Bool) -> (IronwoodBloom, isNew: Bool) {
        var info = blooms[key]!
        var bloom = IronwoodBloom()
        bloom.insert(transform(selfKey).bytes)
        for (other, otherInfo) in blooms where info.heard && otherInfo.onTree && other != key {
            bloom.merge(otherInfo.recv)
        }
        if keepOnes {
            if !info.zDirty {
                let fresh = bloom
                bloom.merge(info.send)
                if bloom != fresh { info.zDirty = true }
            } else {
                bloom.merge(info.send)
            }
        } else {
            info.zDirty = false
        }
        if bloom == info.send { return (info.send, false) }
        info.send = bloom
        blooms[key] = info
        return (bloom, true)
    }

    /// Sends each tree peer its filter when it changed, or after an hour of rounds regardless.
    func sendAllBlooms() {
        for key in blooms.keys.sorted() where blooms[key]!.onTree {
            let (bloom, isNew) = bloomFor(key, keepOnes: !blooms[key]!.zDirty)
            var info = blooms[key]!
            info.seq &+= 1
            if isNew || info.seq >= 3600 {
                let body = bloom.encoded
                for id in linkIDs(of: key) { emit(id, .bloom, body) }
                info.seq = 0
            }
            blooms[key] = info
        }
    }

    /// Ironwood's `_sendMulticast`: a lookup goes to every tree peer but the one it came from
    /// whose filter may hold the transformed destination, on that peer's lowest-priority link.
    func multicast(_ lookup: IronwoodPathLookup, from fromKey: PublicKey) {
        let item = transform(lookup.dest).bytes
        var body: [UInt8]?
        for key in blooms.keys.sorted() where key != fromKey {
            let info = blooms[key]!
            guard info.onTree, info.recv.contains(item) else { continue }
            let best = linkIDs(of: key).min { (links[$0]!.priority, links[$0]!.order) < (links[$1]!.priority, links[$1]!.order) }
            guard let id = best else { continue }
            if body == nil { body = lookup.encoded }
            emit(id, .pathLookup, body!)
        }
    }
}
