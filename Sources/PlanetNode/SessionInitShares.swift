import PlanetCore

/// The budget for answering session inits, shared fairly by where they come from.
///
/// Each answered init costs the node a signature and two key agreements, so inits are answered
/// at most `rate` a second in the long run. That budget used to be one bucket any node on the
/// overlay could empty, and then nobody else could open a session with the node. Now it is
/// shared twice, and an init is answered only if both its shares allow it:
///
/// - **By the neighbour it arrived through** (authenticated by the link, so it cannot be
///   forged): each neighbour that sent inits lately has `rate / n` a second, burst `burst / n`
///   (at least one), n being the number of such neighbours. A flood through one neighbour
///   spends that neighbour's share only; an init through any other finds its own. Over it:
///   `session-handshake-rate-limited`.
/// - **By source** (the overlay source address's lookup tag, the first 64 bits, which name
///   the initiator's key; not proven until the handshake's finish): each source that sent
///   inits lately has `rate / m`, burst `burst / m` (at least one). One node flooding through
///   an honest relay spends its own share, and other sources behind that relay keep theirs.
///   A neighbour that makes up a fresh source for every init gets past this share but not the
///   first. Over it: `session-handshake-source-limited`.
///
/// "Lately": a neighbour or source is counted until its bucket has filled up again (half a
/// second at the default rate), so one that stopped gives its share back. With one neighbour
/// and one source this is the old single bucket (200 a second, burst 100). The sum of the
/// shares is `rate`; a neighbour or source that starts sending adds at most its first burst.
/// Sources are bounded (`maxSources`): past it a new source is refused (counted as over its share)
/// until others fill up again, which takes half a second.
struct SessionInitShares {
    /// A token bucket whose rate and burst are the share of the moment.
    struct Share {
        var tokens: Double
        var last: Instant

        func available(at now: Instant, rate: Double, burst: Double) -> Double {
            min(burst, tokens + max(0, now.seconds(since: last)) * rate)
        }
    }

    enum Verdict: Equatable { case answer, overNeighbourShare, overSourceShare }

    let rate: Double
    let burst: Double
    let maxSources: Int
    private(set) var neighbours: [PublicKey: Share] = [:]
    private(set) var sources: [UInt64: Share] = [:]
    private var lastSweep = Instant.zero

    init(rate: Double = 200, burst: Double = 100, maxSources: Int = 4096) {
        self.rate = rate
        self.burst = burst
        self.maxSources = maxSources
    }

    /// Whether to answer an init from `source` that arrived through `neighbour`; spends one of
    /// each share when it does.
    mutating func admit(from neighbour: PublicKey, source: IPv6Address, now: Instant) -> Verdict {
        sweep(now: now)
        let tag = OverlayAddress.lookupTag(for: source)
        let n = neighbours[neighbour] == nil ? neighbours.count + 1 : neighbours.count
        let m = sources[tag] == nil ? sources.count + 1 : sources.count
        let (nRate, nBurst) = (rate / Double(n), max(1, burst / Double(n)))
        let (sRate, sBurst) = (rate / Double(m), max(1, burst / Double(m)))
        // A newcomer's share starts full.
        let nHave = neighbours[neighbour]?.available(at: now, rate: nRate, burst: nBurst) ?? nBurst
        guard nHave >= 1 else { return .overNeighbourShare }
        guard sources[tag] != nil || sources.count < maxSources else { return .overSourceShare }
        let sHave = sources[tag]?.available(at: now, rate: sRate, burst: sBurst) ?? sBurst
        guard sHave >= 1 else { return .overSourceShare }
        neighbours[neighbour] = Share(tokens: nHave - 1, last: now)
        sources[tag] = Share(tokens: sHave - 1, last: now)
        return .answer
    }

    /// Forgets neighbours and sources whose share has filled up again (at most every 0.1 s, so
    /// a flood costs a pass over the tables ten times a second at most).
    private mutating func sweep(now: Instant) {
        guard now.seconds(since: lastSweep) >= 0.1 || (sources.count >= maxSources && now > lastSweep) else { return }
        lastSweep = now
        let (n, m) = (max(1, neighbours.count), max(1, sources.count))
        neighbours = neighbours.filter { $0.value.available(at: now, rate: rate / Double(n), burst: max(1, burst / Double(n))) < max(1, burst / Double(n)) }
        sources = sources.filter { $0.value.available(at: now, rate: rate / Double(m), burst: max(1, burst / Double(m))) < max(1, burst / Double(m)) }
    }

    /// Neighbours and sources counted now (for tests).
    var activeNeighbours: Int { neighbours.count }
    var activeSources: Int { sources.count }
}
