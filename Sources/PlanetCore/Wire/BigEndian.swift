/// Big-endian integers read from and written to bytes, in one place for every decoder: over
/// borrowed memory (a receive slot, where the data path reads headers without a copy) and over
/// arrays and slices (offsets count from the collection's start). Callers check lengths first;
/// `ByteReader` is the bounds-checked reader for whole messages.
public enum BigEndian {
    @inline(__always)
    public static func u32(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    public static func u64(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    public static func u32<C: Collection<UInt8>>(_ bytes: C, at offset: Int) -> UInt32 {
        var v: UInt32 = 0
        var i = bytes.index(bytes.startIndex, offsetBy: offset)
        for _ in 0..<4 { v = v << 8 | UInt32(bytes[i]); bytes.formIndex(after: &i) }
        return v
    }

    public static func u64<C: Collection<UInt8>>(_ bytes: C, at offset: Int) -> UInt64 {
        var v: UInt64 = 0
        var i = bytes.index(bytes.startIndex, offsetBy: offset)
        for _ in 0..<8 { v = v << 8 | UInt64(bytes[i]); bytes.formIndex(after: &i) }
        return v
    }

    @inline(__always)
    public static func append(_ v: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: v >> 24)); out.append(UInt8(truncatingIfNeeded: v >> 16))
        out.append(UInt8(truncatingIfNeeded: v >> 8)); out.append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always)
    public static func append(_ v: UInt64, to out: inout [UInt8]) {
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
    }
}
