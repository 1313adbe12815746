import PlanetCore

// Which neighbours a timer or a drain has to look at. A hub with 10⁴ stub neighbours ticks
// and drains thousands of times a second (every received batch ends in a drain; every link's
// keepalives are deadlines), so neither may walk every neighbour's record: `tick` and
// `nextDeadline` read a flat array of per-slot dump times (with its minimum cached), and a
// drain visits only the neighbours in `drainDue` (something queued, owed or under way, or a
// timer that fired) plus, when there is a triggered update, the neighbours that are not
// stubs (stubs hear no one's changes). Measured with Tools/loadgen (Docs/scale.md, "A public
// hub"): before, a hub with 2,000 idle stubs spent ~38 % of a core sorting and copying
// neighbour records.
//
// The first dump to a new neighbour also waits until it has said anything on routing
// (`Neighbour.heard`). Every router, of every version, sends its first routing message when
// the link comes up: a stub its hello, anyone else a full route request (which asks for this
// very dump). Before, the upstream's first drain queued its whole table before the stub's
// hello could arrive, and up to the pacer's burst (256 KiB) of it went out to every stub that
// linked (2.4 GB for 10⁴ stubs). A neighbour whose first message is lost gets the dump at its
// first periodic timer (~`dumpInterval`) instead, or with the route request it repeats.

extension Router {
    func neighbourCameUp(_ key: PublicKey, slot: UInt16, nextDump: Instant) {
        drainDue.insert(key)
        // Not in `routerNeighbours` until heard (`heardFrom`): a neighbour not heard yet gets
        // the whole table when it is, so the changes meanwhile are nothing to it; a hub whose
        // 10⁴ stubs link at once would otherwise send every new stub's route to every stub
        // whose hello it has not read yet (measured: 1.5 GB, links lost).
        let s = Int(slot)
        if s >= slotNextDump.count { slotNextDump.append(contentsOf: repeatElement(.never, count: s + 1 - slotNextDump.count)) }
        slotNextDump[s] = nextDump
        if let e = earliestDump, nextDump < e { earliestDump = nextDump }
    }

    /// Its first routing message (or its first periodic timer, if that message was lost).
    func heardFrom(_ key: PublicKey) {
        guard let n = neighbours[key], !n.heard else { return }
        neighbours[key]?.heard = true
        if !n.isStub { routerNeighbours.insert(key) }
        drainDue.insert(key)
    }

    func neighbourWentDown(_ key: PublicKey, slot: UInt16) {
        drainDue.remove(key)
        routerNeighbours.remove(key)
        if Int(slot) < slotNextDump.count {
            if slotNextDump[Int(slot)] == earliestDump { earliestDump = nil }
            slotNextDump[Int(slot)] = .never
        }
    }

    func setNextDump(_ key: PublicKey, _ at: Instant) {
        guard let slot = neighbours[key]?.slot else { return }
        neighbours[key]?.nextDump = at
        let s = Int(slot)
        if slotNextDump[s] == earliestDump { earliestDump = nil }
        slotNextDump[s] = at
        if let e = earliestDump, at < e { earliestDump = at }
    }

    /// The earliest periodic dump or summary due (found again after it changed).
    func earliestDumpDeadline() -> Instant {
        if let e = earliestDump { return e }
        var d = Instant.never
        for t in slotNextDump where t < d { d = t }
        earliestDump = d
        return d
    }

    /// The neighbours whose periodic timer is due, sorted by key (the order the jitter is drawn in).
    func dueDumpKeys(now: Instant) -> [PublicKey] {
        guard earliestDumpDeadline() <= now else { return [] }
        var keys: [PublicKey] = []
        for (s, t) in slotNextDump.enumerated() where t <= now {
            if let key = slotKeys[s] { keys.append(key) }
        }
        return keys.sorted()
    }
}
