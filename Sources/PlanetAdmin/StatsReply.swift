/// `getStats` → the node's counters (Docs/cli.md; the same numbers `metricsListen` exports).
public struct StatsReply: AdminResponse, Equatable {
    public var rxPackets: UInt64
    public var txPackets: UInt64
    public var rxBytes: UInt64
    public var txBytes: UInt64
    public var tunRxPackets: UInt64?
    public var tunTxPackets: UInt64?
    public var forwardedPackets: UInt64?
    public var icmpErrorsSent: UInt64?
    /// Dropped packets by reason, in name order.
    public var drops: Counters
    public var peersUp: UInt64
    public var routes: UInt64
    public var sessions: UInt64
    public var handshakesCompleted: UInt64
    public var handshakesFailed: UInt64
    public var capacityRecords: UInt64?
    /// Hole punching's counters by event; optional to read (older daemons).
    public var punch: Counters?
    /// The router's non-drop counters (messages, signatures, reconciliation, stub origin
    /// queries), by name; optional to read (older daemons).
    public var routing: Counters?
    /// The Yggdrasil side's non-drop counters (protocol requests answered, by kind); nil on a
    /// node without one (and from older daemons).
    public var yggdrasil: Counters?
    /// The Yggdrasil side's gauges (also on /metrics); nil on a node without one (and from
    /// older daemons).
    public var yggdrasilGauges: YggdrasilGauges?

    public init(rxPackets: UInt64 = 0, txPackets: UInt64 = 0, rxBytes: UInt64 = 0, txBytes: UInt64 = 0, tunRxPackets: UInt64? = 0,
                tunTxPackets: UInt64? = 0, forwardedPackets: UInt64? = 0, icmpErrorsSent: UInt64? = 0, drops: Counters = Counters(),
                peersUp: UInt64 = 0, routes: UInt64 = 0, sessions: UInt64 = 0, handshakesCompleted: UInt64 = 0, handshakesFailed: UInt64 = 0,
                capacityRecords: UInt64? = 0, punch: Counters? = nil, routing: Counters? = nil, yggdrasil: Counters? = nil,
                yggdrasilGauges: YggdrasilGauges? = nil) {
        self.rxPackets = rxPackets; self.txPackets = txPackets; self.rxBytes = rxBytes; self.txBytes = txBytes
        self.tunRxPackets = tunRxPackets; self.tunTxPackets = tunTxPackets; self.forwardedPackets = forwardedPackets
        self.icmpErrorsSent = icmpErrorsSent; self.drops = drops; self.peersUp = peersUp; self.routes = routes
        self.sessions = sessions; self.handshakesCompleted = handshakesCompleted; self.handshakesFailed = handshakesFailed
        self.capacityRecords = capacityRecords; self.punch = punch; self.routing = routing; self.yggdrasil = yggdrasil
        self.yggdrasilGauges = yggdrasilGauges
    }

    /// How much the Yggdrasil router holds, and whether this node is its tree's root.
    public struct YggdrasilGauges: Codable, Equatable, Sendable {
        public var peers: UInt64
        public var treeEntries: UInt64
        public var paths: UInt64
        public var sessions: UInt64
        public var isRoot: Bool

        public init(peers: UInt64, treeEntries: UInt64, paths: UInt64, sessions: UInt64, isRoot: Bool) {
            self.peers = peers; self.treeEntries = treeEntries; self.paths = paths; self.sessions = sessions; self.isRoot = isRoot
        }
    }

    /// What the runtime loses at the kernel's edge joins `drops` under `io-` reasons, kept
    /// in name order.
    public mutating func addDrops(_ more: [(name: String, count: UInt64)]) {
        guard !more.isEmpty else { return }
        drops = Counters((drops.entries + more).sorted { $0.name < $1.name })
    }
}
