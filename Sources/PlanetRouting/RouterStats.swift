/// Counters the admin API shows; every dropped input has its own reason.
public struct RouterStats: Sendable, Equatable {
    public var messagesReceived = 0
    public var messagesSent = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var updatesAccepted = 0
    public var signaturesVerified = 0
    public var seqnoRequestsSent = 0
    public var seqnoRequestsForwarded = 0
    public var selfSeqnoBumps = 0
    /// Signed updates that waited in the verification backlog (rather than being checked or
    /// matched at once), and those waiting now.
    public var updatesDeferred = 0
    public var verificationBacklog = 0

    public var droppedMalformed = 0
    public var droppedUnknownTLV = 0
    public var droppedFromNonNeighbour = 0
    public var droppedBadSignature = 0
    public var droppedUnverifiedRefresh = 0
    public var droppedUnfeasible = 0
    public var droppedOriginTableFull = 0
    public var droppedRouteSlotsFull = 0
    public var droppedRequestTableFull = 0
    public var droppedDuplicateRequest = 0
    public var droppedQueueFull = 0
    public var droppedNeighbourTableFull = 0
    public var droppedSelfRefresh = 0
    /// A signed update refused because its neighbour's verification backlog was full, or
    /// given up from the longest backlog when all of them together were.
    public var droppedVerificationBacklogFull = 0

    public init() {}
}

/// One origin as the admin API lists it.
public struct RouteInfo: Sendable, Equatable {
    public struct Candidate: Sendable, Equatable {
        public let neighbour: PublicKey
        public let metric: UInt16
        public let seqno: UInt32
        public let feasible: Bool
        public let selected: Bool
    }
    public let origin: PublicKey
    public let address: IPv6Address
    public let subnet: IPv6Prefix
    /// nil when the origin is currently unreachable (kept for its feasibility distance).
    public let nextHop: PublicKey?
    public let metric: UInt16
    public let seqno: UInt32
    public let feasibilityDistance: (seqno: UInt32, metric: UInt16)?
    public let candidates: [Candidate]

    public static func == (a: RouteInfo, b: RouteInfo) -> Bool {
        a.origin == b.origin && a.nextHop == b.nextHop && a.metric == b.metric && a.seqno == b.seqno && a.candidates == b.candidates
    }
}

import PlanetCore
