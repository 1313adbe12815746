import PlanetCore

/// Counters for the data plane, drops by reason. Every dropped packet lands in exactly one
/// reason, so `planetctl stats` can say why traffic is missing.
public struct NodeStats: Sendable {
    public var tunRxPackets: UInt64 = 0
    public var tunRxBytes: UInt64 = 0
    public var tunTxPackets: UInt64 = 0
    public var tunTxBytes: UInt64 = 0
    public var forwardedPackets: UInt64 = 0
    public var forwardedBytes: UInt64 = 0
    public var icmpErrorsSent: UInt64 = 0
    public var sessionsEstablished: UInt64 = 0
    public var sessionHandshakesFailed: UInt64 = 0
    /// Authentic session control messages handed to their handler.
    public var controlReceived: UInt64 = 0
    /// Packets handed to the foreign network (no Planetary route) and delivered by it.
    public var foreignTxPackets: UInt64 = 0
    public var foreignTxBytes: UInt64 = 0
    public var foreignRxPackets: UInt64 = 0
    public var foreignRxBytes: UInt64 = 0
    /// Routing frames queued for a neighbour before its stub hello arrived, then dropped
    /// (Node+Stub.swift, `cancelDumpsToStubs`).
    public var stubDumpFramesCancelled: UInt64 = 0
    public private(set) var drops = DropCounters<DropReason>()

    public init() {}

    public mutating func drop(_ reason: DropReason, count: Int = 1) { drops.count(reason, count) }
    public func dropped(_ reason: DropReason) -> UInt64 { drops[reason] }
}

public enum DropReason: String, DropReasonCode {
    public var reportName: String { rawValue }

    case tunMalformed = "tun-malformed"
    case tunBadSource = "tun-bad-source"
    case tunNotOverlay = "tun-not-overlay"
    case tunTooBig = "tun-too-big"
    case noRoute = "no-route"
    case hopLimit = "hop-limit"
    /// A data packet a relay did not forward because it is larger than the relay's `tun.mtu`
    /// (answered with a packet-too-big report).
    case pathTooBig = "path-too-big"
    case overlayMalformed = "overlay-malformed"
    case linkDown = "link-down"
    case pendingOverflow = "pending-overflow"
    case pendingTimeout = "pending-timeout"
    case sessionUnknownIndex = "session-unknown-index"
    case sessionDecrypt = "session-decrypt"
    case sessionReplay = "session-replay"
    case sessionHandshake = "session-handshake"
    /// Session inits beyond what this node answers per second (each costs a signature and two
    /// key agreements): over the share of the neighbour they arrived through
    /// (SessionInitShares.swift)…
    case sessionHandshakeRateLimited = "session-handshake-rate-limited"
    /// … or over their source's share.
    case sessionHandshakeSourceLimited = "session-handshake-source-limited"
    /// A session's sealed packet whose destination is not this node's address or subnet: the
    /// peer addressed it to someone else, so it is not ours to deliver.
    case sessionWrongDestination = "session-wrong-destination"
    case spoofedSource = "spoofed-source"
    /// A packet for a VM of this node that the VM's inbound policy refused (counted per VM too).
    case vmPolicyRefused = "vm-policy-refused"
    /// A packet for an address of the node's /64 that no VM holds, while the node hosts VMs.
    case vmUnknownAddress = "vm-unknown-address"
    case directSpoofed = "direct-spoofed-source"
    case errorReportInvalid = "error-report-invalid"
    case icmpRateLimited = "icmp-rate-limited"
    case unknownFrame = "unknown-frame"
    case tunDisabled = "tun-disabled"
    /// The foreign network delivered something that is not an IPv6 packet.
    case foreignMalformed = "foreign-malformed"
    /// The foreign network delivered a packet for neither this node nor its /64.
    case foreignNotLocal = "foreign-not-local"
    /// A session control message with no type byte.
    case controlMalformed = "session-control-malformed"
    /// A session control message of a type this node has no handler for.
    case controlUnknownType = "session-control-unknown-type"
}
