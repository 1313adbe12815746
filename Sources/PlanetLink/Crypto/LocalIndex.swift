import PlanetCore

/// The 32-bit index a peer puts in every frame it sends us, so the frame finds its keypair (or
/// handshake) with one lookup. Links and end-to-end sessions draw theirs the same way: at
/// random, so an index says nothing about how many came before, never 0 (which no frame
/// carries), and never one still in use.
public enum LocalIndex {
    public static func draw(using random: inout SplitMix64, isTaken: (UInt32) -> Bool) -> UInt32 {
        while true {
            let i = UInt32(truncatingIfNeeded: random.next())
            if i != 0, !isTaken(i) { return i }
        }
    }
}
