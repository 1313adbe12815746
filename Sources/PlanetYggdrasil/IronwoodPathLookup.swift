import PlanetCore

/// PathLookup (frame type 6): "where is this key?", multicast down the tree links whose bloom
/// filter holds the key sought.
///
/// ```
/// source[32] · dest[32] · from:path            (nothing may follow)
/// ```
/// `dest` is often not a whole key: a node that wants to reach an address knows only the bits
/// it carries, and looks up the partial key (`YggdrasilBloomKey.partialKey`, unknown bits 1);
/// the owner recognises itself when its bloom entry equals that of `dest`. `from` is the
/// source's coordinates, so the answer can be routed back. Unsigned: a lookup costs its sender
/// nothing it could forge, and the answer is signed.
public struct IronwoodPathLookup: Equatable, Sendable {
    public var source: PublicKey
    public var dest: PublicKey
    public var from: [UInt64]

    public init(source: PublicKey, dest: PublicKey, from: [UInt64]) {
        self.source = source
        self.dest = dest
        self.from = from
    }

    public var encoded: [UInt8] {
        var out = [UInt8]()
        source.append(to: &out)
        dest.append(to: &out)
        IronwoodPath.append(from, to: &out)
        return out
    }

    public init(body: [UInt8]) throws(IronwoodMessageError) {
        var offset = 0
        guard let source = IronwoodPath.readKey(body, at: &offset),
              let dest = IronwoodPath.readKey(body, at: &offset),
              let from = IronwoodPath.read(body, at: &offset), offset == body.count else { throw .malformed }
        self.init(source: source, dest: dest, from: from)
    }
}
