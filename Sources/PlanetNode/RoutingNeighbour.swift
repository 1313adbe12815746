import PlanetCore
import PlanetRouting

/// The router as a neighbour protocol: routing messages in and out over frame type 0x10,
/// neighbours and their link cost from the link layer. The router itself stays the node's
/// route table, which the data plane reads directly.
final class RoutingNeighbour: NeighbourProtocol {
    let router: Router
    let name = "routing"
    let frameType = InnerFrameType.routing.rawValue
    /// Routing leaves before any other neighbour protocol: it keeps the data flowing.
    static let lane = 0
    let pacingLane = RoutingNeighbour.lane
    /// Its messages are what changes routes.
    let changesRoutes = true

    /// How many bytes of a dump each neighbour may be handed now (`Router.drainOutgoing(dumpRoom:)`).
    let dumpRoom: (PublicKey) -> Int

    init(router: Router, dumpRoom: @escaping (PublicKey) -> Int = { _ in .max }) {
        self.router = router
        self.dumpRoom = dumpRoom
    }

    /// Link cost for routing from the smoothed RTT; before the first measurement a link is
    /// assumed to be a slow one (10 ms), so a fresh link doesn't win before it has proven itself.
    static func cost(rtt: Double?) -> UInt16 {
        LinkCost.from(rttMilliseconds: (rtt ?? 0.010) * 1000)
    }

    func neighbourUp(_ key: PublicKey, now: Instant) { router.neighbourUp(key, cost: RoutingNeighbour.cost(rtt: nil), now: now) }
    func neighbourDown(_ key: PublicKey, now: Instant) { router.neighbourDown(key, now: now) }
    func neighbourRTT(_ key: PublicKey, seconds: Double, now: Instant) {
        router.neighbourCost(key, cost: RoutingNeighbour.cost(rtt: seconds), now: now)
    }
    func receive(_ body: [UInt8], from key: PublicKey, now: Instant) { router.receive(body, from: key, now: now) }
    func tick(now: Instant) { router.tick(now: now) }
    var nextDeadline: Instant { router.nextDeadline }

    func drainOutgoing(_ send: (PublicKey, [UInt8]) -> Void) {
        for (to, message) in router.drainOutgoing(dumpRoom: dumpRoom) { send(to, message) }
    }

    var drops: [(String, UInt64)] { router.stats.drops.report(prefix: "route-") }
}
