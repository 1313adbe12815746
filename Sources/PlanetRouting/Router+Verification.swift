import PlanetCore

// Signed updates whose origin signature is not yet proven wait in a `VerificationBacklog` and
// are checked a slice per `tick` (the runtime ticks at once while any wait, between batches of
// received datagrams), so a neighbour sending many genuinely signed fake origins cannot hold
// the node's one event loop for seconds. Updates the router can match against a signature it
// already holds (repeats, and every neighbour's copy after the first) never wait.

extension Router {
    /// Whether a signed update would cost an ed25519 check: `handleUpdate` matches it against
    /// what the router and the directory hold otherwise, for the price of a lookup.
    func needsVerification(origin: PublicKey, seqno: UInt32, flags: UInt8, signature: ArraySlice<UInt8>) -> Bool {
        if origin == identity.publicKey {
            // Only a newer seqno of our own is checked (see `handleUpdate`).
            return SequenceNumber.isNewer(seqno, than: selfSeqno)
        }
        if let idx = entryIndex(origin), let known = knownSignature(Int(idx), seqno: seqno),
           origins.flags(ofSignature: known) == flags, origins.signatureMatches(known, signature) {
            return false
        }
        return !origins.holds(origin: origin, seqno: seqno, flags: flags, signature: signature)
    }

    /// Queues a signed update from `n` for a later slice, or counts it dropped when the backlog is full.
    func deferUpdate(_ n: Neighbour, origin: PublicKey, seqno: UInt32, flags: UInt8, metric: UInt16,
                     signature: ArraySlice<UInt8>, now: Instant) {
        let update = VerificationBacklog.Update(origin: origin, seqno: seqno, flags: flags, metric: metric, signature: Array(signature))
        let known = origin == identity.publicKey || entryIndex(origin) != nil
        var evicted = 0
        switch backlog.add(update, slot: n.slot, known: known, evicted: &evicted) {
        case .queued, .replaced: stats.updatesDeferred += 1
        case .refused: stats.drops.count(.verificationBacklogFull)
        }
        stats.drops.count(.verificationBacklogFull, evicted)
        stats.verificationBacklog = backlog.count
        if !backlog.isEmpty && backlogDue == .never { backlogDue = now }
    }

    /// Checks up to `budget` waiting updates, one neighbour after another, and applies those
    /// that verify. `tick` calls it with `config.verificationsPerTurn`.
    public func verifyBacklog(now: Instant, budget: Int) {
        var left = budget
        while left > 0, let (slot, u) = backlog.next() {
            left -= 1
            // The neighbour may have gone since (its backlog goes with it) — checked anyway.
            guard let key = slotKeys[Int(slot)], let n = neighbours[key] else { continue }
            handleUpdate(n, origin: u.origin, seqno: u.seqno, flags: u.flags, metric: u.metric,
                         signature: u.signature[...], now: now)
        }
        stats.verificationBacklog = backlog.count
        backlogDue = backlog.isEmpty ? .never : now
    }

    /// Whether signed updates wait for their check (the router's deadline is then due at once).
    public var hasUnverifiedUpdates: Bool { !backlog.isEmpty }

    /// Updates waiting from one neighbour (for tests and the admin API).
    public func unverifiedUpdates(from key: PublicKey) -> Int {
        guard let n = neighbours[key] else { return 0 }
        return backlog.waiting(slot: n.slot)
    }
}
