import PlanetCore
import PlanetNode

/// A Planetary-only node's way onto Yggdrasil (Docs/architecture.md, "Yggdrasil through a dual
/// node"): every `interval` it asks the node for the dual nodes it can reach
/// (`Node.yggdrasilViaCandidates`), lets `YggdrasilViaChoice` pick one, and keeps exactly one
/// configured Yggdrasil peer, `tcp://[ITS-ADDRESS]:8473?key=ITS-KEY`. The transport dials it
/// like any peer; the kernel carries that TCP connection over this node's own TUN, so the
/// Planetary session to the dual node encrypts it and TCP makes it reliable. The node's own
/// Yggdrasil stack runs over the link: its sessions are end to end with the far Yggdrasil
/// node, and the dual node only forwards ironwood frames it cannot read.
final class YggdrasilViaDialer {
    /// How often the choice is made again: a lost dual node is replaced within this (plus
    /// the Planetary route's own loss detection).
    static let interval = 5.0
    /// A dialled dual node with no link up after this long is passed over while another remains.
    static let patience = 30.0
    /// How long a node that failed stays passed over.
    static let penalty = 300.0

    let setting: YggdrasilViaSetting
    let logger: Logger
    private(set) var current: PublicKey?
    private var currentURI: PeerURI?
    private var since = Instant(nanoseconds: 0)
    private var failing: [PublicKey: Instant] = [:]
    private(set) var nextCheck: Instant

    init(setting: YggdrasilViaSetting, logger: Logger, now: Instant) {
        self.setting = setting
        self.logger = logger
        // The first check one interval in: routes and records take that long to arrive anyway.
        nextCheck = now.adding(seconds: YggdrasilViaDialer.interval)
    }

    /// The address the link is dialled to: the loop guard refuses to hand it to Yggdrasil.
    var carriers: [IPv6Address] { current.map { [OverlayAddress.address(for: $0)] } ?? [] }

    static func uri(for key: PublicKey) -> PeerURI? {
        try? PeerURI.parse("tcp://[\(OverlayAddress.address(for: key))]:\(YggdrasilViaSetting.port)?key=\(key.hex)").get()
    }

    func check(node: Node, transport: YggdrasilTransport, linkedKeys: Set<PublicKey>, now: Instant) {
        nextCheck = now.adding(seconds: YggdrasilViaDialer.interval)
        if let current, !linkedKeys.contains(current), now.seconds(since: since) > YggdrasilViaDialer.patience { failing[current] = now }
        if let current, linkedKeys.contains(current) { failing[current] = nil }
        failing = failing.filter { now.seconds(since: $0.value) < YggdrasilViaDialer.penalty }
        let candidates: [YggdrasilViaChoice.Candidate]
        switch setting {
        case .off: candidates = []
        case .auto: candidates = node.yggdrasilViaCandidates()
        case .key(let k): candidates = node.yggdrasilViaReachable(k).map { [$0] } ?? []
        case .address(let a): candidates = node.planetaryKey(owning: a).flatMap { node.yggdrasilViaReachable($0) }.map { [$0] } ?? []
        }
        let pick = YggdrasilViaChoice.choose(candidates, setting: setting, current: current, failing: Set(failing.keys),
                                             me: node.identity.publicKey)
        guard pick != current else { return }
        if let currentURI { _ = transport.removePeer(currentURI) }
        current = pick
        currentURI = pick.flatMap(YggdrasilViaDialer.uri(for:))
        since = now
        if let currentURI {
            _ = transport.addPeer(currentURI)
            logger.info("yggdrasil via a dual node", [("uri", currentURI.description)])
        } else {
            let counts = node.yggdrasilViaCounts()
            logger.info("yggdrasil: no dual node reachable", [("announced", "\(counts.announced)"), ("routed", "\(counts.routed)")])
        }
    }
}
