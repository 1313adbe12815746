import PlanetCore
import PlanetRouting

/// A router with one neighbour; the input is a routing message from that neighbour.
final class RouterUnderFuzz: FuzzWorld, @unchecked Sendable {
    let router: Router
    let neighbour = FuzzIdentity.make(6).publicKey
    var clock = FuzzClock()

    init() {
        router = Router(identity: FuzzIdentity.make(5), now: clock.now, random: SplitMix64(seed: 5))
        router.neighbourUp(neighbour, cost: 20, now: clock.now)
    }
}

enum RoutingFuzzTargets {
    /// The TLV decoder, then the router's handling of whatever decodes (updates, signatures,
    /// retractions, requests) from a neighbour. Output is drained so it cannot pile up.
    static let message = FuzzTarget("routing", "routing messages (TLVs) from a neighbour") { input in
        let bytes = Array(input)
        var unknown = 0
        _ = RoutingMessage.decode(bytes, unknown: &unknown)
        let r = RouterUnderFuzz.get()
        r.clock.tick()
        r.router.receive(bytes, from: r.neighbour, now: r.clock.now)
        // Signed updates wait for a slice of checks: run it, so handling after the check is reached.
        r.router.verifyBacklog(now: r.clock.now, budget: .max)
        _ = r.router.drainOutgoing()
    }
}
