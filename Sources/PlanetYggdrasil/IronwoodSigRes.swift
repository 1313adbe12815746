import PlanetCore

/// SigRes (frame type 3): a peer's answer to an `IronwoodSigReq`: the request's two numbers,
/// the port the answering peer knows the requester by, and the answering peer's signature.
///
/// ```
/// seq:uvarint · nonce:uvarint · port:uvarint · psig[64]      (nothing may follow)
/// psig = ed25519 by the answering peer (the parent) over
///        node key[32] · parent key[32] · seq:uvarint · nonce:uvarint · port:uvarint
/// ```
/// `node` is the requester, `parent` the signer. The signature binds the port to the pair, so
/// the requester can put it into its announcement (its tree coordinates are the ports from the
/// root down) and anyone can check the parent agreed. Ironwood checks it on arrival, with itself
/// as node and the link's key as parent, and closes the link when it fails.
public struct IronwoodSigRes: Equatable, Sendable {
    public var request: IronwoodSigReq
    /// The parent's number for the link to the node; 0 only in a root's self-signed announcement.
    public var port: UInt64
    public var parentSignature: [UInt8]

    public init(request: IronwoodSigReq, port: UInt64, parentSignature: [UInt8]) {
        self.request = request
        self.port = port
        self.parentSignature = parentSignature
    }

    /// The bytes both tree signatures cover (the SigRes's and, in an announcement, the node's).
    public static func signedBytes(node: PublicKey, parent: PublicKey, request: IronwoodSigReq, port: UInt64) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(64 + 3 * Uvarint.maxBytes)
        node.append(to: &out)
        parent.append(to: &out)
        request.encode(to: &out)
        Uvarint.append(port, to: &out)
        return out
    }

    /// The answer `parent` gives to `node`'s request, for the link it numbers `port`.
    public init(answering request: IronwoodSigReq, node: PublicKey, port: UInt64, parent: NodeIdentity) {
        self.init(request: request, port: port,
                  parentSignature: parent.sign(Self.signedBytes(node: node, parent: parent.publicKey, request: request, port: port)))
    }

    /// Whether `parent` signed this for `node`.
    public func verify(node: PublicKey, parent: PublicKey) -> Bool {
        parent.verify(signature: parentSignature, message: Self.signedBytes(node: node, parent: parent, request: request, port: port))
    }

    public func encode(to out: inout [UInt8]) {
        request.encode(to: &out)
        Uvarint.append(port, to: &out)
        out.append(contentsOf: parentSignature)
    }

    public var encoded: [UInt8] {
        var out = [UInt8]()
        encode(to: &out)
        return out
    }

    static func read(_ bytes: [UInt8], at offset: inout Int) throws(IronwoodMessageError) -> IronwoodSigRes {
        let request = try IronwoodSigReq.read(bytes, at: &offset)
        guard let port = Uvarint.read(bytes, at: &offset), offset + 64 <= bytes.count else { throw .malformed }
        defer { offset += 64 }
        return IronwoodSigRes(request: request, port: port, parentSignature: Array(bytes[offset..<(offset + 64)]))
    }

    /// Decodes a SigRes body; the signature is checked separately (`verify`), since only the
    /// receiver knows which keys it must be checked against.
    public init(body: [UInt8]) throws(IronwoodMessageError) {
        var offset = 0
        self = try Self.read(body, at: &offset)
        guard offset == body.count else { throw .malformed }
    }
}
