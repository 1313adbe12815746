import PlanetCore

// Capacity on stub nodes (issue #25; Docs/protocol.md, "Capacity on stub nodes"). A stub's
// memory must not grow with the network and its idle link must stay under 100 B/s, so:
//
// - The stub (`isStub`) keeps its own record only. It sends it to each neighbour when the link
//   comes up and again every `quietResummaryInterval` (a lost one heals; ~0.5 B/s), takes no
//   records, summaries or lists (counted `capacity-stub-ignored`) and sends none.
// - Its upstream (any node of this version) sends a stub neighbour no floods and no summaries,
//   takes its own record (and floods it on to everyone else) and no other key from it
//   (`capacity-stub-relay`), as routing refuses a stub's relayed routes.
// - The finder's calls on a stub become a `findQuery` to the upstream, which answers from its
//   directory with its own route metrics (`answerFind`); the stub checks every signature
//   (`CapacityFinds`).

extension CapacityGossip {
    /// Find queries each neighbour may ask per second, and in a burst. Each answer decodes and
    /// filters the upstream's whole directory on its loop (~30 ms at 10⁴ records), so far fewer
    /// than routing's 50 origin queries a second (a table lookup each): a person at `planetctl`
    /// asks a few.
    public static let findQueriesPerSecond = 1.0, findQueryBurst = 5.0
    /// All neighbours' queries together: at most ~20 × 30 ms of the loop a second at 10⁴ records.
    public static let findQueriesPerSecondInAll = 20.0, findQueryBurstInAll = 20.0
    /// At most this many records in one answer (the first by the query's sort on the upstream),
    /// and at most 255 parts: ~125 KB at 250 bytes a record, within the pacer's burst.
    public static let maxFindRecords = 500

    /// The stub's own record to one neighbour, now (the link came up, or it is time again).
    func sendOwnRecord(to key: PublicKey, now: Instant) {
        guard let n = neighbours[key] else { return }
        n.nextSummary = now.adding(seconds: CapacityGossip.quietResummaryInterval)
        guard !isStubNeighbour(key) else { return }
        for slot in directory.entries.indices where directory.source(of: directory.entries[slot].key) == .local {
            queue(slot, to: n, hold: 0)
        }
    }

    // MARK: The stub's side

    /// Asks `upstream` for the records matching `filters`; the outcome comes out of
    /// `finds.drain()` with the returned id (at once, failed, when too many are out or the
    /// upstream is not a neighbour).
    public func find(_ filters: [CapacityMessage.Filter], upstream: PublicKey, now: Instant) -> UInt32? {
        advance(now: now)
        guard let id = finds.start(upstream: upstream, now: now) else { return nil }
        guard let n = neighbours[upstream] else { finds.fail(id, "upstream did not answer (no link to it)"); return id }
        sendControl(.findQuery(id: id, filters: filters), to: n)
        return id
    }

    // MARK: The upstream's side

    /// Answers a neighbour's query from the directory, within the rates above: the records
    /// that match, sorted and limited as the query says with this node's route metrics, in
    /// as many parts as they need. A query this node cannot parse (a filter a newer stub
    /// knows) gets an empty answer, so the stub hears back at once.
    func answerFind(id: UInt32, filters: [CapacityMessage.Filter], from key: PublicKey, _ n: Neighbour, now: Instant, unixNow: Double) {
        if n.findBudget == nil { n.findBudget = TokenBucket(rate: CapacityGossip.findQueriesPerSecond, burst: CapacityGossip.findQueryBurst, now: now) }
        if findBudget == nil {
            findBudget = TokenBucket(rate: CapacityGossip.findQueriesPerSecondInAll, burst: CapacityGossip.findQueryBurstInAll, now: now)
        }
        guard n.findBudget!.take(now: now), findBudget!.take(now: now) else { findQueriesRateLimited += 1; return }
        findQueriesAnswered += 1
        var found: [CapacityMessage.Found] = []
        if filters.count == 1, filters[0].name == "node" {
            if let slot = lookup(filters[0].value) {
                let e = directory.entries[slot]
                found = [CapacityMessage.Found(metric: metric(e.key).map { UInt32(clamping: $0) }, bytes: e.bytes)]
            }
        } else if case .success(let query) = CapacityQuery.parse(filters.map { ($0.name, $0.value) }) {
            var candidates: [CapacityQuery.Candidate] = []
            for e in directory.entries {
                guard let r = try? CapacityRecord.decode(e.bytes), query.matches(r) else { continue }
                candidates.append(CapacityQuery.Candidate(record: r, metric: metric(r.key), ageSeconds: max(0, unixNow - Double(r.issuedAt)),
                                                          distanceKm: query.near.flatMap { CapacityQuery.distanceKm(from: $0, to: r) }))
            }
            found = query.apply(candidates).prefix(CapacityGossip.maxFindRecords).compactMap { c in
                directory.slot(of: c.record.key).map { CapacityMessage.Found(metric: c.metric.map { UInt32(clamping: $0) }, bytes: directory.entries[$0].bytes) }
            }
        }
        // Parts of at most `maxBytes`, 255 records and 255 parts each.
        var parts: [[CapacityMessage.Found]] = [[]]
        var size = CapacityMessage.findAnswerHeader
        for f in found {
            let cost = CapacityMessage.findRecordOverhead + f.bytes.count
            if !parts[parts.count - 1].isEmpty && (size + cost > CapacityMessage.maxBytes || parts[parts.count - 1].count == 255) {
                if parts.count == 255 { break }
                parts.append([])
                size = CapacityMessage.findAnswerHeader
            }
            parts[parts.count - 1].append(f)
            size += cost
        }
        let held = UInt32(clamping: directory.count)
        for (i, p) in parts.enumerated() {
            sendControl(.findAnswer(id: id, part: i, parts: parts.count, held: held, records: p), to: n)
        }
    }

    /// The slot of the record `text` names: a key in hex, or an overlay address (or one in a
    /// node's /64), as `getNode` takes them.
    func lookup(_ text: String) -> Int? {
        if let k = PublicKey(hex: text) { return directory.slot(of: k) }
        guard let a = IPv6Address(text) else { return nil }
        return directory.entries.indices.first { directory.entries[$0].key.address == a || directory.entries[$0].key.subnet.contains(a) }
    }
}
