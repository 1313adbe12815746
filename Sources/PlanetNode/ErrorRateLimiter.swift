import PlanetCore

/// A token bucket for ICMPv6 errors and error reports (RFC 4443 2.4(f)): a flood of packets
/// to a dead address must not become a flood of errors.
public struct ErrorRateLimiter {
    public let ratePerSecond: Double
    public let burst: Double
    private var tokens: Double
    private var last: Instant

    public init(ratePerSecond: Double = 100, burst: Double = 50, now: Instant = .zero) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        tokens = burst
        last = now
    }

    public mutating func allow(now: Instant) -> Bool {
        let elapsed = max(0, now.seconds(since: last))
        last = now
        tokens = min(burst, tokens + elapsed * ratePerSecond)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
