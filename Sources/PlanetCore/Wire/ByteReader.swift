/// Bounds-checked big-endian reads over received bytes. Every read that would pass the
/// end returns nil, so a truncated or malformed message becomes a counted drop, never a trap.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    public let end: Int

    public init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = min(end ?? bytes.count, bytes.count)
    }

    public var remaining: Int { max(0, end - offset) }
    public var isAtEnd: Bool { offset >= end }

    public mutating func u8() -> UInt8? {
        guard offset + 1 <= end else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func u16() -> UInt16? {
        guard offset + 2 <= end else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public mutating func u32() -> UInt32? {
        guard offset + 4 <= end else { return nil }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[offset + i]) }
        offset += 4
        return v
    }

    public mutating func u64() -> UInt64? {
        guard offset + 8 <= end else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }

    public mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, offset + count <= end else { return nil }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func array(_ count: Int) -> [UInt8]? { take(count).map(Array.init) }

    public mutating func publicKey() -> PublicKey? {
        guard offset + 32 <= end else { return nil }
        defer { offset += 32 }
        return PublicKey(bytes, at: offset)
    }

    public mutating func ipv6() -> IPv6Address? { take(16).flatMap { IPv6Address($0) } }

    public mutating func rest() -> ArraySlice<UInt8> {
        defer { offset = end }
        return bytes[min(offset, end)..<end]
    }
}

/// Big-endian appends; the counterpart of `ByteReader`.
public struct ByteWriter {
    public var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v)) }
    public mutating func u32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    public mutating func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    public mutating func append(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
    public mutating func publicKey(_ k: PublicKey) { k.append(to: &bytes) }
    public mutating func ipv6(_ a: IPv6Address) { a.append(to: &bytes) }
}
