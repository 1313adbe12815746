import PlanetCore

/// Announce (frame type 4): a node's place in the spanning tree, gossiped to every peer.
///
/// ```
/// key[32] · parent[32] · seq:uvarint · nonce:uvarint · port:uvarint · psig[64] · sig[64]
/// ```
/// The middle is the parent's `IronwoodSigRes` for this node; `sig` is the node's own signature
/// over the same bytes (`IronwoodSigRes.signedBytes(node: key, parent: parent, …)`). Both keys
/// sign, so neither can claim a parent or a child the other did not agree to. A root is its own
/// parent with port 0 and signs twice (the two signatures are equal); port 0 from anyone else is
/// refused. Self-contained: anyone can check it without knowing the sender.
public struct IronwoodAnnounce: Equatable, Sendable {
    public var key: PublicKey
    public var parent: PublicKey
    public var response: IronwoodSigRes
    public var signature: [UInt8]

    public init(key: PublicKey, parent: PublicKey, response: IronwoodSigRes, signature: [UInt8]) {
        self.key = key
        self.parent = parent
        self.response = response
        self.signature = signature
    }

    /// `node`'s announcement under the parent whose answer is `response`.
    public init(node: NodeIdentity, parent: PublicKey, response: IronwoodSigRes) {
        let bytes = IronwoodSigRes.signedBytes(node: node.publicKey, parent: parent, request: response.request, port: response.port)
        self.init(key: node.publicKey, parent: parent, response: response, signature: node.sign(bytes))
    }

    /// A root's announcement: its own parent, port 0, both signatures its own.
    public static func root(_ node: NodeIdentity, request: IronwoodSigReq) -> IronwoodAnnounce {
        let response = IronwoodSigRes(answering: request, node: node.publicKey, port: 0, parent: node)
        return IronwoodAnnounce(key: node.publicKey, parent: node.publicKey, response: response, signature: response.parentSignature)
    }

    public var isRoot: Bool { key == parent }

    /// Ironwood's `check`: port 0 only for a root, then both signatures.
    public func verify() throws(IronwoodMessageError) {
        guard response.port != 0 || key == parent else { throw .portZeroNotRoot }
        let bytes = IronwoodSigRes.signedBytes(node: key, parent: parent, request: response.request, port: response.port)
        guard key.verify(signature: signature, message: bytes),
              parent.verify(signature: response.parentSignature, message: bytes) else { throw .badSignature }
    }

    public func encode(to out: inout [UInt8]) {
        key.append(to: &out)
        parent.append(to: &out)
        response.encode(to: &out)
        out.append(contentsOf: signature)
    }

    public var encoded: [UInt8] {
        var out = [UInt8]()
        encode(to: &out)
        return out
    }

    /// Decodes the body (exactly: nothing may follow); `verify()` checks it.
    public init(body: [UInt8]) throws(IronwoodMessageError) {
        guard body.count >= 64, let key = PublicKey(body[0..<32]), let parent = PublicKey(body[32..<64]) else {
            throw .malformed
        }
        var offset = 64
        let response = try IronwoodSigRes.read(body, at: &offset)
        guard offset + 64 == body.count else { throw .malformed }
        self.init(key: key, parent: parent, response: response, signature: Array(body[offset...]))
    }
}
