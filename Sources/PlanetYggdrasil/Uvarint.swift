/// Go's unsigned varint (encoding/binary Uvarint, LEB128): seven bits per byte, least
/// significant group first, the high bit set on every byte but the last. Ironwood uses it for
/// frame lengths, sequence numbers, nonces, ports and paths.
public enum Uvarint {
    /// A u64 never needs more than ten bytes; Go's decoder gives up after ten.
    public static let maxBytes = 10

    public static func append(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    public static func size(_ value: UInt64) -> Int {
        var v = value, n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }

    public enum Parse: Equatable {
        /// The bytes end inside the number.
        case incomplete
        /// More than ten bytes, or a tenth byte that overflows 64 bits: garbage, never a number.
        case overflow
        case value(UInt64, length: Int)
    }

    /// Decodes as Go does, including its leniency: a non-minimal encoding (0x80 0x00 for 0) is
    /// accepted, because ironwood accepts it and a stricter reader would close links it keeps.
    public static func decode(_ bytes: some Collection<UInt8>) -> Parse {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var count = 0
        for byte in bytes {
            if count == maxBytes { return .overflow }
            count += 1
            if byte < 0x80 {
                if count == maxBytes && byte > 1 { return .overflow }
                return .value(value | UInt64(byte) << shift, length: count)
            }
            value |= UInt64(byte & 0x7f) << shift
            shift += 7
        }
        return count == maxBytes ? .overflow : .incomplete
    }
}

extension Uvarint {
    /// Reads one uvarint at `offset` and moves past it; nil when the bytes end inside it or it
    /// overflows (ironwood's `wireChopUint` failing: the message does not decode).
    static func read(_ bytes: [UInt8], at offset: inout Int) -> UInt64? {
        guard offset <= bytes.count,
              case .value(let v, let n) = decode(bytes[offset...].prefix(maxBytes)) else { return nil }
        offset += n
        return v
    }
}
