#if canImport(Glibc)
import Glibc
#endif

/// An IPv6 address as two big-endian words, so it is cheap to hash, compare and mask
/// on the forwarding path.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        self.init(high: h, low: l)
    }

    /// Reads 16 bytes at `offset` of a raw buffer (a packet header).
    public init(_ raw: UnsafeRawBufferPointer, at offset: Int) {
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(raw[offset + i]) }
        for i in 8..<16 { l = l << 8 | UInt64(raw[offset + i]) }
        self.init(high: h, low: l)
    }

    public init?(_ text: String) {
        var storage = in6_addr()
        guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &storage) { Array($0) }
        self.init(bytes)
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        append(to: &out)
        return out
    }

    public func append(to buffer: inout [UInt8]) {
        for s in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: high >> UInt64(s))) }
        for s in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: low >> UInt64(s))) }
    }

    public func write(to raw: UnsafeMutableRawBufferPointer, at offset: Int) {
        for i in 0..<8 { raw[offset + i] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i)) }
        for i in 0..<8 { raw[offset + 8 + i] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i)) }
    }

    public func byte(_ i: Int) -> UInt8 {
        i < 8 ? UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i)) : UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * (i - 8)))
    }

    public var groups: [UInt16] {
        (0..<8).map { g in
            let word = g < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> UInt64(48 - 16 * (g % 4)))
        }
    }

    /// RFC 5952 text: lower case, leading zeros dropped, the longest run (two or more) of
    /// zero groups replaced by "::", the first such run on a tie. Matches what Go prints.
    public var description: String {
        let g = groups
        var bestStart = -1, bestLen = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && g[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                let len = i - runStart
                if len > bestLen && len >= 2 { bestStart = runStart; bestLen = len }
                runStart = -1
            }
        }
        var parts = [String]()
        var i = 0
        var out = ""
        while i < 8 {
            if i == bestStart {
                out += parts.joined(separator: ":") + "::"
                parts = []
                i += bestLen
                continue
            }
            parts.append(String(g[i], radix: 16))
            i += 1
        }
        out += parts.joined(separator: ":")
        return out
    }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }

    public static let zero = IPv6Address(high: 0, low: 0)
}

/// An IPv6 prefix; the address is stored masked.
public struct IPv6Prefix: Hashable, Sendable, CustomStringConvertible {
    public let address: IPv6Address
    public let length: Int

    public init(address: IPv6Address, length: Int) {
        precondition((0...128).contains(length))
        self.length = length
        self.address = IPv6Prefix.mask(address, length)
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = IPv6Address(String(parts[0])), let n = Int(parts[1]), (0...128).contains(n) else { return nil }
        self.init(address: a, length: n)
    }

    public func contains(_ a: IPv6Address) -> Bool { IPv6Prefix.mask(a, length) == address }

    public var description: String { "\(address)/\(length)" }

    static func mask(_ a: IPv6Address, _ length: Int) -> IPv6Address {
        func m(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? ~0 : ~(~UInt64(0) >> UInt64(bits)) }
        return IPv6Address(high: a.high & m(length), low: a.low & m(length - 64))
    }
}
