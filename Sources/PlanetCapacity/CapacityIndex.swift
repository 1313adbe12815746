import PlanetCore

/// The directory's lookup table from a record's key to its slot in the directory's entry
/// array: open addressing with linear probing, 8 bytes a slot at most three quarters full
/// (11–21 bytes per record). A `[PublicKey: Int32]` costs 36–40 bytes a slot and a
/// `[PublicKey: Entry]` stores the key a second time, beside the record bytes that already
/// hold it; at planetsim's 10⁴ nodes × 10⁴ records that difference is gigabytes.
///
/// Each slot holds the slot number + 1 (0: empty) in its low 32 bits and 32 bits of the key's
/// hash in its high bits, so a probe compares keys (reading the record's bytes) only when
/// the hashes agree. Keys are chosen by their announcers, so the hash is seeded with a
/// per-directory secret: nobody can grind keys that all land in one probe run.
///
/// Records leave only by expiring, and the directory then rebuilds the table: no tombstones.
struct CapacityIndex {
    private(set) var slots: [UInt64]
    private var mask: Int
    private(set) var count = 0
    let seed: UInt64

    init(seed: UInt64, minimumCapacity: Int = 0) {
        self.seed = seed
        let size = CapacityIndex.size(for: minimumCapacity)
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    /// The smallest power of two (at least 16) that holds `n` at three quarters full.
    static func size(for n: Int) -> Int {
        var size = 16
        while size * 3 / 4 < n { size *= 2 }
        return size
    }

    @inline(__always)
    func hash(_ key: PublicKey) -> UInt64 {
        var h = (key.w1 ^ seed) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ key.w2 ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ key.w0 ^ (h >> 32)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }

    /// The slot holding `key`, or nil; `keyMatches(slot)` says whether that slot's record has it.
    @inline(__always)
    func find(_ key: PublicKey, keyMatches: (Int) -> Bool) -> Int? {
        let h = hash(key)
        let tag = h >> 32
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s == 0 { return nil }
            if s >> 32 == tag, keyMatches(Int(s & 0xFFFF_FFFF) - 1) { return Int(s & 0xFFFF_FFFF) - 1 }
            i = (i + 1) & mask
        }
    }

    /// Adds `key` at `slot`; the caller knows it is not held. Growing recomputes every
    /// position from the keys (a slot keeps only 32 bits of its hash), which `keyAt` reads.
    mutating func insert(_ key: PublicKey, slot: Int, keyAt: (Int) -> PublicKey) {
        if (count + 1) * 4 > slots.count * 3 {
            let old = slots
            slots = [UInt64](repeating: 0, count: old.count * 2)
            mask = slots.count - 1
            for s in old where s != 0 {
                let held = Int(s & 0xFFFF_FFFF) - 1
                place(hash(keyAt(held)), slot: held)
            }
        }
        place(hash(key), slot: slot)
        count += 1
    }

    private mutating func place(_ h: UInt64, slot: Int) {
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = (h >> 32) << 32 | UInt64(slot + 1)
    }

    /// Starts again from the given keys, slot i holding keys[i] (after records expired).
    mutating func rebuild(_ keys: [PublicKey], minimumCapacity: Int) {
        let size = CapacityIndex.size(for: max(minimumCapacity, keys.count))
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
        count = 0
        for (slot, key) in keys.enumerated() {
            place(hash(key), slot: slot)
            count += 1
        }
    }

    var allocatedBytes: Int { slots.capacity * MemoryLayout<UInt64>.stride }
}
