import PlanetCore

/// One token bucket per source address, in a table of bounded size. When full an arbitrary
/// entry is evicted: that only refills one source's bucket, and the global bucket still caps
/// the total, so an attacker cycling addresses gains nothing.
struct SourceRateLimiter {
    private var buckets: [IPv6Address: TokenBucket] = [:]
    let capacity: Int
    let rate: Double
    let burst: Double

    init(capacity: Int, rate: Double, burst: Double) {
        self.capacity = capacity
        self.rate = rate
        self.burst = burst
    }

    var count: Int { buckets.count }

    mutating func allow(_ source: IPv6Address, now: Instant) -> Bool {
        if buckets[source] == nil {
            if buckets.count >= capacity { buckets.remove(at: buckets.startIndex) }
            buckets[source] = TokenBucket(rate: rate, burst: burst, now: now)
        }
        return buckets[source]!.take(now: now)
    }
}
