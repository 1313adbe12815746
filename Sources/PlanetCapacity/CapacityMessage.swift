import PlanetCore

/// The capacity gossip messages, each the body of one inner frame of type 0x11 between two
/// linked nodes (Docs/protocol.md, "Capacity gossip"). At most `maxBytes`, so a message plus
/// the link's framing fits one datagram on a 1280-byte path.
public enum CapacityMessage: Equatable, Sendable {
    /// Whole signed records: new ones flooded, or what a neighbour was found to lack.
    case records([[UInt8]])
    /// Per-bucket record counts and digests, for buckets `first ..< first + count`.
    case summary(first: Int, buckets: [Bucket])
    /// The (key prefix, seqno) of every record the sender holds in one bucket, in parts:
    /// `total` says how many entries the whole list has.
    case bucketList(bucket: Int, total: Int, entries: [ListEntry])
    /// A stub's `nodes find` asked of its upstream (a stub holds no directory): the admin call's
    /// own filters as (name, value) strings, parsed on the upstream by `CapacityQuery.parse`,
    /// or the single filter `node` = a key or address for `getNode`.
    case findQuery(id: UInt32, filters: [Filter])
    /// One part of the upstream's answer: the records that matched, signed as their owners
    /// made them (the stub checks every signature), each with the upstream's route metric to
    /// its key; `held` is how many records the upstream holds.
    case findAnswer(id: UInt32, part: Int, parts: Int, held: UInt32, records: [Found])

    public struct Filter: Equatable, Sendable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    public struct Found: Equatable, Sendable {
        /// The upstream's route metric to the record's key; nil: no route (sent as 0xFFFF_FFFF).
        public var metric: UInt32?
        public var bytes: [UInt8]
        public init(metric: UInt32?, bytes: [UInt8]) { self.metric = metric; self.bytes = bytes }
    }

    public struct Bucket: Equatable, Sendable {
        public var count: UInt32
        public var digest: UInt64
        public init(count: UInt32, digest: UInt64) { self.count = count; self.digest = digest }
    }

    public struct ListEntry: Equatable, Sendable {
        public var prefix: UInt64
        public var seqno: UInt64
        public init(prefix: UInt64, seqno: UInt64) { self.prefix = prefix; self.seqno = seqno }
    }

    public static let maxBytes = 1200
    static let typeRecords: UInt8 = 1, typeSummary: UInt8 = 2, typeBucketList: UInt8 = 3
    static let typeFindQuery: UInt8 = 4, typeFindAnswer: UInt8 = 5
    /// A find answer's fixed part: type, id u32, part u8, parts u8, held u32, count u8.
    public static let findAnswerHeader = 12
    /// Each record's overhead in a find answer: metric u32, length u16.
    public static let findRecordOverhead = 6
    /// Buckets per summary message: 3 + 96 × 12 = 1155 bytes.
    public static let bucketsPerSummary = 96
    /// Entries per bucket-list message: 7 + 74 × 16 = 1191 bytes.
    public static let entriesPerList = 74

    var isRecords: Bool { if case .records = self { return true }; return false }
    var isFindAnswer: Bool { if case .findAnswer = self { return true }; return false }

    /// The length of `encoded()`, without encoding.
    public var encodedCount: Int {
        switch self {
        case .records(let records): return 2 + records.reduce(0) { $0 + 2 + $1.count }
        case .summary(_, let buckets): return 3 + 12 * buckets.count
        case .bucketList(_, _, let entries): return 7 + 16 * entries.count
        case .findQuery(_, let filters): return 6 + filters.reduce(0) { $0 + 2 + $1.name.utf8.count + $1.value.utf8.count }
        case .findAnswer(_, _, _, _, let records):
            return CapacityMessage.findAnswerHeader + records.reduce(0) { $0 + CapacityMessage.findRecordOverhead + $1.bytes.count }
        }
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: encodedCount)
        switch self {
        case .records(let records):
            w.u8(CapacityMessage.typeRecords)
            w.u8(UInt8(records.count))
            for r in records { w.u16(UInt16(r.count)); w.append(r) }
        case .summary(let first, let buckets):
            w.u8(CapacityMessage.typeSummary)
            w.u8(UInt8(first))
            w.u8(UInt8(buckets.count))
            for b in buckets { w.u32(b.count); w.u64(b.digest) }
        case .bucketList(let bucket, let total, let entries):
            w.u8(CapacityMessage.typeBucketList)
            w.u8(UInt8(bucket))
            w.u32(UInt32(total))
            w.u8(UInt8(entries.count))
            for e in entries { w.u64(e.prefix); w.u64(e.seqno) }
        case .findQuery(let id, let filters):
            w.u8(CapacityMessage.typeFindQuery)
            w.u32(id)
            w.u8(UInt8(filters.count))
            for f in filters {
                w.u8(UInt8(f.name.utf8.count)); w.append(Array(f.name.utf8))
                w.u8(UInt8(f.value.utf8.count)); w.append(Array(f.value.utf8))
            }
        case .findAnswer(let id, let part, let parts, let held, let records):
            w.u8(CapacityMessage.typeFindAnswer)
            w.u32(id)
            w.u8(UInt8(part))
            w.u8(UInt8(parts))
            w.u32(held)
            w.u8(UInt8(records.count))
            for r in records { w.u32(r.metric ?? .max); w.u16(UInt16(r.bytes.count)); w.append(r.bytes) }
        }
        return w.bytes
    }

    /// nil for anything malformed: an unknown type, a count the bytes don't hold, trailing bytes.
    public static func decode(_ body: [UInt8]) -> CapacityMessage? {
        guard body.count <= maxBytes else { return nil }
        var r = ByteReader(body)
        guard let type = r.u8() else { return nil }
        var message: CapacityMessage
        switch type {
        case typeRecords:
            guard let n = r.u8(), n > 0 else { return nil }
            var records: [[UInt8]] = []
            for _ in 0..<n {
                guard let len = r.u16(), let bytes = r.array(Int(len)) else { return nil }
                records.append(bytes)
            }
            message = .records(records)
        case typeSummary:
            guard let first = r.u8(), let n = r.u8(), n > 0, Int(first) + Int(n) <= CapacityDirectory.bucketCount else { return nil }
            var buckets: [Bucket] = []
            for _ in 0..<n {
                guard let c = r.u32(), let d = r.u64() else { return nil }
                buckets.append(Bucket(count: c, digest: d))
            }
            message = .summary(first: Int(first), buckets: buckets)
        case typeBucketList:
            guard let b = r.u8(), let total = r.u32(), let n = r.u8(), n <= entriesPerList, Int(n) <= Int(total) else { return nil }
            var entries: [ListEntry] = []
            for _ in 0..<n {
                guard let p = r.u64(), let s = r.u64() else { return nil }
                entries.append(ListEntry(prefix: p, seqno: s))
            }
            message = .bucketList(bucket: Int(b), total: Int(total), entries: entries)
        case typeFindQuery:
            guard let id = r.u32(), let n = r.u8() else { return nil }
            var filters: [Filter] = []
            for _ in 0..<n {
                guard let nl = r.u8(), let name = r.array(Int(nl)), let vl = r.u8(), let value = r.array(Int(vl)),
                      let ns = String(validating: name, as: UTF8.self), let vs = String(validating: value, as: UTF8.self) else { return nil }
                filters.append(Filter(ns, vs))
            }
            message = .findQuery(id: id, filters: filters)
        case typeFindAnswer:
            guard let id = r.u32(), let part = r.u8(), let parts = r.u8(), part < parts, let held = r.u32(), let n = r.u8() else { return nil }
            var records: [Found] = []
            for _ in 0..<n {
                guard let metric = r.u32(), let len = r.u16(), let bytes = r.array(Int(len)) else { return nil }
                records.append(Found(metric: metric == .max ? nil : metric, bytes: bytes))
            }
            message = .findAnswer(id: id, part: Int(part), parts: Int(parts), held: held, records: records)
        default:
            return nil
        }
        guard r.isAtEnd else { return nil }
        return message
    }
}
