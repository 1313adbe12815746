/// Origin sequence numbers compare modulo 2^32 (RFC 8966 3.2.1 uses 2^16). 32 bits because
/// every bump costs the origin a signature and a wrap should take centuries, yet the
/// comparison still has to survive one, so it is modular rather than plain `<`.
public enum SequenceNumber {
    /// Whether `a` is strictly newer than `b`: the forward distance from b to a is in (0, 2^31).
    @inline(__always)
    public static func isNewer(_ a: UInt32, than b: UInt32) -> Bool {
        let d = a &- b
        return d != 0 && d < 0x8000_0000
    }

    /// Whether `a` is `b` or newer.
    @inline(__always)
    public static func isAtLeast(_ a: UInt32, _ b: UInt32) -> Bool { a == b || isNewer(a, than: b) }
}
