/// A token bucket: `rate` tokens per second, holding at most `burst`. Everything that must
/// not be done too often uses it: handshake initiations per source and in all, beacons,
/// ICMPv6 errors (RFC 4443 2.4(f)) and relays' error reports.
public struct TokenBucket: Sendable {
    public private(set) var tokens: Double
    public private(set) var last: Instant
    public let rate: Double
    public let burst: Double

    public init(rate: Double, burst: Double, now: Instant) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        last = now
    }

    /// Takes one token if there is one; a clock that stands still or steps back adds none.
    public mutating func take(now: Instant) -> Bool {
        let elapsed = now.seconds(since: last)
        if elapsed > 0 {
            tokens = min(burst, tokens + elapsed * rate)
            last = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
