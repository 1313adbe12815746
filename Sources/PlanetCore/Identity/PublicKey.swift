/// An ed25519 public key: a node's identity. Stored as four words so it hashes and
/// compares cheaply as a dictionary key in routing and session tables.
public struct PublicKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public static let byteCount = 32

    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        // Arrays and slices: read as words in place (the generic walk below costs type-metadata
        // lookups when this is called from another module, unspecialised).
        if let key = bytes.withContiguousStorageIfAvailable({ b -> (UInt64, UInt64, UInt64, UInt64) in
            let raw = UnsafeRawBufferPointer(b)
            return (BigEndian.u64(raw, at: 0), BigEndian.u64(raw, at: 8), BigEndian.u64(raw, at: 16), BigEndian.u64(raw, at: 24))
        }) {
            (w0, w1, w2, w3) = key
            return
        }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, b) in bytes.enumerated() { words[i / 8] = words[i / 8] << 8 | UInt64(b) }
        (w0, w1, w2, w3) = (words[0], words[1], words[2], words[3])
    }

    /// The 32 bytes at `offset` of `bytes`: the same key as `init?(bytes[offset..<offset + 32])`
    /// without the generic walk over a collection, which costs tens of type-metadata lookups
    /// (a hot path: every capacity record's header, at every hop of its flood).
    public init?(_ bytes: [UInt8], at offset: Int) {
        guard offset >= 0, bytes.count - offset >= 32 else { return nil }
        (w0, w1, w2, w3) = bytes.withUnsafeBytes {
            (BigEndian.u64($0, at: offset), BigEndian.u64($0, at: offset + 8), BigEndian.u64($0, at: offset + 16), BigEndian.u64($0, at: offset + 24))
        }
    }

    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes)
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return out
    }

    public func append(to buffer: inout [UInt8]) {
        // Four big-endian words in one append (no array of words per call: every Traffic
        // frame appends two keys).
        withUnsafeBytes(of: (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)) { buffer.append(contentsOf: $0) }
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
    /// A short form for logs and tables.
    public var short: String { String(hex.prefix(16)) }

    public static func < (a: PublicKey, b: PublicKey) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    public func verify(signature: some Collection<UInt8>, message: [UInt8]) -> Bool {
        Sodium.verify(signature: signature, message: message, publicKey: bytes)
    }

    public var address: IPv6Address { OverlayAddress.address(for: self) }
    public var subnet: IPv6Prefix { OverlayAddress.subnet(for: self) }
}
