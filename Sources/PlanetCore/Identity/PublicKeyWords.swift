/// Building and writing a key word by word, without the temporary arrays the byte-wise
/// paths use: routing handles millions of keys per second in the simulator.
extension PublicKey {
    public init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }
}

extension ByteReader {
    public mutating func publicKeyWords() -> PublicKey? {
        guard remaining >= 32, let a = u64(), let b = u64(), let c = u64(), let d = u64() else { return nil }
        return PublicKey(words: a, b, c, d)
    }
}

extension ByteWriter {
    public mutating func publicKeyWords(_ k: PublicKey) {
        u64(k.w0); u64(k.w1); u64(k.w2); u64(k.w3)
    }
}
