/// SigReq (frame type 2): a node asks a peer to sign its next tree announcement with that
/// peer as parent. The peer answers with an `IronwoodSigRes` over the same two numbers.
///
/// ```
/// seq:uvarint · nonce:uvarint            (nothing may follow)
/// ```
/// `seq` is one more than the sequence number of the requester's current announcement, so the
/// answer can only be used for a newer one; `nonce` is random (ironwood reads 8 bytes from the
/// system's random source), so the answer proves the peer holds its key now, which the meta
/// handshake's replayable signature does not. The time from request to answer is the link's RTT
/// sample, which ironwood turns into the link's cost.
public struct IronwoodSigReq: Equatable, Hashable, Sendable {
    public var seq: UInt64
    public var nonce: UInt64

    public init(seq: UInt64, nonce: UInt64) {
        self.seq = seq
        self.nonce = nonce
    }

    public func encode(to out: inout [UInt8]) {
        Uvarint.append(seq, to: &out)
        Uvarint.append(nonce, to: &out)
    }

    public var encoded: [UInt8] {
        var out = [UInt8]()
        encode(to: &out)
        return out
    }

    /// Reads the two numbers at `offset` (inside a SigRes or Announce too).
    static func read(_ bytes: [UInt8], at offset: inout Int) throws(IronwoodMessageError) -> IronwoodSigReq {
        guard let seq = Uvarint.read(bytes, at: &offset), let nonce = Uvarint.read(bytes, at: &offset) else {
            throw .malformed
        }
        return IronwoodSigReq(seq: seq, nonce: nonce)
    }

    public init(body: [UInt8]) throws(IronwoodMessageError) {
        var offset = 0
        self = try Self.read(body, at: &offset)
        guard offset == body.count else { throw .malformed }
    }
}
