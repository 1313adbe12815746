import PlanetCore

/// A tree path: the ports from the root down to a node (its coordinates), or the ports a
/// packet still has to take. Ports are never 0 (ironwood numbers them from 1), so 0 ends it.
///
/// ```
/// port:uvarint* · 0
/// ```
public enum IronwoodPath {
    public static func append(_ path: [UInt64], to out: inout [UInt8]) {
        for port in path { Uvarint.append(port, to: &out) }
        out.append(0)
    }

    /// Reads a path at `offset`, through its terminating 0; nil when the bytes end first or a
    /// number overflows (ironwood's `wireChopPath` failing). A path cannot be longer than the
    /// bytes it came in, so it needs no limit of its own.
    static func read(_ bytes: [UInt8], at offset: inout Int) -> [UInt64]? {
        var path: [UInt64] = []
        var at = offset
        while true {
            guard let port = Uvarint.read(bytes, at: &at) else { return nil }
            if port == 0 { break }
            path.append(port)
        }
        offset = at
        return path
    }

    /// Reads a 32-byte key at `offset` (the path messages' source and destination).
    static func readKey(_ bytes: [UInt8], at offset: inout Int) -> PublicKey? {
        guard offset + PublicKey.byteCount <= bytes.count else { return nil }
        defer { offset += PublicKey.byteCount }
        // The offset form reads four words; the generic one over a slice costs type-metadata
        // lookups per byte, and this runs twice for every Traffic frame.
        return PublicKey(bytes, at: offset)
    }
}
