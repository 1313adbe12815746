/// A token bucket: `rate` tokens per second, holding at most `burst`. Everything that must
/// not be done too often uses it: handshake initiations per source and in all, beacons,
/// ICMPv6 errors (RFC 4443 2.4(f)), relays' error reports, and (in bytes) each neighbour's
/// routing output.
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
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// For byte budgets, where one item is worth many tokens: spends `amount` while the bucket
    /// holds anything at all, so one item may overdraw it, and the debt delays what follows.
    public mutating func spend(_ amount: Double, now: Instant) -> Bool {
        refill(now: now)
        guard tokens > 0 else { return false }
        tokens -= amount
        return true
    }

    /// When the bucket next holds something to spend (now, if it already does).
    public var nextAvailable: Instant { last.adding(seconds: max(0, -tokens) / rate) }

    /// The tokens the bucket would hold at `now`, without taking any.
    public func available(at now: Instant) -> Double { min(burst, tokens + max(0, now.seconds(since: last)) * rate) }

    /// Whether the bucket has refilled completely by `now`: nothing left to pay back.
    public func isFull(at now: Instant) -> Bool { tokens + max(0, now.seconds(since: last)) * rate >= burst }

    private mutating func refill(now: Instant) {
        let elapsed = now.seconds(since: last)
        if elapsed > 0 {
            tokens = min(burst, tokens + elapsed * rate)
            last = now
        }
    }
}
