import PlanetCore

/// PathBroken (frame type 8): sent back toward a traffic's source when greedy routing reaches a
/// dead end, so the source looks the destination up again.
///
/// ```
/// path:path · watermark:uvarint · source[32] · dest[32]        (nothing may follow)
/// ```
/// The node that cannot forward copies the failed traffic's `from` into `path` (so this goes
/// back to the traffic's source) and its `source` and `dest` unchanged: `source` is the node
/// this is delivered to (it acts only if that is itself), `dest` the destination it could not
/// reach, which it then looks up again. `watermark` starts at 2^64−1 and is lowered hop by hop
/// as in Traffic. Unsigned: the worst a forger gets is a needless lookup (ironwood throttles
/// them).
public struct IronwoodPathBroken: Equatable, Sendable {
    public var path: [UInt64]
    public var watermark: UInt64
    public var source: PublicKey
    public var dest: PublicKey

    public init(path: [UInt64], watermark: UInt64, source: PublicKey, dest: PublicKey) {
        self.path = path
        self.watermark = watermark
        self.source = source
        self.dest = dest
    }

    public var encoded: [UInt8] {
        var out = [UInt8]()
        IronwoodPath.append(path, to: &out)
        Uvarint.append(watermark, to: &out)
        source.append(to: &out)
        dest.append(to: &out)
        return out
    }

    public init(body: [UInt8]) throws(IronwoodMessageError) {
        var offset = 0
        guard let path = IronwoodPath.read(body, at: &offset),
              let watermark = Uvarint.read(body, at: &offset),
              let source = IronwoodPath.readKey(body, at: &offset),
              let dest = IronwoodPath.readKey(body, at: &offset),
              offset == body.count else { throw .malformed }
        self.init(path: path, watermark: watermark, source: source, dest: dest)
    }
}
