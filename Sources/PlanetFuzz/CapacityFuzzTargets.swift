import PlanetCapacity
import PlanetCore

/// Two gossiping nodes' worth of capacity state with one neighbour each. The input is a
/// capacity gossip message (the body of an inner frame 0x11) from that neighbour.
///
/// A fuzzer cannot forge an ed25519 signature, so a directory that verifies stops every mutated
/// record at the signature and never reaches what follows it. The second directory trusts every
/// record (its checker always says yes): the fuzzer then drives what an accepted record does —
/// storage, per-bucket digests, the per-key allowance, the bound, flooding, reconciliation
/// answers — which a real node reaches only with records their keys signed. Both are bounded
/// small, so a growing directory would show as memory (libFuzzer's -rss_limit_mb).
final class CapacityUnderFuzz: FuzzWorld, @unchecked Sendable {
    let verifying = CapacityGossip(directory: CapacityDirectory(maxRecords: 256))
    let trusting = CapacityGossip(directory: CapacityDirectory(maxRecords: 256, verify: { _ in true }))
    let neighbour = FuzzIdentity.make(6).publicKey
    var clock = FuzzClock()
    /// Records' times are Unix seconds; a fixed base keeps every input's fate reproducible.
    var unixNow = 1_800_000_000.0

    init() {
        verifying.neighbourUp(neighbour, now: clock.now)
        trusting.neighbourUp(neighbour, now: clock.now)
    }
}

enum CapacityFuzzTargets {
    /// The message decoder, the record decoder on every record a message carries, then both
    /// gossips' handling of the message (acceptance rules, reconciliation) and their output,
    /// drained so it cannot pile up. Time moves a second per input, so expiry and the per-key
    /// allowance are exercised too.
    static let message = FuzzTarget("capacity", "capacity gossip messages and the records they carry, from a neighbour") { input in
        let body = Array(input)
        if case .records(let records)? = CapacityMessage.decode(body) {
            for r in records { _ = try? CapacityRecord.decode(r) }
        }
        _ = try? CapacityRecord.decode(body)
        let c = CapacityUnderFuzz.get()
        c.clock.tick(1)
        c.unixNow += 1
        for gossip in [c.verifying, c.trusting] {
            gossip.receive(body, from: c.neighbour, now: c.clock.now, unixNow: c.unixNow)
            gossip.tick(now: c.clock.now, unixNow: c.unixNow)
            gossip.drainOutgoing { _, _ in }
        }
        // A stub with query 1 out to the neighbour, fresh each input so the id is always 1:
        // find answers (parts, the signature check on each record) and what a stub refuses.
        let stub = CapacityGossip(directory: CapacityDirectory(maxRecords: 16))
        stub.isStub = true
        stub.neighbourUp(c.neighbour, now: c.clock.now)
        _ = stub.find([], upstream: c.neighbour, now: c.clock.now)
        stub.receive(body, from: c.neighbour, now: c.clock.now, unixNow: c.unixNow)
        _ = stub.finds.drain()
        stub.drainOutgoing { _, _ in }
    }
}
