import PlanetCore

/// PathNotify (frame type 7): the answer to a lookup, routed back along the lookup's `from`,
/// carrying the owner's coordinates signed by the owner.
///
/// ```
/// path:path · watermark:uvarint · source[32] · dest[32] · seq:uvarint · coords:path · sig[64]
/// sig = ed25519 by source over  seq:uvarint · coords:path
/// ```
/// `path` is where the notify is going (the lookup's `from`); `watermark` is the greedy
/// routing's progress mark, rewritten at every hop (as in Traffic); `source` is the node that
/// answers (the whole key: the asker learns it here), `dest` the asker. Only `seq · coords` is
/// signed, so the same signature is reused for every asker until the coordinates change;
/// `seq` is the Unix time in seconds when they were signed, so newer coordinates win.
public struct IronwoodPathNotify: Equatable, Sendable {
    public var path: [UInt64]
    public var watermark: UInt64
    public var source: PublicKey
    public var dest: PublicKey
    public var seq: UInt64
    public var coords: [UInt64]
    public var signature: [UInt8]

    public init(path: [UInt64], watermark: UInt64, source: PublicKey, dest: PublicKey,
                seq: UInt64, coords: [UInt64], signature: [UInt8]) {
        self.path = path
        self.watermark = watermark
        self.source = source
        self.dest = dest
        self.seq = seq
        self.coords = coords
        self.signature = signature
    }

    /// The bytes `source` signs.
    public static func signedBytes(seq: UInt64, coords: [UInt64]) -> [UInt8] {
        var out = [UInt8]()
        Uvarint.append(seq, to: &out)
        IronwoodPath.append(coords, to: &out)
        return out
    }

    /// Signs `seq · coords` as `source`.
    public static func sign(seq: UInt64, coords: [UInt64], by source: NodeIdentity) -> [UInt8] {
        source.sign(signedBytes(seq: seq, coords: coords))
    }

    /// Ironwood's `check`: the source signed these coordinates.
    public func verify() throws(IronwoodMessageError) {
        guard source.verify(signature: signature, message: Self.signedBytes(seq: seq, coords: coords)) else {
            throw .badSignature
        }
    }

    public var encoded: [UInt8] {
        var out = [UInt8]()
        IronwoodPath.append(path, to: &out)
        Uvarint.append(watermark, to: &out)
        source.append(to: &out)
        dest.append(to: &out)
        Uvarint.append(seq, to: &out)
        IronwoodPath.append(coords, to: &out)
        out.append(contentsOf: signature)
        return out
    }

    public init(body: [UInt8]) throws(IronwoodMessageError) {
        var offset = 0
        guard let path = IronwoodPath.read(body, at: &offset),
              let watermark = Uvarint.read(body, at: &offset),
              let source = IronwoodPath.readKey(body, at: &offset),
              let dest = IronwoodPath.readKey(body, at: &offset),
              let seq = Uvarint.read(body, at: &offset),
              let coords = IronwoodPath.read(body, at: &offset),
              offset + 64 == body.count else { throw .malformed }
        self.init(path: path, watermark: watermark, source: source, dest: dest, seq: seq, coords: coords,
                  signature: Array(body[offset...]))
    }
}
