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

    public enum Kind: UInt8 {
        case update = 0x01, refresh = 0x02, retraction = 0x03, routeRequest = 0x04, seqnoRequest = 0x05
    }

    /// Encoded size including the type and length bytes.
    public var encodedSize: Int {
        switch self {
        case .update: return 2 + 32 + 4 + 1 + 2 + 64
        case .refresh: return 2 + 32 + 4 + 2
        case .retraction: return 2 + 32
        case .routeRequest(let o): return 2 + (o == nil ? 0 : 32)
        case .seqnoRequest: return 2 + 32 + 4 + 1
        }
    }

    public func encode(into w: inout ByteWriter) {
        switch self {
        case let .update(origin, seqno, flags, metric, signature):
            w.u8(Kind.update.rawValue); w.u8(103)
            w.publicKeyWords(origin); w.u32(seqno); w.u8(flags); w.u16(metric); w.append(signature)
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
        var r = ByteReader(bytes)
        guard let v = r.u8() else { return .failure(.empty) }
        guard v == version else { return .failure(.badVersion) }
        var out: [RoutingTLV] = []
        out.reserveCapacity(bytes.count / 38 + 1)
        while !r.isAtEnd {
            guard let type = r.u8(), let length = r.u8() else { return .failure(.truncated) }
            let start = r.offset
            guard r.take(Int(length)) != nil else { return .failure(.truncated) }
            var body = ByteReader(bytes, offset: start, end: start + Int(length))
            guard let kind = RoutingTLV.Kind(rawValue: type) else { unknown += 1; continue }
            switch kind {
            case .update:
                guard length == 103, let o = body.publicKeyWords(), let s = body.u32(), let f = body.u8(), let m = body.u16(),
                      let sig = body.array(64) else { return .failure(.badLength) }
                out.append(.update(origin: o, seqno: s, flags: f, metric: m, signature: sig))
            case .refresh:
                guard length == 38, let o = body.publicKeyWords(), let s = body.u32(), let m = body.u16() else { return .failure(.badLength) }
                out.append(.refresh(origin: o, seqno: s, metric: m))
            case .retraction:
                guard length == 32, let o = body.publicKeyWords() else { return .failure(.badLength) }
                out.append(.retraction(origin: o))
            case .routeRequest:
                if length == 0 { out.append(.routeRequest(origin: nil)); continue }
                guard length == 32, let o = body.publicKeyWords() else { return .failure(.badLength) }
                out.append(.routeRequest(origin: o))
            case .seqnoRequest:
                guard length == 37, let o = body.publicKeyWords(), let s = body.u32(), let h = body.u8() else { return .failure(.badLength) }
                out.append(.seqnoRequest(origin: o, seqno: s, hopCount: h))
            }
        }
        return .success(out)
    }
}

/// Packs TLVs into messages no larger than a limit.
struct MessagePacker {
    let limit: Int
    private(set) var messages: [[UInt8]] = []
    private var current = ByteWriter(capacity: 0)

    init(limit: Int) { self.limit = max(limit, 128) }

    mutating func add(_ tlv: RoutingTLV) {
        if current.bytes.isEmpty {
            current = ByteWriter(capacity: limit)
            current.u8(RoutingMessage.version)
        } else if current.bytes.count + tlv.encodedSize > limit {
            messages.append(current.bytes)
            current = ByteWriter(capacity: limit)
            current.u8(RoutingMessage.version)
        }
        tlv.encode(into: &current)
    }

    mutating func finish() -> [[UInt8]] {
        if current.bytes.count > 1 { messages.append(current.bytes) }
        current = ByteWriter(capacity: 0)
        defer { messages = [] }
        return messages
    }
}
