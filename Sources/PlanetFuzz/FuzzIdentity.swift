import PlanetCore

/// Fixed identities from a one-byte seed, so every run of a target sees the same keys and
/// addresses and a crashing input reproduces (handshake ephemerals stay random: they only
/// decide the transport keys, and the targets seal their inputs with whatever keys result).
enum FuzzIdentity {
    static func make(_ seed: UInt8) -> NodeIdentity {
        let pair = Sodium.signKeypair(seed: [UInt8](repeating: seed, count: 32))
        return NodeIdentity(secretKey: pair.secret, publicKey: PublicKey(pair.publicKey)!)
    }
}

/// A fixed clock: keypairs never expire and rate limits refill only by `tick`.
struct FuzzClock {
    var now = Instant(seconds: 1000)
    mutating func tick(_ seconds: Double = 0.001) { now = now.adding(seconds: seconds) }
}
