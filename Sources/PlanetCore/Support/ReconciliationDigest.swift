/// Set reconciliation by bucket digests: the one mechanism two linked nodes use to find where
/// a table keyed by node key differs between them, without sending the table. Capacity gossip
/// reconciles its directory with it (PlanetCapacity `CapacityDirectory` keeps its bucket
/// digests with these functions), and routing reconciles what a neighbour advertises against
/// what the router holds from it (Router+Reconciliation.swift). Docs/protocol.md, routing,
/// "Reconciliation by digest"; why one piece: Docs/notes-route-digest.md.
///
/// - An item is a key and a 64-bit *version*: capacity's is the record's seqno; routing's is
///   the advertised (seqno, metric), `routeVersion`, because a route's metric changes without
///   its origin's seqno.
/// - Items fall into 256 buckets by the key's first byte; a bucket's digest is the XOR of a
///   64-bit mix of (key, version) of every item in it, so it can be kept or computed in one
///   pass and a summary is 256 (count, digest) pairs whatever the table's size.
/// - A bucket that differs is settled by its items' (key prefix, version): the key's first
///   8 bytes, which name an item among 10⁵ (a forged collision costs ~2⁶⁴ work and only hides
///   an item from reconciliation, never from flooding or triggered updates).
///
/// Not a security check: a digest only decides what to compare; what is then sent is checked
/// as everything else (signatures, feasibility).
public enum ReconciliationDigest {
    public static let bucketCount = 256

    @inline(__always)
    public static func bucket(of key: PublicKey) -> Int { Int(key.w0 >> 56) }

    @inline(__always)
    public static func prefix(of key: PublicKey) -> UInt64 { key.w0 }

    @inline(__always)
    public static func bucket(ofPrefix prefix: UInt64) -> Int { Int(prefix >> 56) }

    /// Every prefix of bucket `b`.
    public static func prefixes(ofBucket b: Int) -> ClosedRange<UInt64> {
        let low = UInt64(b & 0xFF) << 56
        return low...(low | 0x00FF_FFFF_FFFF_FFFF)
    }

    /// A 64-bit mix of (key, version), never 0 (capacity's `CapacityDirectory.digest`).
    @inline(__always)
    public static func mix(key: PublicKey, version: UInt64) -> UInt64 {
        var h = key.w0 ^ 0x9E37_79B9_7F4A_7C15
        for w in [key.w1, key.w2, key.w3, version] {
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        return h == 0 ? 1 : h
    }

    /// Routing's version of a route: what a neighbour must hold for the digests to agree.
    @inline(__always)
    public static func routeVersion(seqno: UInt32, metric: UInt16) -> UInt64 { UInt64(seqno) << 16 | UInt64(metric) }
}

/// The 256 (count, digest) pairs of one table, built item by item.
public struct BucketDigests: Equatable, Sendable {
    public private(set) var counts: [UInt32]
    public private(set) var digests: [UInt64]

    public init() {
        counts = [UInt32](repeating: 0, count: ReconciliationDigest.bucketCount)
        digests = [UInt64](repeating: 0, count: ReconciliationDigest.bucketCount)
    }

    /// Adds an item (or, as XOR is its own inverse, takes it out again with `remove`).
    public mutating func add(_ key: PublicKey, version: UInt64) {
        let b = ReconciliationDigest.bucket(of: key)
        counts[b] &+= 1
        digests[b] ^= ReconciliationDigest.mix(key: key, version: version)
    }

    public mutating func remove(_ key: PublicKey, version: UInt64) {
        let b = ReconciliationDigest.bucket(of: key)
        counts[b] &-= 1
        digests[b] ^= ReconciliationDigest.mix(key: key, version: version)
    }

    public func matches(_ b: Int, count: UInt32, digest: UInt64) -> Bool { counts[b] == count && digests[b] == digest }
}
