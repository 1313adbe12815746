/// Route metrics are additive u16 costs. One unit is roughly one millisecond of round-trip
/// time; every hop adds a fixed base so that, among equally fast paths, fewer hops win and
/// a path of many near-zero-RTT links (a LAN mesh) still has a cost that grows with length.
public enum RouteMetric {
    /// Unreachable; an update carrying it is a retraction.
    public static let infinity: UInt16 = 0xFFFF

    @inline(__always)
    public static func adding(_ a: UInt16, _ b: UInt16) -> UInt16 {
        if a == infinity || b == infinity { return infinity }
        let s = UInt32(a) + UInt32(b)
        return s >= UInt32(infinity) ? infinity - 1 : UInt16(s)
    }
}

/// Turns what the link layer measures into the link cost the router adds per hop.
public enum LinkCost {
    /// The fixed part of every hop's cost (Docs/protocol.md: routing, "metric").
    public static let perHop: UInt16 = 10
    /// Links never cost more than this, so a path of 60 terrible links is still finite.
    public static let maximum: UInt16 = 1000

    /// `rttMilliseconds` is the smoothed round trip; `loss` the fraction of probes lost (0...1).
    /// Loss multiplies the cost like Babel's ETX: a link that needs two tries per packet costs double.
    public static func from(rttMilliseconds: Double, loss: Double = 0) -> UInt16 {
        let l = min(max(loss.isFinite ? loss : 1, 0), 0.9)
        let rtt = rttMilliseconds.isFinite ? max(0, rttMilliseconds) : Double(maximum)
        let c = (Double(perHop) + rtt) / (1 - l)
        return UInt16(min(Double(maximum), max(1, c.rounded())))
    }
}
