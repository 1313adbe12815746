import PlanetCore

/// The records this node holds, one per key: the acceptance rules, the counters of what was
/// refused and why, the bound on size, expiry, the per-key rate limit, the per-bucket digests
/// that reconciliation compares, and the bytes saved in the state directory.
///
/// Records are kept as their signed bytes (at most 1 KiB) with the few header fields the rules
/// need, and decoded only when asked for: an entry costs its bytes plus ~120 bytes, within the
/// 2 KiB per record the directory may use. Clocks are Unix seconds (`unixNow`), because
/// records carry wall-clock times that other nodes must agree on; the caller reads the clock.
public final class CapacityDirectory {
    public struct Entry: Sendable {
        public let key: PublicKey
        public let seqno: UInt64
        public let expiresAt: UInt64
        public let bytes: [UInt8]
        /// When it was accepted here (Unix seconds): the age `planetctl nodes` shows.
        public let receivedAt: Double
        /// This entry's share of its bucket's digest.
        let digest: UInt64
        /// The key's rate-limit allowance (records), as of `allowanceAt`.
        var allowance: Double
        var allowanceAt: Double
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
    /// meets this.
    public static let rateBurst = 8.0
    public static let ratePerSecond = 1.0 / 5
    /// Buckets for reconciliation: 256 by the key's first byte, so a summary is 256 digests.
    public static let bucketCount = 256

    public let maxRecords: Int
    public private(set) var entries: [PublicKey: Entry] = [:]
    public private(set) var rejections: [CapacityRejection: UInt64] = [:]
    public private(set) var duplicates: UInt64 = 0
    public private(set) var accepted: UInt64 = 0
    public private(set) var expiredRemoved: UInt64 = 0
    public private(set) var verifications: UInt64 = 0
    /// The earliest expiry held, so `expire` costs nothing until something is due.
    private var earliestExpiry = UInt64.max
    private(set) var bucketDigests = [UInt64](repeating: 0, count: CapacityDirectory.bucketCount)
    /// The keys in each bucket, so a bucket's records are found without scanning them all.
    private(set) var bucketKeys = [Set<PublicKey>](repeating: [], count: CapacityDirectory.bucketCount)
    /// Checks a record's signature. planetd verifies with libsodium every time it is called;
    /// planetsim shares one memoising checker among all its nodes so each distinct record is
    /// verified once per run. Either way it is called only for a record that passed every
    /// cheaper rule, never for one already held.
    let verify: ([UInt8]) -> Bool

    public init(maxRecords: Int = 100_000, verify: @escaping ([UInt8]) -> Bool = CapacityRecord.verify) {
        precondition(maxRecords > 0)
        self.maxRecords = maxRecords
        self.verify = verify
    }

    public var count: Int { entries.count }
    public subscript(key: PublicKey) -> Entry? { entries[key] }

    // MARK: Acceptance

    /// Applies the rules in order of cost, cheapest first (Docs/protocol.md, "Accepting a
    /// record"): size, the held seqno (a duplicate or an old copy costs a dictionary lookup),
    /// the decode, the clock, the allowance and the room, and only then the signature.
    @discardableResult
    public func offer(_ bytes: [UInt8], unixNow: Double) -> Outcome {
        let outcome = check(bytes, unixNow: unixNow)
        switch outcome {
        case .accepted: accepted += 1
        case .duplicate: duplicates += 1
        case .rejected(let reason): rejections[reason, default: 0] += 1
        }
        return outcome
    }

    private func check(_ bytes: [UInt8], unixNow: Double) -> Outcome {
        guard bytes.count <= CapacityRecord.maxBytes else { return .rejected(.oversize) }
        guard let (key, seqno) = CapacityRecord.header(bytes) else { return .rejected(.malformed) }
        let held = entries[key]
        if let held {
            if seqno < held.seqno { return .rejected(.stale) }
            if seqno == held.seqno { return held.bytes == bytes ? .duplicate : .rejected(.conflict) }
        }
        let record: CapacityRecord
        do { record = try CapacityRecord.decode(bytes) } catch { return .rejected(error == .tooLong(bytes.count) ? .oversize : .malformed) }
        if Double(record.issuedAt) > unixNow + CapacityDirectory.allowedSkew { return .rejected(.future) }
        if Double(record.expiresAt) <= unixNow { return .rejected(.expired) }
        if record.expiresAt < record.issuedAt || Double(record.expiresAt - record.issuedAt) > CapacityConfig.maxLifetime {
            return .rejected(.badLifetime)
        }
        var allowance = CapacityDirectory.rateBurst
        if let held {
            allowance = min(CapacityDirectory.rateBurst, held.allowance + max(0, unixNow - held.allowanceAt) * CapacityDirectory.ratePerSecond)
            if allowance < 1 { return .rejected(.rateLimited) }
        } else if entries.count >= maxRecords {
            return .rejected(.directoryFull)
        }
        verifications += 1
        guard verify(bytes) else { return .rejected(.badSignature) }
        store(Entry(key: key, seqno: seqno, expiresAt: record.expiresAt, bytes: bytes, receivedAt: unixNow,
                    digest: CapacityDirectory.digest(key: key, seqno: seqno), allowance: allowance - 1, allowanceAt: unixNow))
        return .accepted
    }

    private func store(_ e: Entry) {
        if let old = entries[e.key] { unbucket(old) }
        entries[e.key] = e
        earliestExpiry = min(earliestExpiry, e.expiresAt)
        let b = CapacityDirectory.bucket(of: e.key)
        bucketDigests[b] ^= e.digest
        bucketKeys[b].insert(e.key)
    }

    private func unbucket(_ e: Entry) {
        let b = CapacityDirectory.bucket(of: e.key)
        bucketDigests[b] ^= e.digest
        bucketKeys[b].remove(e.key)
    }

    // MARK: Expiry

    /// Drops every record expired by `unixNow`; returns how many.
    @discardableResult
    public func expire(unixNow: Double) -> Int {
        guard Double(earliestExpiry) <= unixNow else { return 0 }
        let gone = entries.values.filter { Double($0.expiresAt) <= unixNow }
        for e in gone {
            unbucket(e)
            entries[e.key] = nil
        }
        expiredRemoved += UInt64(gone.count)
        earliestExpiry = entries.values.lazy.map(\.expiresAt).min() ?? .max
        return gone.count
    }

    /// The earliest expiry held (Unix seconds), for the caller's next timer.
    public var nextExpiry: UInt64? { earliestExpiry == .max ? nil : earliestExpiry }

    // MARK: Reconciliation support

    @inline(__always)
    public static func bucket(of key: PublicKey) -> Int { Int(key.w0 >> 56) }

    /// A record's identity for reconciliation: the first 8 bytes of its key, which are also
    /// what a bucket list carries (a forged prefix collision costs ~2⁶⁴ work and only hides a
    /// record from reconciliation, never from flooding).
    @inline(__always)
    public static func prefix(of key: PublicKey) -> UInt64 { key.w0 }

    /// A 64-bit mix of (key, seqno); a bucket's digest is their XOR, updated as records come
    /// and go, so a summary costs nothing to make. Not a security check: it only decides what
    /// to compare, and the records themselves are verified.
    static func digest(key: PublicKey, seqno: UInt64) -> UInt64 {
        var h = key.w0 ^ 0x9E37_79B9_7F4A_7C15
        for w in [key.w1, key.w2, key.w3, seqno] {
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        return h == 0 ? 1 : h
    }

    public func bucketDigest(_ b: Int) -> UInt64 { bucketDigests[b] }
    public func bucketCount(_ b: Int) -> Int { bucketKeys[b].count }

    /// The entries whose key falls in bucket `b`.
    public func entries(inBucket b: Int) -> [Entry] {
        bucketKeys[b].compactMap { entries[$0] }
    }

    /// Heap bytes the directory uses: its tables at their allocated capacity, and the records'
    /// bytes unless they are shared with other directories (planetsim's nodes share them;
    /// planetd's one directory owns its copies).
    public func estimatedMemoryBytes(sharedRecordBytes: Bool) -> Int {
        let slot = MemoryLayout<PublicKey>.stride + MemoryLayout<Entry>.stride
        var total = entries.capacity * slot + bucketKeys.reduce(0) { $0 + $1.capacity * MemoryLayout<PublicKey>.stride }
        if !sharedRecordBytes { total += entries.values.reduce(0) { $0 + $1.bytes.count + 32 } }
        return total
    }

    // MARK: Persistence

    static let fileMagic: [UInt8] = Array("PLANETCAP1".utf8)

    /// Every record's bytes, in a file format of our own: magic, then length-prefixed records.
    public func saved() -> [UInt8] {
        var w = ByteWriter(capacity: 16 + entries.count * 300)
        w.append(CapacityDirectory.fileMagic)
        for e in entries.values.sorted(by: { $0.key < $1.key }) {
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
            if check(bytes, unixNow: unixNow) == .accepted { taken += 1 }
        }
        return taken
    }
}
