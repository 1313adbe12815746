import PlanetCore

/// What planetctl and the admin API show of the Yggdrasil router (yggdrasilctl's getPeers,
/// getTree, getPaths, getSelf).
public struct IronwoodPeerStatus: Equatable, Sendable {
    public let id: IronwoodPeerID
    public let key: PublicKey
    public let port: UInt64
    public let priority: UInt8
    /// Ironwood's cost: the link's smoothed RTT in milliseconds (4294 while unknown).
    public let cost: UInt64
    /// The last SigReq→SigRes time in seconds, nil before the first answer.
    public let latency: Double?
    /// Whether the peer is our parent or child (carries blooms and lookups).
    public let onTree: Bool
}

public struct IronwoodTreeEntry: Equatable, Sendable {
    public let key: PublicKey
    public let parent: PublicKey
    public let seq: UInt64
}

public struct IronwoodPathEntry: Equatable, Sendable {
    public let key: PublicKey
    public let path: [UInt64]
    public let seq: UInt64
    public let broken: Bool
    /// When the path is forgotten unless traffic from the key renews it (ironwood's pathTimeout).
    public let expires: Instant
}

extension IronwoodRouter {
    /// Every link, oldest first.
    public var peerStatus: [IronwoodPeerStatus] {
        links.sorted { $0.value.order < $1.value.order }.map { id, link in
            var latency: Double?
            if let sent = link.sigReqSentAt, let received = link.sigResAt, received > sent {
                latency = received.seconds(since: sent)
            }
            return IronwoodPeerStatus(id: id, key: link.key, port: link.port, priority: link.priority, cost: cost(id),
                                      latency: latency, onTree: blooms[link.key]?.onTree ?? false)
        }
    }

    /// Every tree entry we hold, by key.
    public var treeEntries: [IronwoodTreeEntry] {
        tree.infos.keys.sorted().map { IronwoodTreeEntry(key: $0, parent: tree.infos[$0]!.parent, seq: tree.infos[$0]!.seq) }
    }

    /// Every known path, by key.
    public var pathEntries: [IronwoodPathEntry] {
        pathfinder.paths.keys.sorted().map {
            let p = pathfinder.paths[$0]!
            return IronwoodPathEntry(key: $0, path: p.path, seq: p.seq, broken: p.broken, expires: p.expires)
        }
    }

    /// Our coordinates: the ports from the root down to us (empty when we are the root).
    public var coords: [UInt64] { rootAndPath(selfKey).1 }
    /// The root of our tree (ourselves before we know better).
    public var root: PublicKey { rootAndPath(selfKey).0 }
    /// Our parent; ourselves when we are the root, nil before our first announcement.
    public var parent: PublicKey? { tree.infos[selfKey]?.parent }
    /// Ironwood's tree distance from us to `path` (hops up to the common ancestor and down):
    /// the number greedy forwarding lowers at every hop, and what `planetctl routes` shows as
    /// a Yggdrasil path's metric.
    public func treeDistance(to path: [UInt64]) -> UInt64 { distance(path, from: selfKey) }
    /// The peer a packet for `path` goes to next, as forwarding would pick it; nil when no peer
    /// is closer than we are.
    public func nextHopKey(to path: [UInt64]) -> PublicKey? {
        var watermark = UInt64.max
        return nextHop(path, watermark: &watermark).flatMap { links[$0]?.key }
    }
    /// Pending lookups (keys as looked up, transformed).
    public var pendingLookups: Int { pathfinder.rumors.count }
}
