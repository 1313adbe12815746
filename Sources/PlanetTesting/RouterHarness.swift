import PlanetCore
import PlanetRouting

/// A tiny network of routers joined by perfect links, pumped by hand (no timing).
package final class RouterHarness {
    package var routers: [Router] = []
    package var now = Instant(seconds: 100)
    package var links: Set<[Int]> = []
    package let origins = OriginDirectory()

    package init(count: Int, config: RouterConfig = .init()) {
        for i in 0..<count {
            routers.append(Router(identity: RouterHarness.identity(i), config: config, origins: origins, now: now,
                                  random: SplitMix64(seed: UInt64(i))))
        }
    }

    package static func identity(_ i: Int) -> NodeIdentity {
        let pair = Sodium.signKeypair(seed: [UInt8](repeating: UInt8(i + 1), count: 32))
        return NodeIdentity(secretKey: pair.secret, publicKey: PublicKey(pair.publicKey)!)
    }

    package func key(_ i: Int) -> PublicKey { routers[i].identity.publicKey }
    package func index(_ k: PublicKey) -> Int? { routers.firstIndex { $0.identity.publicKey == k } }

    package func connect(_ a: Int, _ b: Int, cost: UInt16 = 20) {
        links.insert([min(a, b), max(a, b)])
        routers[a].neighbourUp(key(b), cost: cost, now: now)
        routers[b].neighbourUp(key(a), cost: cost, now: now)
    }

    package func disconnect(_ a: Int, _ b: Int) {
        links.remove([min(a, b), max(a, b)])
        routers[a].neighbourDown(key(b), now: now)
        routers[b].neighbourDown(key(a), now: now)
    }

    /// Delivers queued messages until quiet; returns how many were delivered.
    @discardableResult
    package func pump(maxRounds: Int = 1000, intercept: ((Int, Int, [UInt8]) -> [UInt8]?)? = nil) -> Int {
        var delivered = 0
        for _ in 0..<maxRounds {
            var batch: [(Int, Int, [UInt8])] = []
            // Signature checks wait for a tick in a node; here they happen before each round,
            // so a test sees what it delivered applied (the backlog itself: VerificationTests).
            for r in routers where r.hasUnverifiedUpdates { r.verifyBacklog(now: now, budget: .max) }
            for (i, r) in routers.enumerated() {
                for (to, m) in r.drainOutgoing() { if let j = index(to) { batch.append((i, j, m)) } }
            }
            if batch.isEmpty { return delivered }
            for (i, j, m) in batch where links.contains([min(i, j), max(i, j)]) {
                guard let msg = intercept.map({ $0(i, j, m) }) ?? m else { continue }
                routers[j].receive(msg, from: key(i), now: now)
                delivered += 1
            }
        }
        return delivered
    }

    package func advance(_ seconds: Double) {
        let end = now.adding(seconds: seconds)
        while true {
            let d = routers.map(\.nextDeadline).min()!
            if d > end { break }
            now = max(now, d)
            for r in routers { r.tick(now: now) }
            pump()
        }
        now = end
        for r in routers { r.tick(now: now) }
        pump()
    }
}
