/// MurmurHash3, the x64 128-bit variant (Austin Appleby's public-domain algorithm), which
/// ironwood's bloom filters use through bits-and-blooms/bloom v3.7.0. Written here from the
/// algorithm's description; checked by reproducing a real yggdrasil node's filter bit for bit.
public enum MurmurHash3 {
    private static let c1: UInt64 = 0x87c3_7b91_1142_53d5
    private static let c2: UInt64 = 0x4cf5_ad43_2745_937f

    @inline(__always) private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { x << r | x >> (64 - r) }

    @inline(__always) private static func fmix(_ k: UInt64) -> UInt64 {
        var k = k
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }

    @inline(__always) private static func mixK1(_ k: UInt64) -> UInt64 { rotl(k &* c1, 31) &* c2 }
    @inline(__always) private static func mixK2(_ k: UInt64) -> UInt64 { rotl(k &* c2, 33) &* c1 }

    /// The two 64-bit halves (h1, h2) of the hash of `data`.
    public static func x64_128(_ data: [UInt8], seed: UInt64 = 0) -> (UInt64, UInt64) {
        var h1 = seed, h2 = seed
        let blocks = data.count / 16
        func le64(_ at: Int, _ count: Int = 8) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<count { v |= UInt64(data[at + i]) << UInt64(8 * i) }
            return v
        }
        for b in 0..<blocks {
            h1 ^= mixK1(le64(b * 16))
            h1 = rotl(h1, 27) &+ h2
            h1 = h1 &* 5 &+ 0x52dc_e729
            h2 ^= mixK2(le64(b * 16 + 8))
            h2 = rotl(h2, 31) &+ h1
            h2 = h2 &* 5 &+ 0x3849_5ab5
        }
        let tail = blocks * 16, rest = data.count - tail
        if rest > 8 { h2 ^= mixK2(le64(tail + 8, rest - 8)) }
        if rest > 0 { h1 ^= mixK1(le64(tail, min(rest, 8))) }
        h1 ^= UInt64(data.count)
        h2 ^= UInt64(data.count)
        h1 &+= h2
        h2 &+= h1
        h1 = fmix(h1)
        h2 = fmix(h2)
        h1 &+= h2
        h2 &+= h1
        return (h1, h2)
    }
}
