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
    /// Reconciliation by digest: summaries sent (one per neighbour per round), buckets found
    /// to differ from a neighbour's, range lists sent, and what answering lists sent: routes
    /// (signed or refreshes) and prefix retractions.
    public var summariesSent = 0
    public var bucketsDiffering = 0
    public var rangeListsSent = 0
    public var reconciledRoutesSent = 0
    public var prefixRetractionsSent = 0
    /// Stub nodes (Router+Stub.swift): origin queries sent (by a stub) and answered (by an
    /// upstream), and origins a stub resolved with a signature that verified.
    public var originQueriesSent = 0
    public var originQueriesAnswered = 0
    public var originsResolved = 0

    /// Routing messages and parts of them dropped, by reason (reported as `route-…`).
    public var drops = DropCounters<RouteDropReason>()

    public init() {}
}

/// Why the router dropped a routing message or a part of it.
public enum RouteDropReason: String, DropReasonCode {
    case malformed = "malformed"
    case unknownTLV = "unknown-tlv"
    case fromNonNeighbour = "from-non-neighbour"
    case badSignature = "bad-signature"
    case unverifiedRefresh = "unverified-refresh"
    case unfeasible = "unfeasible"
    case originTableFull = "origin-table-full"
    case routeSlotsFull = "route-slots-full"
    case requestTableFull = "request-table-full"
    case duplicateRequest = "duplicate-request"
    case queueFull = "queue-full"
    case neighbourTableFull = "neighbour-table-full"
    case selfRefresh = "self-refresh"
    case verificationBacklogFull = "verify-backlog-full"
    /// An origin entry given up to make room: the oldest of a neighbour over its share of
    /// the origin table (Router+Shares.swift).
    case originEvicted = "origin-evicted"
    /// Stub nodes: a stub neighbour's route for an origin other than its own (a stub relays
    /// nothing); an origin query over the neighbour's rate; an origin answer nobody asked for;
    /// routing a stub does not keep (updates, summaries) and ignores; a stub's query table full.
    case stubRelay = "stub-relay"
    case queryRateLimited = "query-rate-limited"
    case unsolicitedAnswer = "unsolicited-answer"
    case stubIgnored = "stub-ignored"
    case stubQueriesFull = "stub-queries-full"
    public var reportName: String { rawValue }
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
