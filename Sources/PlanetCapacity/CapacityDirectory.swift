import PlanetCore

/// The records this node holds, one per key: the acceptance rules, the counters of what was
/// refused and why, the bound on size, expiry, the per-key rate limit, the per-bucket digests
/// that reconciliation compares, and the bytes saved in the state directory.
///
/// Records are kept as their signed bytes (at most 1 KiB) and decoded only when asked for;
/// the key, seqno and expiry the rules need are read from those bytes, not stored again.
/// Besides the bytes an entry costs 16 bytes in a dense array, 2 bytes in a parallel one (who
/// brought it, for the fair shares), an 8-byte slot of the key index (`CapacityIndex`, at most
/// three quarters full) and its share of 256 buckets: about 32 bytes, well within the 2 KiB per record the directory may use (Docs/scale.md). Clocks
/// are Unix seconds (`unixNow`), because records carry wall-clock times that other nodes must
/// agree on; the caller reads the clock.
public final class CapacityDirectory {
    public struct Entry: Sendable {
        /// The signed record: format, key and seqno at fixed offsets, then the times.
        public let bytes: [UInt8]
        /// The key's rate limit as the Unix second at which its allowance is full again (the
        /// GCRA form of a token bucket: one number instead of an allowance and its time),
        /// to the whole second.
        var allowanceFullAt: UInt32
        /// The next entry of the same bucket (-1: none), so a bucket's records are found
        /// without a set per bucket.
        var nextInBucket: Int32

        public var key: PublicKey { PublicKey(bytes, at: 1)! }
        public var seqno: UInt64 { bytes.withUnsafeBytes { BigEndian.u64($0, at: 33) } }
        public var expiresAt: UInt64 { bytes.withUnsafeBytes { BigEndian.u64($0, at: 49) } }
        /// The first 8 bytes of the key: its bucket and reconciliation prefix.
        var keyPrefix: UInt64 { bytes.withUnsafeBytes { BigEndian.u64($0, at: 1) } }

        @inline(__always)
        func has(_ key: PublicKey) -> Bool {
            bytes.withUnsafeBytes {
                BigEndian.u64($0, at: 1) == key.w0 && BigEndian.u64($0, at: 9) == key.w1
                    && BigEndian.u64($0, at: 17) == key.w2 && BigEndian.u64($0, at: 25) == key.w3
            }
        }
    }

    /// Where a record came from, for the fair shares (see "Fair shares" below).
    public enum Source: Equatable, Sendable {
        /// This node's own record: never evicted.
        case local
        /// Loaded from the saved directory at start: nobody's share, evicted first.
        case restored
        /// Through this neighbour (its first copy decides).
        case neighbour(PublicKey)
    }

    public enum Outcome: Equatable, Sendable {
        case accepted
        /// The very bytes held already: the normal fate of a flooded record's second copy.
        case duplicate
        case rejected(CapacityRejection)
    }

    /// How far ahead of our clock a record's issue time may be (clocks of strangers drift).
    public static let allowedSkew = 120.0
    /// New records per key: a burst of 8, then one per 5 s; an announcer sends at most one
    /// per 5 s (`CapacityConfig.minAnnounceInterval` and its debounce), so a correct node never
    /// meets this. The allowance is kept to the whole second, rounded down: a key whose
    /// allowance was full may send its next record up to a second early, once; a key in
    /// debt is held to exactly one per 5 s.
    public static let rateBurst = 8.0
    public static let ratePerSecond = 1.0 / 5
    /// Buckets for reconciliation: 256 by the key's first byte, so a summary is 256 digests.
    public static let bucketCount = ReconciliationDigest.bucketCount

    public let maxRecords: Int
    /// Every record held, in no particular order.
    public private(set) var entries: [Entry] = []
    /// Who brought each entry's key first, slot by slot (an owner id: 0 this node, 1 restored
    /// from the file, else a neighbour): the share it counts against, kept across newer
    /// records. Entries stay in the order their keys arrived (removals keep the order, a newer
    /// record takes its key's slot), so an owner's lowest slots are its oldest.
    private var ownerOf: [UInt16] = []
    private var index: CapacityIndex
    public private(set) var rejections: [CapacityRejection: UInt64] = [:]
    public private(set) var duplicates: UInt64 = 0
    public private(set) var accepted: UInt64 = 0
    public private(set) var expiredRemoved: UInt64 = 0
    public private(set) var verifications: UInt64 = 0
    /// The earliest expiry held, so `expire` costs nothing until something is due.
    private var earliestExpiry = UInt64.max
    private(set) var bucketDigests = [UInt64](repeating: 0, count: CapacityDirectory.bucketCount)
    private var bucketSizes = [Int32](repeating: 0, count: CapacityDirectory.bucketCount)
    /// Each bucket's first entry (-1: empty); the rest follow `nextInBucket`.
    private var bucketHeads = [Int32](repeating: -1, count: CapacityDirectory.bucketCount)
    /// Checks a record's signature. planetd verifies with libsodium every time it is called;
    /// planetsim shares one memoising checker among all its nodes so each distinct record is
    /// verified once per run. Either way it is called only for a record that passed every
    /// cheaper rule, never for one already held.
    let verify: ([UInt8]) -> Bool

    /// `hashSeed` keys the index's hash (random unless a test fixes it).
    public init(maxRecords: Int = 100_000, verify: @escaping ([UInt8]) -> Bool = CapacityRecord.verify,
                hashSeed: UInt64 = Sodium.randomUInt64()) {
        precondition(maxRecords > 0 && maxRecords < Int(Int32.max))
        self.maxRecords = maxRecords
        self.verify = verify
        minShare = max(1, min(256, maxRecords / 8))
        index = CapacityIndex(seed: hashSeed)
    }

    public var count: Int { entries.count }

    public subscript(key: PublicKey) -> Entry? { slot(of: key).map { entries[$0] } }

    @inline(__always)
    func slot(of key: PublicKey) -> Int? { index.find(key) { entries[$0].has(key) } }

    /// Makes room for `n` records at once (planetsim, which knows how many there will be),
    /// so the tables are not grown, and over-allocated, one doubling at a time.
    public func reserveCapacity(_ n: Int) {
        entries.reserveCapacity(n)
        ownerOf.reserveCapacity(n)
        if CapacityIndex.size(for: n) > index.slots.count { index.rebuild(entries.map(\.key), minimumCapacity: n) }
    }

    // MARK: Acceptance

    /// Applies the rules in order of cost, cheapest first (Docs/protocol.md, "Accepting a
    /// record"): size, the held seqno (a duplicate or an old copy costs an index lookup),
    /// the decode, the clock, the allowance and the room, and only then the signature.
    @discardableResult
    public func offer(_ bytes: [UInt8], unixNow: Double, from source: Source = .local) -> Outcome {
        offer(bytes, unixNow: unixNow, from: source, remap: { _ in })
    }

    /// The same for a caller that keeps slot numbers (`CapacityGossip`): a record that makes
    /// room evicts others, which moves the rest, and `remap` hears of it as with `expire`.
    @discardableResult
    func offer(_ bytes: [UInt8], unixNow: Double, from source: Source, remap: ([Int32]) -> Void) -> Outcome {
        lastAcceptedOverShare = false
        let outcome = check(bytes, unixNow: unixNow, source: source, remap: remap)
        switch outcome {
        case .accepted: accepted += 1
        case .duplicate: duplicates += 1
        case .rejected(let reason): rejections[reason, default: 0] += 1
        }
        return outcome
    }

    private func check(_ bytes: [UInt8], unixNow: Double, source: Source, remap: ([Int32]) -> Void) -> Outcome {
        guard bytes.count <= CapacityRecord.maxBytes else { return .rejected(.oversize) }
        guard let (key, seqno) = CapacityRecord.header(bytes) else { return .rejected(.malformed) }
        let slot = self.slot(of: key)
        if let slot {
            let held = entries[slot]
            let heldSeqno = held.seqno
            if seqno < heldSeqno { return .rejected(.stale) }
            if seqno == heldSeqno { return held.bytes == bytes ? .duplicate : .rejected(.conflict) }
        }
        let record: CapacityRecord
        do { record = try CapacityRecord.decode(bytes) } catch { return .rejected(error == .tooLong(bytes.count) ? .oversize : .malformed) }
        if Double(record.issuedAt) > unixNow + CapacityDirectory.allowedSkew { return .rejected(.future) }
        if Double(record.expiresAt) <= unixNow { return .rejected(.expired) }
        if record.expiresAt < record.issuedAt || Double(record.expiresAt - record.issuedAt) > CapacityConfig.maxLifetime {
            return .rejected(.badLifetime)
        }
        let interval = 1 / CapacityDirectory.ratePerSecond
        var fullAt = unixNow
        if let slot {
            // Burst − 1 records of debt may be outstanding, and this one adds one more.
            fullAt = max(Double(entries[slot].allowanceFullAt), unixNow)
            if fullAt - unixNow > (CapacityDirectory.rateBurst - 1) * interval { return .rejected(.rateLimited) }
        }
        var victim: UInt16?
        let owner = slot == nil ? ownerId(source) : 0 as UInt16
        if slot == nil && entries.count >= maxRecords {
            // Full: room comes from a share, never from this node's own record (below).
            guard let v = self.victim(for: owner) else { return .rejected(.directoryFull) }
            victim = v
        }
        verifications += 1
        guard verify(bytes) else { return .rejected(.badSignature) }
        if let victim { evictOldest(of: victim, remap: remap) }
        store(bytes, key: key, seqno: seqno, slot: slot, owner: owner, allowanceFullAt: CapacityDirectory.wholeSecond(fullAt + interval))
        lastAcceptedOverShare = slot == nil && owner != CapacityDirectory.localOwner
            && owners[Int(owner)].count > shareOf(owner) && entries.count > maxRecords - CapacityDirectory.evictionBatch(maxRecords)
        return .accepted
    }

    // MARK: Fair shares

    // A neighbour can send genuinely signed records for as many fresh keys as it likes. With one
    // bound for all, 100,000 of them filled the directory and every new key after, honest ones
    // included, was refused until the fakes expired (up to 7 days). Instead each key is
    // attributed to whoever brought it first, and each neighbour linked now has a share of
    // `maxRecords`: `maxRecords / neighbours`, at least `minShare`. Nothing is evicted while
    // there is room. Once full, a new key is stored by evicting the oldest keys of its own
    // neighbour if that neighbour holds its share or more, and otherwise of the owner most over
    // its share; if nobody is over, it is refused (`directory-full`). Keys of neighbours that
    // left, and those restored from the file, have a share of 0 and so go first; this node's
    // own record is never evicted. A flood thus fills at most its own neighbour's share (and
    // room nobody else uses), and a record arriving through any other neighbour always finds
    // room; what only churns a share is not flooded on (`lastAcceptedOverShare`).
    // Docs/security.md, "Fair shares".

    /// Owner ids: 0 this node, 1 restored, then neighbours (reused once a departed one holds
    /// nothing). Past 65,535 neighbours holding records at once, more count as restored.
    static let localOwner: UInt16 = 0
    static let restoredOwner: UInt16 = 1
    struct Owner {
        var key: PublicKey?
        var linked = false
        var count = 0
    }
    private var owners = [Owner(), Owner()]
    private var ownerIds: [PublicKey: UInt16] = [:]
    private var freeOwners: [UInt16] = []
    private var linkedNeighbours = 0
    /// Records evicted to make room for others (`capacity-evicted`).
    public private(set) var evicted: UInt64 = 0
    /// Whether the record `offer` accepted last was a new key that leaves its neighbour over
    /// its share of a full directory: it only churns that neighbour's own part, and
    /// `CapacityGossip` holds it without flooding it on (reconciliation still spreads what is
    /// held), so a flood stops at the first node whose directory it fills.
    public private(set) var lastAcceptedOverShare = false
    /// The smallest share a linked neighbour has, however many there are (a hub with 10,000
    /// stubs would otherwise give each 10 records): 256, or an eighth of a small directory.
    public var minShare: Int

    /// A neighbour linked: records it brings count against its share, which it holds from now.
    public func neighbourUp(_ key: PublicKey) {
        let id = ownerId(.neighbour(key))
        guard id != CapacityDirectory.restoredOwner else { return }
        if !owners[Int(id)].linked { owners[Int(id)].linked = true; linkedNeighbours += 1 }
    }

    /// A neighbour left: its records stay (they are still signed and true) but now have no
    /// share, so they are the first to go when room is needed.
    public func neighbourDown(_ key: PublicKey) {
        guard let id = ownerIds[key], owners[Int(id)].linked else { return }
        owners[Int(id)].linked = false
        linkedNeighbours -= 1
        releaseIfEmpty(id)
    }

    /// Each linked neighbour's share now.
    public var share: Int { linkedNeighbours == 0 ? maxRecords : min(maxRecords, max(minShare, maxRecords / linkedNeighbours)) }

    /// Records attributed to a source now.
    public func held(from source: Source) -> Int {
        switch source {
        case .local: return owners[0].count
        case .restored: return owners[1].count
        case .neighbour(let key): return ownerIds[key].map { owners[Int($0)].count } ?? 0
        }
    }

    /// Who brought a held key first.
    public func source(of key: PublicKey) -> Source? {
        guard let slot = slot(of: key) else { return nil }
        let o = ownerOf[slot]
        if o == CapacityDirectory.localOwner { return .local }
        if o == CapacityDirectory.restoredOwner { return .restored }
        return owners[Int(o)].key.map { .neighbour($0) } ?? .restored
    }

    private func shareOf(_ id: UInt16) -> Int {
        if id == CapacityDirectory.localOwner { return .max }
        return owners[Int(id)].linked ? share : 0
    }

    private func ownerId(_ source: Source) -> UInt16 {
        switch source {
        case .local: return CapacityDirectory.localOwner
        case .restored: return CapacityDirectory.restoredOwner
        case .neighbour(let key):
            if let id = ownerIds[key] { return id }
            let id: UInt16
            if let f = freeOwners.popLast() {
                id = f
                owners[Int(f)] = Owner(key: key)
            } else {
                guard owners.count <= Int(UInt16.max) else { return CapacityDirectory.restoredOwner }
                id = UInt16(owners.count)
                owners.append(Owner(key: key))
            }
            ownerIds[key] = id
            return id
        }
    }

    private func releaseIfEmpty(_ id: UInt16) {
        guard id > CapacityDirectory.restoredOwner, !owners[Int(id)].linked, owners[Int(id)].count == 0, let key = owners[Int(id)].key else { return }
        ownerIds[key] = nil
        owners[Int(id)] = Owner()
        freeOwners.append(id)
    }

    /// Whose records make room for a new key from `owner` in a full directory, or nil.
    private func victim(for owner: UInt16) -> UInt16? {
        if owner != CapacityDirectory.localOwner, owners[Int(owner)].count > 0, owners[Int(owner)].count >= shareOf(owner) { return owner }
        var best: UInt16?
        var bestExcess = 0
        for (i, o) in owners.enumerated() where i != Int(CapacityDirectory.localOwner) && o.count > 0 {
            let excess = o.count - shareOf(UInt16(i))
            if excess > bestExcess { best = UInt16(i); bestExcess = excess }
        }
        return best
    }

    static func evictionBatch(_ maxRecords: Int) -> Int { max(1, maxRecords / 64) }

    /// Evicts `owner`'s oldest records: a 64th of the directory at once (at least one), since
    /// every removal costs a pass over the directory, as expiry does.
    private func evictOldest(of owner: UInt16, remap: ([Int32]) -> Void) {
        var n = min(owners[Int(owner)].count, CapacityDirectory.evictionBatch(maxRecords))
        guard n > 0 else { return }
        // Its lowest slots are its oldest.
        var last = 0
        for (slot, o) in ownerOf.enumerated() where o == owner {
            last = slot
            n -= 1
            if n == 0 { break }
        }
        let gone = remove(where: { ownerOf[$0] == owner && $0 <= last }, remap: remap)
        evicted += UInt64(gone)
    }

    /// A time in Unix seconds, rounded down, in 32 bits (good until 2106). Rounded up, a burst
    /// that starts at a fractional second would be cut to 7.
    static func wholeSecond(_ t: Double) -> UInt32 { UInt32(min(max(0, t.rounded(.down)), Double(UInt32.max))) }

    private func store(_ bytes: [UInt8], key: PublicKey, seqno: UInt64, slot: Int?, owner: UInt16, allowanceFullAt: UInt32) {
        let b = CapacityDirectory.bucket(of: key)
        if let slot {
            // A newer record of a held key: same slot, same bucket, a new digest; still
            // attributed to whoever brought the key first.
            bucketDigests[b] ^= CapacityDirectory.digest(key: key, seqno: entries[slot].seqno) ^ CapacityDirectory.digest(key: key, seqno: seqno)
            entries[slot] = Entry(bytes: bytes, allowanceFullAt: allowanceFullAt, nextInBucket: entries[slot].nextInBucket)
        } else {
            let slot = entries.count
            owners[Int(owner)].count += 1
            ownerOf.append(owner)
            entries.append(Entry(bytes: bytes, allowanceFullAt: allowanceFullAt, nextInBucket: bucketHeads[b]))
            bucketHeads[b] = Int32(slot)
            bucketSizes[b] += 1
            bucketDigests[b] ^= CapacityDirectory.digest(key: key, seqno: seqno)
            index.insert(key, slot: slot) { entries[$0].key }
        }
        earliestExpiry = min(earliestExpiry, entries[slot ?? entries.count - 1].expiresAt)
    }

    // MARK: Expiry

    /// Drops every record expired by `unixNow`; returns how many.
    @discardableResult
    public func expire(unixNow: Double) -> Int { expire(unixNow: unixNow, remap: { _ in }) }

    /// Bumped whenever records leave, which moves the others to new slots.
    public private(set) var generation: UInt64 = 0

    /// Expiry for a caller that keeps slot numbers (`CapacityGossip`'s outboxes): `remap`
    /// gets, for each old slot, its new one (-1: gone), once, when anything left.
    @discardableResult
    func expire(unixNow: Double, remap: ([Int32]) -> Void) -> Int {
        guard Double(earliestExpiry) <= unixNow else { return 0 }
        let gone = remove(where: { Double(entries[$0].expiresAt) <= unixNow }, remap: remap)
        expiredRemoved += UInt64(gone)
        if gone == 0 { rebuild() }  // only the earliest expiry was out of date
        return gone
    }

    /// Removes the entries `leaves` picks, moving the rest down (`remap` hears where), and
    /// rebuilds the index, the buckets and the owners' counts.
    private func remove(where leaves: (Int) -> Bool, remap: ([Int32]) -> Void) -> Int {
        var moved = [Int32](repeating: -1, count: entries.count)
        var kept = 0
        for slot in entries.indices where !leaves(slot) {
            moved[slot] = Int32(kept)
            kept += 1
        }
        let gone = entries.count - kept
        guard gone > 0 else { return 0 }
        // In place and in order (the order is the owners' ages).
        for slot in entries.indices where moved[slot] >= 0 && Int(moved[slot]) != slot {
            entries[Int(moved[slot])] = entries[slot]
            ownerOf[Int(moved[slot])] = ownerOf[slot]
        }
        entries.removeLast(gone)
        ownerOf.removeLast(gone)
        generation += 1
        remap(moved)
        rebuild()
        return gone
    }

    /// Index, buckets and digests again from `entries`, after some left (rare: expiry).
    private func rebuild() {
        let keys = entries.map(\.key)
        index.rebuild(keys, minimumCapacity: 0)
        bucketDigests = [UInt64](repeating: 0, count: CapacityDirectory.bucketCount)
        bucketSizes = [Int32](repeating: 0, count: CapacityDirectory.bucketCount)
        bucketHeads = [Int32](repeating: -1, count: CapacityDirectory.bucketCount)
        earliestExpiry = .max
        for i in owners.indices { owners[i].count = 0 }
        for o in ownerOf { owners[Int(o)].count += 1 }
        for i in owners.indices { releaseIfEmpty(UInt16(i)) }
        for (slot, key) in keys.enumerated() {
            let b = CapacityDirectory.bucket(of: key)
            entries[slot].nextInBucket = bucketHeads[b]
            bucketHeads[b] = Int32(slot)
            bucketSizes[b] += 1
            bucketDigests[b] ^= CapacityDirectory.digest(key: key, seqno: entries[slot].seqno)
            earliestExpiry = min(earliestExpiry, entries[slot].expiresAt)
        }
    }

    /// The earliest expiry held (Unix seconds), for the caller's next timer.
    public var nextExpiry: UInt64? { earliestExpiry == .max ? nil : earliestExpiry }

    // MARK: Reconciliation support

    // The buckets, key prefixes and digest mix are PlanetCore's `ReconciliationDigest`, the one
    // mechanism routing reconciles with too; a record's version there is its seqno.

    @inline(__always)
    public static func bucket(of key: PublicKey) -> Int { ReconciliationDigest.bucket(of: key) }

    /// A record's identity for reconciliation: the first 8 bytes of its key, which are also
    /// what a bucket list carries (a forged prefix collision costs ~2⁶⁴ work and only hides a
    /// record from reconciliation, never from flooding).
    @inline(__always)
    public static func prefix(of key: PublicKey) -> UInt64 { ReconciliationDigest.prefix(of: key) }

    /// A bucket's digest is the XOR of its records' mixes, updated as records come and go, so a
    /// summary costs nothing to make. Not a security check: it only decides what to compare,
    /// and the records themselves are verified.
    @inline(__always)
    static func digest(key: PublicKey, seqno: UInt64) -> UInt64 { ReconciliationDigest.mix(key: key, version: seqno) }

    public func bucketDigest(_ b: Int) -> UInt64 { bucketDigests[b] }

    /// One number for the whole directory's content (every bucket's count and digest folded
    /// together): equal fingerprints mean, but for a 2⁻⁶⁴ chance, equal summaries. 256 steps.
    public var fingerprint: UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in 0..<CapacityDirectory.bucketCount {
            h = (h ^ bucketDigests[b]) &* 0x100_0000_01B3
            h = (h ^ UInt64(UInt32(bitPattern: bucketSizes[b]))) &* 0x100_0000_01B3
        }
        return h
    }
    public func bucketCount(_ b: Int) -> Int { Int(bucketSizes[b]) }

    /// The slots of the entries whose key falls in bucket `b`.
    func forEachSlot(inBucket b: Int, _ body: (Int) -> Void) {
        var i = bucketHeads[b]
        while i >= 0 {
            body(Int(i))
            i = entries[Int(i)].nextInBucket
        }
    }

    /// The entries whose key falls in bucket `b`.
    public func entries(inBucket b: Int) -> [Entry] {
        var out: [Entry] = []
        out.reserveCapacity(Int(bucketSizes[b]))
        var i = bucketHeads[b]
        while i >= 0 {
            out.append(entries[Int(i)])
            i = entries[Int(i)].nextInBucket
        }
        return out
    }

    /// Heap bytes the directory uses: its tables at their allocated capacity, and the records'
    /// bytes unless they are shared with other directories (planetsim's nodes share them;
    /// planetd's one directory owns its copies, each with a 32-byte array header).
    public func estimatedMemoryBytes(sharedRecordBytes: Bool) -> Int {
        var total = entries.capacity * MemoryLayout<Entry>.stride + ownerOf.capacity * MemoryLayout<UInt16>.stride + index.allocatedBytes
        total += CapacityDirectory.bucketCount * (MemoryLayout<UInt64>.stride + 2 * MemoryLayout<Int32>.stride)
        if !sharedRecordBytes { total += entries.reduce(0) { $0 + $1.bytes.count + 32 } }
        return total
    }

    // MARK: Persistence

    static let fileMagic: [UInt8] = Array("PLANETCAP1".utf8)

    /// Every record's bytes, in a file format of our own: magic, then length-prefixed records.
    public func saved() -> [UInt8] { CapacityDirectory.saved(entries) }

    /// The same from a copy of `entries` (copy on write: taking it costs the caller nothing),
    /// so the work — a sort and a copy of every record, ~200 ms at 10⁵ records — can run away
    /// from the node's thread (`CapacityDirectoryFile`).
    public static func saved(_ entries: [Entry]) -> [UInt8] {
        var w = ByteWriter(capacity: 16 + entries.count * 300)
        w.append(CapacityDirectory.fileMagic)
        for e in entries.sorted(by: { $0.key < $1.key }) {
            w.u16(UInt16(e.bytes.count))
            w.append(e.bytes)
        }
        return w.bytes
    }

    /// Loads a saved directory through the normal rules, so what expired while the node was
    /// down is dropped and nothing unsigned gets in even from a tampered file (at 10⁵ records
    /// the signature checks take a few seconds, once, at start). Returns how many
    /// records were taken; a damaged file yields what precedes the damage.
    @discardableResult
    public func restore(_ file: [UInt8], unixNow: Double) -> Int {
        guard file.count >= CapacityDirectory.fileMagic.count, Array(file.prefix(CapacityDirectory.fileMagic.count)) == CapacityDirectory.fileMagic else { return 0 }
        var r = ByteReader(file, offset: CapacityDirectory.fileMagic.count)
        var taken = 0
        while !r.isAtEnd, let n = r.u16(), let bytes = r.array(Int(n)) {
            // Not counted as rejections: records that expired while the node was down are no
            // one's fault.
            if check(bytes, unixNow: unixNow, source: .restored, remap: { _ in }) == .accepted { taken += 1 }
        }
        return taken
    }
}
