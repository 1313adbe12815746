import PlanetCore

/// A protocol two linked nodes speak with each other over their link: routing and capacity
/// gossip today. The node owns the plumbing they share: it hands each its
/// frames (by the frame type it registered), tells it when neighbours come and go and how far
/// away they are, asks for its deadline, and paces what it sends per neighbour in one
/// `NeighbourPacer`, so a large dump of one protocol can neither overflow the socket nor starve
/// another's urgent messages. A protocol is a sans-I/O state machine like the rest of the core.
public protocol NeighbourProtocol: AnyObject {
    /// Names its counters (`<name>-queue-full`) and its log lines.
    var name: String { get }
    /// The inner frame type it owns: a number in `InnerFrameType.neighbourProtocols`, listed in
    /// InnerFrameType.swift so two protocols never pick the same one.
    var frameType: UInt8 { get }
    /// Its lane in the per-neighbour pacer: lower lanes leave first when the allowance is short.
    var pacingLane: Int { get }
    /// Whether its frames can change the route table: the node clears its route cache after
    /// each frame of a protocol that can, and only then (true for routing alone so far).
    var changesRoutes: Bool { get }

    func neighbourUp(_ key: PublicKey, now: Instant)
    func neighbourDown(_ key: PublicKey, now: Instant)
    /// A new smoothed round-trip time to a neighbour.
    func neighbourRTT(_ key: PublicKey, seconds: Double, now: Instant)
    /// A frame's body (after the type byte) from an authenticated neighbour.
    func receive(_ body: [UInt8], from key: PublicKey, now: Instant)
    func tick(now: Instant)
    var nextDeadline: Instant { get }
    /// Hands over each message body it wants sent; the node adds the type byte and paces it.
    func drainOutgoing(_ send: (PublicKey, [UInt8]) -> Void)
    /// Its drop counters, for `getStats` and /metrics, by full reason name (non-zero only).
    var drops: [(String, UInt64)] { get }
}

/// The registered protocols, by frame type, in registration order.
struct NeighbourProtocols {
    private(set) var all: [NeighbourProtocol] = []
    private var byType = [NeighbourProtocol?](repeating: nil, count: 256)

    mutating func register(_ p: NeighbourProtocol) {
        precondition(InnerFrameType.neighbourProtocols.contains(p.frameType),
                     "\(p.name): frame type \(p.frameType) is not a neighbour-protocol number")
        precondition(byType[Int(p.frameType)] == nil, "\(p.name): frame type \(p.frameType) is taken")
        precondition(!all.contains { $0.pacingLane == p.pacingLane }, "\(p.name): pacing lane \(p.pacingLane) is taken")
        byType[Int(p.frameType)] = p
        all.append(p)
    }

    subscript(type: UInt8) -> NeighbourProtocol? { byType[Int(type)] }
}
