import PlanetCore

/// The runtime's handle for one established Yggdrasil link. Ironwood allows several links to the
/// same key (they share one port and one tree entry); each has its own id.
public typealias IronwoodPeerID = UInt64

/// What the router asks the runtime to do. Taken in order with `IronwoodRouter.takeOutput()`.
public enum IronwoodRouterOutput: Equatable, Sendable {
    /// Write this frame on that link (the link layer queues, paces and frames it).
    case frame(IronwoodPeerID, IronwoodFrame)
    /// A Traffic payload addressed to us arrived from `source` (ironwood's ReadFrom).
    case deliver(source: PublicKey, payload: [UInt8])
    /// A path to `key` was learnt or changed (ironwood's `WithPathNotify` callback, which
    /// yggdrasil uses to flush packets it buffered for the key's address).
    case pathNotify(key: PublicKey)
}

/// Why the router wants a link closed: ironwood closes the connection on a message it cannot
/// decode (ErrDecode) and on a SigRes or Announce whose signatures fail (ErrBadMessage).
public enum IronwoodRouterError: Error, Equatable, CustomStringConvertible {
    case malformed(IronwoodFrame.FrameType)
    case badSignature(IronwoodFrame.FrameType)

    public var description: String {
        switch self {
        case .malformed(let t): return "malformed \(t) frame"
        case .badSignature(let t): return "\(t) frame with a bad signature"
        }
    }
}

/// What the router dropped, by reason (reported as `ygg-…`). A drop is never an error of the
/// link: these are the cases ironwood silently ignores, plus the bounds we add.
public enum IronwoodDropReason: String, DropReasonCode {
    /// A frame for a link id the router does not know (removed, or never added).
    case unknownPeer = "unknown-peer"
    /// A SigRes whose signature is good but which answers no request of ours (stale or replayed).
    case staleResponse = "stale-sigres"
    /// A PathLookup from a peer that is not our parent or child (ironwood only takes lookups on tree links).
    case lookupOffTree = "lookup-off-tree"
    /// A PathNotify or PathBroken that ended here but was not for us, or carried nothing new.
    case notifyNotForUs = "notify-not-for-us"
    case notifyStale = "notify-stale"
    /// A PathNotify for a key we never looked up (no rumor), as ironwood ignores it.
    case notifyUnrequested = "notify-unrequested"
    case notifyBadSignature = "notify-bad-signature"
    case brokenNotForUs = "broken-not-for-us"
    /// Traffic for someone else that no peer is closer to (a PathBroken goes back).
    case trafficDeadEnd = "traffic-dead-end"
    /// A packet or message that does not fit in a frame (over ironwood's 131070 bytes).
    case oversize = "oversize"
    /// A packet replaced by a newer one while waiting for its lookup (ironwood keeps only the latest).
    case bufferedReplaced = "buffered-replaced"
    /// A lookup throttled (ironwood sends at most one per key per second).
    case lookupThrottled = "lookup-throttled"
    /// Bounds of our own (ironwood has none): see `IronwoodRouter.Limits`.
    case peerTableFull = "peer-table-full"
    case treeTableFull = "tree-table-full"
    case pathTableFull = "path-table-full"
    case rumorTableFull = "lookup-table-full"
    /// Buffered packets dropped when their path or pending lookup expired.
    case bufferedExpired = "buffered-expired"

    public var reportName: String { rawValue }
}
