/// A small deterministic generator (SplitMix64) for everything that needs randomness but
/// not secrecy — jitter, tie-breaks, simulated topologies — so a seed reproduces a run.
/// Keys and nonces always come from libsodium instead.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// Seeded from libsodium, for the daemon.
    public static func system() -> SplitMix64 { SplitMix64(seed: Sodium.randomUInt64()) }

    /// A generator of its own for a component, seeded from this one's next draw, so two
    /// components given streams split from one seed never draw the same sequence.
    public mutating func split() -> SplitMix64 { SplitMix64(seed: next()) }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
