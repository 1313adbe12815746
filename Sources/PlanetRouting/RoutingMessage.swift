import PlanetCore

/// One element of a routing message (Docs/protocol.md, routing, "wire format").
public enum RoutingTLV: Equatable, Sendable {
    /// A route with the origin's signature over (origin, seqno, flags).
    case update(origin: PublicKey, seqno: UInt32, flags: UInt8, metric: UInt16, signature: [UInt8])
    /// A route whose (origin, seqno) the receiver has already verified; saves 65 bytes in dumps.
    case refresh(origin: PublicKey, seqno: UInt32, metric: UInt16)
    /// The sender no longer has a route to `origin`.
    case retraction(origin: PublicKey)
    /// "Send me your route to `origin` with its signature"; nil asks for every route.
    case routeRequest(origin: PublicKey?)
    /// "Find me `origin` with a seqno at least this", forwarded toward the origin while `hopCount` lasts.
    case seqnoRequest(origin: PublicKey, seqno: UInt32, hopCount: UInt8)
    /// Reconciliation (Router+Reconciliation.swift): the (count, digest) of buckets
    /// `first ..< first + buckets.count` of the routes the sender advertises to the receiver.
    /// No buckets: "I reconcile by digest" (sent when a link comes up).
    case summary(first: UInt8, buckets: [SummaryBucket])
    /// The (key prefix, seqno, metric) of every route the sender holds from the receiver whose
    /// origin's prefix lies in `low ... high` (one bucket): the receiver answers with what differs.
    case rangeList(low: UInt64, high: UInt64, entries: [RangeEntry])
    /// The sender advertises no route to the receiver for an origin with this key prefix.
    case prefixRetraction(prefix: UInt64)
    /// Stub nodes (Router+Stub.swift): "I keep no routing table: send me no dumps, summaries
    /// or triggered updates, only answers; I relay nothing".
    case stubHello
    /// "Which origin owns this overlay address?" (a stub to its upstream).
    case originQuery(address: IPv6Address)
    /// The signed origin the sender holds for a queried address: exactly an update's origin,
    /// seqno, flags and signature (no metric: the stub routes through the sender anyway).
    case originAnswer(origin: PublicKey, seqno: UInt32, flags: UInt8, signature: [UInt8])
    /// The sender holds no reachable origin for the queried address.
    case originUnknown(address: IPv6Address)

    public struct SummaryBucket: Equatable, Sendable {
        public var count: UInt32
        public var digest: UInt64
        public init(count: UInt32, digest: UInt64) { self.count = count; self.digest = digest }
    }

    public struct RangeEntry: Equatable, Sendable {
        public var prefix: UInt64
        public var seqno: UInt32
        public var metric: UInt16
        public init(prefix: UInt64, seqno: UInt32, metric: UInt16) { self.prefix = prefix; self.seqno = seqno; self.metric = metric }
    }

    /// Buckets per summary TLV (1 + 21 × 12 = 253 bytes of body) and entries per range list
    /// TLV (16 + 16 × 14 = 240).
    public static let bucketsPerSummary = 21
    public static let entriesPerRangeList = 16

    public enum Kind: UInt8 {
        case update = 0x01, refresh = 0x02, retraction = 0x03, routeRequest = 0x04, seqnoRequest = 0x05
        case summary = 0x06, rangeList = 0x07, prefixRetraction = 0x08
        case stubHello = 0x09, originQuery = 0x0A, originAnswer = 0x0B, originUnknown = 0x0C
    }

    /// Encoded size including the type and length bytes.
    public var encodedSize: Int {
        switch self {
        case .update: return RoutingTLV.updateSize
        case .refresh: return 2 + 32 + 4 + 2
        case .retraction: return 2 + 32
        case .routeRequest(let o): return 2 + (o == nil ? 0 : 32)
        case .seqnoRequest: return 2 + 32 + 4 + 1
        case .summary(_, let b): return 2 + 1 + 12 * b.count
        case .rangeList(_, _, let e): return 2 + 16 + 14 * e.count
        case .prefixRetraction: return 2 + 8
        case .stubHello: return 2
        case .originQuery, .originUnknown: return 2 + 16
        case .originAnswer: return 2 + RoutingTLV.originAnswerLength
        }
    }

    /// Origin 32, seqno 4, flags 1, signature 64.
    static let originAnswerLength = 32 + 4 + 1 + OriginSignature.byteCount

    static let updateSize = 2 + 32 + 4 + 1 + 2 + 64

    /// An update up to its signature; the caller appends the 64 signature bytes.
    static func encodeUpdateHeader(into w: inout ByteWriter, origin: PublicKey, seqno: UInt32, flags: UInt8, metric: UInt16) {
        w.u8(Kind.update.rawValue); w.u8(103)
        w.publicKeyWords(origin); w.u32(seqno); w.u8(flags); w.u16(metric)
    }

    public func encode(into w: inout ByteWriter) {
        switch self {
        case let .update(origin, seqno, flags, metric, signature):
            RoutingTLV.encodeUpdateHeader(into: &w, origin: origin, seqno: seqno, flags: flags, metric: metric)
            w.append(signature)
        case let .refresh(origin, seqno, metric):
            w.u8(Kind.refresh.rawValue); w.u8(38)
            w.publicKeyWords(origin); w.u32(seqno); w.u16(metric)
        case let .retraction(origin):
            w.u8(Kind.retraction.rawValue); w.u8(32)
            w.publicKeyWords(origin)
        case let .routeRequest(origin):
            w.u8(Kind.routeRequest.rawValue)
            if let origin { w.u8(32); w.publicKeyWords(origin) } else { w.u8(0) }
        case let .seqnoRequest(origin, seqno, hops):
            w.u8(Kind.seqnoRequest.rawValue); w.u8(37)
            w.publicKeyWords(origin); w.u32(seqno); w.u8(hops)
        case let .summary(first, buckets):
            w.u8(Kind.summary.rawValue); w.u8(UInt8(1 + 12 * buckets.count))
            w.u8(first)
            for b in buckets { w.u32(b.count); w.u64(b.digest) }
        case let .rangeList(low, high, entries):
            w.u8(Kind.rangeList.rawValue); w.u8(UInt8(16 + 14 * entries.count))
            w.u64(low); w.u64(high)
            for e in entries { w.u64(e.prefix); w.u32(e.seqno); w.u16(e.metric) }
        case let .prefixRetraction(prefix):
            w.u8(Kind.prefixRetraction.rawValue); w.u8(8)
            w.u64(prefix)
        case .stubHello:
            w.u8(Kind.stubHello.rawValue); w.u8(0)
        case let .originQuery(address):
            w.u8(Kind.originQuery.rawValue); w.u8(16); w.ipv6(address)
        case let .originAnswer(origin, seqno, flags, signature):
            w.u8(Kind.originAnswer.rawValue); w.u8(UInt8(RoutingTLV.originAnswerLength))
            w.publicKeyWords(origin); w.u32(seqno); w.u8(flags); w.append(signature)
        case let .originUnknown(address):
            w.u8(Kind.originUnknown.rawValue); w.u8(16); w.ipv6(address)
        }
    }
}

/// A routing message: a version byte then TLVs (type u8, length u8, body).
public enum RoutingMessage {
    public static let version: UInt8 = 1

    public enum DecodeError: Error, Equatable {
        case empty, badVersion, truncated, badLength, badSignatureLength
    }

    /// Decodes a whole message; any malformed TLV rejects the message so a half-parsed
    /// message never changes state. TLVs of unknown type are skipped (newer peers may add some)
    /// and counted in `unknown`.
    public static func decode(_ bytes: [UInt8], unknown: inout Int) -> Result<[RoutingTLV], DecodeError> {
        if let e = validate(bytes, unknown: &unknown) { return .failure(e) }
        var out: [RoutingTLV] = []
        out.reserveCapacity(bytes.count / 38 + 1)
        forEach(bytes) { out.append($0.tlv(in: bytes)) }
        return .success(out)
    }

    /// Checks a whole message without building anything; nil when it is well formed.
    static func validate(_ bytes: [UInt8], unknown: inout Int) -> DecodeError? {
        var r = ByteReader(bytes)
        guard let v = r.u8() else { return .empty }
        guard v == version else { return .badVersion }
        while !r.isAtEnd {
            switch next(&r) {
            case .failure(let e): return e
            case .success(nil): unknown += 1
            case .success: break
            }
        }
        return nil
    }

    /// Visits the known TLVs of a message `validate` accepted, in order, reading them in place.
    static func forEach(_ bytes: [UInt8], _ body: (RoutingTLVView) -> Void) {
        var r = ByteReader(bytes, offset: 1)
        while !r.isAtEnd {
            guard case .success(let view) = next(&r) else { return }
            if let view { body(view) }
        }
    }

    /// Reads one TLV; nil for an unknown type (skipped).
    private static func next(_ r: inout ByteReader) -> Result<RoutingTLVView?, DecodeError> {
        guard let type = r.u8(), let length = r.u8() else { return .failure(.truncated) }
        let start = r.offset
        guard r.take(Int(length)) != nil else { return .failure(.truncated) }
        var body = ByteReader(r.bytes, offset: start, end: start + Int(length))
        guard let kind = RoutingTLV.Kind(rawValue: type) else { return .success(nil) }
        var v = RoutingTLVView(kind: kind)
        switch kind {
        case .update:
            guard length == 103, let o = body.publicKeyWords(), let s = body.u32(), let f = body.u8(), let m = body.u16()
            else { return .failure(.badLength) }
            (v.origin, v.seqno, v.flags, v.metric, v.signatureOffset) = (o, s, f, m, body.offset)
        case .refresh:
            guard length == 38, let o = body.publicKeyWords(), let s = body.u32(), let m = body.u16() else { return .failure(.badLength) }
            (v.origin, v.seqno, v.metric) = (o, s, m)
        case .retraction:
            guard length == 32, let o = body.publicKeyWords() else { return .failure(.badLength) }
            v.origin = o
        case .routeRequest:
            if length == 0 { return .success(v) }
            guard length == 32, let o = body.publicKeyWords() else { return .failure(.badLength) }
            v.origin = o
        case .seqnoRequest:
            guard length == 37, let o = body.publicKeyWords(), let s = body.u32(), let h = body.u8() else { return .failure(.badLength) }
            (v.origin, v.seqno, v.hopCount) = (o, s, h)
        case .summary:
            let n = (Int(length) - 1) / 12
            guard length >= 1, (Int(length) - 1) % 12 == 0, n <= RoutingTLV.bucketsPerSummary, let first = body.u8(),
                  Int(first) + n <= ReconciliationDigest.bucketCount else { return .failure(.badLength) }
            (v.first, v.count, v.bodyOffset) = (first, n, body.offset)
        case .rangeList:
            let n = (Int(length) - 16) / 14
            guard length >= 16, (Int(length) - 16) % 14 == 0, n <= RoutingTLV.entriesPerRangeList,
                  let low = body.u64(), let high = body.u64(), low <= high,
                  ReconciliationDigest.bucket(ofPrefix: low) == ReconciliationDigest.bucket(ofPrefix: high) else { return .failure(.badLength) }
            (v.low, v.high, v.count, v.bodyOffset) = (low, high, n, body.offset)
            // Every entry inside the range, so an answer never touches another bucket.
            for _ in 0..<n {
                guard let p = body.u64(), body.take(6) != nil, p >= low, p <= high else { return .failure(.badLength) }
            }
        case .prefixRetraction:
            guard length == 8, let p = body.u64() else { return .failure(.badLength) }
            v.low = p
        case .stubHello:
            guard length == 0 else { return .failure(.badLength) }
        case .originQuery, .originUnknown:
            guard length == 16, let a = body.ipv6() else { return .failure(.badLength) }
            v.address = a
        case .originAnswer:
            guard Int(length) == RoutingTLV.originAnswerLength, let o = body.publicKeyWords(), let s = body.u32(), let f = body.u8()
            else { return .failure(.badLength) }
            (v.origin, v.seqno, v.flags, v.signatureOffset) = (o, s, f, body.offset)
        }
        return .success(v)
    }
}

/// One TLV of a received message read in place: the key is built from words and the
/// signature stays in the message (an offset), so reading allocates nothing per TLV.
struct RoutingTLVView {
    let kind: RoutingTLV.Kind
    var origin: PublicKey?
    var seqno: UInt32 = 0
    var flags: UInt8 = 0
    var metric: UInt16 = 0
    var hopCount: UInt8 = 0
    /// Where an update's 64 signature bytes start in the message.
    var signatureOffset = 0
    /// Summary: first bucket and bucket count; range list: its range and entry count (a
    /// prefix retraction's prefix is `low`); where the repeated part starts in the message.
    var first: UInt8 = 0
    var count = 0
    var low: UInt64 = 0
    var high: UInt64 = 0
    var bodyOffset = 0
    /// An origin query's or unknown answer's address.
    var address = IPv6Address(high: 0, low: 0)

    init(kind: RoutingTLV.Kind) { self.kind = kind }

    func signature(in bytes: [UInt8]) -> ArraySlice<UInt8> { bytes[signatureOffset..<(signatureOffset + OriginSignature.byteCount)] }

    func tlv(in bytes: [UInt8]) -> RoutingTLV {
        switch kind {
        case .update: return .update(origin: origin!, seqno: seqno, flags: flags, metric: metric, signature: Array(signature(in: bytes)))
        case .refresh: return .refresh(origin: origin!, seqno: seqno, metric: metric)
        case .retraction: return .retraction(origin: origin!)
        case .routeRequest: return .routeRequest(origin: origin)
        case .seqnoRequest: return .seqnoRequest(origin: origin!, seqno: seqno, hopCount: hopCount)
        case .summary: return .summary(first: first, buckets: summaryBuckets(in: bytes))
        case .rangeList: return .rangeList(low: low, high: high, entries: rangeEntries(in: bytes))
        case .prefixRetraction: return .prefixRetraction(prefix: low)
        case .stubHello: return .stubHello
        case .originQuery: return .originQuery(address: address)
        case .originAnswer: return .originAnswer(origin: origin!, seqno: seqno, flags: flags, signature: Array(signature(in: bytes)))
        case .originUnknown: return .originUnknown(address: address)
        }
    }

    func summaryBuckets(in bytes: [UInt8]) -> [RoutingTLV.SummaryBucket] {
        var r = ByteReader(bytes, offset: bodyOffset)
        return (0..<count).map { _ in RoutingTLV.SummaryBucket(count: r.u32()!, digest: r.u64()!) }
    }

    func rangeEntries(in bytes: [UInt8]) -> [RoutingTLV.RangeEntry] {
        var r = ByteReader(bytes, offset: bodyOffset)
        return (0..<count).map { _ in RoutingTLV.RangeEntry(prefix: r.u64()!, seqno: r.u32()!, metric: r.u16()!) }
    }
}

/// Packs TLVs into messages no larger than a limit. A message that ends up much smaller
/// than the limit is copied to its exact size, so queued messages do not each hold a
/// limit-sized buffer.
struct MessagePacker {
    let limit: Int
    private(set) var messages: [[UInt8]] = []
    /// Bytes in the closed messages.
    private var closedBytes = 0
    /// Bytes packed so far, the message being filled included.
    var byteCount: Int { closedBytes + current.bytes.count }
    /// The message being filled; write a TLV into it after `make(room:)`.
    var current = ByteWriter(capacity: 0)

    init(limit: Int) { self.limit = max(limit, 128) }

    /// Makes sure `size` more bytes fit in `current`, starting a new message if not.
    mutating func make(room size: Int) {
        if current.bytes.isEmpty {
            current = ByteWriter(capacity: limit)
            current.u8(RoutingMessage.version)
        } else if current.bytes.count + size > limit {
            close()
            current = ByteWriter(capacity: limit)
            current.u8(RoutingMessage.version)
        }
    }

    mutating func add(_ tlv: RoutingTLV) {
        make(room: tlv.encodedSize)
        tlv.encode(into: &current)
    }

    private mutating func close() {
        let b = current.bytes
        closedBytes += b.count
        guard b.count * 4 < limit * 3 else { messages.append(b); return }
        messages.append([UInt8](unsafeUninitializedCapacity: b.count) { out, n in
            _ = out.initialize(from: b)
            n = b.count
        })
    }

    mutating func finish() -> [[UInt8]] {
        if current.bytes.count > 1 { close() }
        current = ByteWriter(capacity: 0)
        closedBytes = 0
        defer { messages = [] }
        return messages
    }
}
