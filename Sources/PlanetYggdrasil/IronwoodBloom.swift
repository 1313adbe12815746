/// Ironwood's bloom filter (Bloom frames, type 5): which keys can be reached through the sender
/// along tree links. Path lookups travel only down links whose filter holds the key sought, so
/// a filter that differs by one bit from what yggdrasil computes loses lookups silently; every
/// detail below is therefore bits-and-blooms/bloom v3.7.0's, as ironwood uses it.
///
/// - 8192 bits in 128 u64 words, 8 hash functions. Bit `i` is bit `i % 64` (least significant
///   first) of word `i / 64`.
/// - The 8 locations of an item: (h1, h2) = MurmurHash3-x64-128(item), (h3, h4) =
///   MurmurHash3-x64-128(item ‖ 0x01); location j = (h[j % 2] + j · h[2 + ((j + j % 2) % 4) / 2])
///   mod 8192, in wrapping u64 arithmetic.
/// - Wire: 16 bytes of flags for all-zero words, 16 bytes of flags for all-one words (bit
///   `0x80 >> (w % 8)` of byte `w / 8` for word `w`), then every other word, in order, as a
///   big-endian u64. A word flagged both ways, a missing word, or bytes left over are refused.
///   An empty filter is 32 bytes; one key (at most 8 words touched) at most 96.
public struct IronwoodBloom: Equatable, Sendable {
    public static let bits = 8192
    public static let words = bits / 64
    public static let hashes = 8
    static let flagBytes = words / 8

    public private(set) var words: [UInt64]

    public init() { words = [UInt64](repeating: 0, count: Self.words) }

    init(words: [UInt64]) {
        precondition(words.count == Self.words)
        self.words = words
    }

    static func locations(_ item: [UInt8]) -> [Int] {
        let (h1, h2) = MurmurHash3.x64_128(item)
        let (h3, h4) = MurmurHash3.x64_128(item + [1])
        let h = [h1, h2, h3, h4]
        var out = [Int]()
        out.reserveCapacity(hashes)
        for j in 0..<hashes {
            let second: UInt64 = h[2 + ((j + j % 2) % 4) / 2]
            let location: UInt64 = h[j % 2] &+ UInt64(j) &* second
            out.append(Int(location % UInt64(bits)))
        }
        return out
    }

    public mutating func insert(_ item: [UInt8]) {
        for bit in Self.locations(item) { words[bit / 64] |= 1 << UInt64(bit % 64) }
    }

    /// False means definitely absent; true means present or a false positive.
    public func contains(_ item: [UInt8]) -> Bool {
        Self.locations(item).allSatisfy { words[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }
    }

    /// The union: what a node sends up the tree is its own key merged with its children's filters.
    public mutating func merge(_ other: IronwoodBloom) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    public var encoded: [UInt8] {
        var zeros = [UInt8](repeating: 0, count: Self.flagBytes)
        var ones = [UInt8](repeating: 0, count: Self.flagBytes)
        var kept: [UInt8] = []
        for (w, word) in words.enumerated() {
            if word == 0 { zeros[w / 8] |= 0x80 >> UInt8(w % 8); continue }
            if word == .max { ones[w / 8] |= 0x80 >> UInt8(w % 8); continue }
            for s in stride(from: 56, through: 0, by: -8) { kept.append(UInt8(truncatingIfNeeded: word >> UInt64(s))) }
        }
        return zeros + ones + kept
    }

    public init(body: [UInt8]) throws(IronwoodMessageError) {
        guard body.count >= 2 * Self.flagBytes else { throw .malformed }
        var words = [UInt64]()
        words.reserveCapacity(Self.words)
        var offset = 2 * Self.flagBytes
        for w in 0..<Self.words {
            let mask: UInt8 = 0x80 >> UInt8(w % 8)
            let zero = body[w / 8] & mask != 0
            let one = body[Self.flagBytes + w / 8] & mask != 0
            switch (zero, one) {
            case (true, true): throw .malformed
            case (true, false): words.append(0)
            case (false, true): words.append(.max)
            case (false, false):
                guard offset + 8 <= body.count else { throw .malformed }
                var v: UInt64 = 0
                for i in 0..<8 { v = v << 8 | UInt64(body[offset + i]) }
                offset += 8
                words.append(v)
            }
        }
        guard offset == body.count else { throw .malformed }
        self.init(words: words)
    }
}
