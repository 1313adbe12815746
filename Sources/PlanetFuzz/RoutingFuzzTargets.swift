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

/// Both roles of a stub (Router+Stub.swift): a stub router (`config.stub`) whose one neighbour
/// is its upstream, with a query out for `StubRoutersUnderFuzz.asked` so answers can match; and
/// an upstream whose neighbour sent the stub hello, so what it gets is a stub's.
final class StubRoutersUnderFuzz: FuzzWorld, @unchecked Sendable {
    let stub: Router
    let upstream: Router
    let neighbour = FuzzIdentity.make(6).publicKey
    var clock = FuzzClock()
    /// The address the stub keeps asking about (the seeds answer it).
    static let asked = FuzzIdentity.make(12)

    init() {
        var config = RouterConfig()
        config.stub = true
        stub = Router(identity: FuzzIdentity.make(7), config: config, now: clock.now, random: SplitMix64(seed: 7))
        stub.neighbourUp(neighbour, cost: 20, now: clock.now)
        upstream = Router(identity: FuzzIdentity.make(5), now: clock.now, random: SplitMix64(seed: 5))
        upstream.neighbourUp(neighbour, cost: 20, now: clock.now)
        upstream.receive(RoutingFuzzSeeds.message([.stubHello]), from: neighbour, now: clock.now)
        _ = upstream.drainOutgoing()
    }
}

extension RoutingFuzzTargets {
    /// A routing message from the neighbour to each role: the stub's refusals of everything but
    /// answers, answer matching and the origin signature check, retries and expiry (time moves
    /// a second per input); the upstream's refusal of relayed routes, its answers and their rate.
    static let stub = FuzzTarget("routing-stub", "routing messages to a stub from its upstream, and to an upstream from its stub") { input in
        let bytes = Array(input)
        let w = StubRoutersUnderFuzz.get()
        w.clock.tick()
        w.stub.resolve(StubRoutersUnderFuzz.asked.address, now: w.clock.now)
        for r in [w.stub, w.upstream] {
            r.receive(bytes, from: w.neighbour, now: w.clock.now)
            r.verifyBacklog(now: w.clock.now, budget: .max)
            r.tick(now: w.clock.now)
            _ = r.drainOutgoing()
        }
        _ = w.stub.drainResolutions()
        _ = w.stub.takeNewStubNeighbours()
        _ = w.upstream.takeNewStubNeighbours()
    }
}
