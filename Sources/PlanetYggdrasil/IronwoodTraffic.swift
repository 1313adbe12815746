import PlanetCore

/// Traffic (frame type 9): an end-to-end packet routed greedily through the tree.
///
/// ```
/// path:path · from:path · source[32] · dest[32] · watermark:uvarint · payload[rest]
/// ```
/// `path` is the destination's coordinates (where to go), `from` the source's (where a
/// PathBroken goes back to). `watermark` makes greedy routing loop-free while coordinates
/// change: a node forwards only if its own tree distance to `path` is below the watermark,
/// lowers the watermark to that distance, and sends to a peer strictly closer still (so the
/// first hop out of the source carries the source's own distance).
/// The payload is opaque to routing: an encrypted session message of ironwood's `encrypted/`
/// layer (its first byte the session message type: 1 init, 2 ack, 3 traffic), not decoded here.
/// Everything after the watermark is payload, so any remaining bytes are accepted.
public struct IronwoodTraffic: Equatable, Sendable {
    public var path: [UInt64]
    public var from: [UInt64]
    public var source: PublicKey
    public var dest: PublicKey
    public var watermark: UInt64
    public var payload: [UInt8]

    public init(path: [UInt64], from: [UInt64], source: PublicKey, dest: PublicKey, watermark: UInt64, payload: [UInt8]) {
        self.path = path
        self.from = from
        self.source = source
        self.dest = dest
        self.watermark = watermark
        self.payload = payload
    }

    public var encoded: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(2 * 32 + 16 + payload.count)
        IronwoodPath.append(path, to: &out)
        IronwoodPath.append(from, to: &out)
        source.append(to: &out)
        dest.append(to: &out)
        Uvarint.append(watermark, to: &out)
        out.append(contentsOf: payload)
        return out
    }

    public init(body: [UInt8]) throws(IronwoodMessageError) {
        var offset = 0
        guard let path = IronwoodPath.read(body, at: &offset),
              let from = IronwoodPath.read(body, at: &offset),
              let source = IronwoodPath.readKey(body, at: &offset),
              let dest = IronwoodPath.readKey(body, at: &offset),
              let watermark = Uvarint.read(body, at: &offset) else { throw .malformed }
        self.init(path: path, from: from, source: source, dest: dest, watermark: watermark, payload: Array(body[offset...]))
    }
}
