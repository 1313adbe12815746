import PlanetCore

/// Which dual node a Planetary-only node reaches Yggdrasil through (Docs/architecture.md,
/// "Yggdrasil through a dual node"). Pure: the candidates (nodes whose signed capacity record
/// carries the `yggdrasil-via` tag, each with this node's Planetary route metric to it) come
/// from `Node.yggdrasilViaCandidates`; the runtime dials `tcp://[ADDR]:8473` to the answer.
public enum YggdrasilViaChoice {
    public struct Candidate: Equatable, Sendable {
        public var key: PublicKey
        /// The Planetary route metric to it (lower is nearer).
        public var metric: UInt16
        public init(key: PublicKey, metric: UInt16) { self.key = key; self.metric = metric }
    }

    /// The node to use. The current one stays while it is still a candidate (a link is
    /// established state — sessions, the Yggdrasil tree position — and switching on every
    /// metric wobble would tear it down for nothing); otherwise the nearest, ties broken by key
    /// so every run picks the same. `failing` are candidates whose link could not be made
    /// lately: passed over while any other remains, so a node that announces but does not
    /// answer cannot hold this node off Yggdrasil. Never this node itself.
    public static func choose(_ candidates: [Candidate], setting: YggdrasilViaSetting, current: PublicKey?,
                              failing: Set<PublicKey> = [], me: PublicKey) -> PublicKey? {
        let usable = candidates.filter { $0.key != me }
        switch setting {
        case .off:
            return nil
        case .key(let k):
            return usable.contains { $0.key == k } ? k : nil
        case .address(let a):
            return usable.first { OverlayAddress.key($0.key, owns: a) }?.key
        case .auto:
            if let current, usable.contains(where: { $0.key == current }), !failing.contains(current) { return current }
            let healthy = usable.filter { !failing.contains($0.key) }
            let pool = healthy.isEmpty ? usable : healthy
            return pool.min { ($0.metric, $0.key.hex) < ($1.metric, $1.key.hex) }?.key
        }
    }
}

/// The loop guard. A link carried over the overlay (a Yggdrasil link to or from a 200::/7
/// address) must never be carried by the Yggdrasil network itself: its TCP segments would go
/// into the link they make up, a tunnel through itself that grows until something drops it.
/// So the foreign network refuses any packet to an address at the other end of such a link
/// (dialled or accepted): with no Planetary route there, the node answers "no route" instead.
public struct YggdrasilLoopGuard: Sendable, Equatable {
    public private(set) var carriers: Set<IPv6Address> = []
    /// Packets refused (for stats: `ygg-loop-guard`).
    public private(set) var refused: UInt64 = 0

    public init() {}

    /// The other ends of this node's Yggdrasil links and dials; only overlay addresses count.
    public mutating func update(_ addresses: some Sequence<IPv6Address>) {
        carriers = Set(addresses.filter { OverlayAddress.isOverlay($0) })
    }

    /// Whether the foreign network may take `packet` (an IPv6 packet of at least 40 bytes).
    public mutating func admits(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard !carriers.isEmpty, packet.count >= 40 else { return true }
        let destination = IPv6Address(high: BigEndian.u64(packet, at: 24), low: BigEndian.u64(packet, at: 32))
        guard carriers.contains(destination) else { return true }
        refused += 1
        return false
    }
}
