import PlanetCore

/// What routers hold about origins, interned: each origin key once (with its overlay address
/// and lookup tag) and each verified origin signature once, 64 bytes in one flat slab. Routers
/// refer to both by 32-bit ids and count their references, so a record lives exactly as long
/// as some entry or route uses it, and no signature is a heap object of its own.
///
/// planetd's router owns one. planetsim gives all its routers one, so N routers share one copy
/// of every key and signature and each distinct signature is verified once per run (the
/// routers' code is the same either way).
public final class OriginDirectory {
    // Origins: id -> key, address, references; key -> id; lookup tag -> id (first key claims it).
    private var originIds: [PublicKey: UInt32] = [:]
    private var keys: [PublicKey] = []
    private var addresses: [IPv6Address] = []
    private var originRefs: [UInt32] = []
    private var freeOrigins: [UInt32] = []
    private var tags: [UInt64: UInt32] = [:]

    // Verified signatures: id -> (origin id, seqno, flags), 64 bytes, references.
    struct SignatureKey: Hashable { let origin: UInt32; let seqno: UInt32; let flags: UInt8 }
    private var signatureIds: [SignatureKey: UInt32] = [:]
    private var signatureKeys: [SignatureKey] = []
    private var signatureSlab: [UInt8] = []
    private var signatureRefs: [UInt32] = []
    private var freeSignatures: [UInt32] = []

    /// Signatures checked with libsodium, and those found already verified.
    public private(set) var verifications = 0
    public private(set) var cacheHits = 0

    public init() {}

    // MARK: - Origins

    /// The id of a key some router holds, without taking a reference.
    @inline(__always)
    public func originId(_ key: PublicKey) -> UInt32? { originIds[key] }

    /// Interns `key` and takes a reference to it.
    func retainOrigin(_ key: PublicKey) -> UInt32 {
        if let id = originIds[key] { originRefs[Int(id)] += 1; return id }
        let address = key.address
        let id: UInt32
        if let f = freeOrigins.popLast() {
            id = f
            keys[Int(f)] = key; addresses[Int(f)] = address; originRefs[Int(f)] = 1
        } else {
            id = UInt32(keys.count)
            keys.append(key); addresses.append(address); originRefs.append(1)
        }
        originIds[key] = id
        // First key to claim a tag keeps it; a colliding key needs ~2^48 work to make and is
        // then still checked against the full address by the router.
        let tag = OverlayAddress.lookupTag(for: address)
        if tags[tag] == nil { tags[tag] = id }
        return id
    }

    func releaseOrigin(_ id: UInt32) {
        let i = Int(id)
        originRefs[i] -= 1
        guard originRefs[i] == 0 else { return }
        originIds[keys[i]] = nil
        let tag = OverlayAddress.lookupTag(for: addresses[i])
        if tags[tag] == id { tags[tag] = nil }
        freeOrigins.append(id)
    }

    @inline(__always) public func key(_ id: UInt32) -> PublicKey { keys[Int(id)] }
    @inline(__always) public func address(_ id: UInt32) -> IPv6Address { addresses[Int(id)] }
    public func origin(forTag tag: UInt64) -> UInt32? { tags[tag] }

    /// Origins interned now (each held by at least one entry or signature).
    public var originCount: Int { originIds.count }

    // MARK: - Signatures

    /// Checks an origin's signature over (origin, seqno, flags). Returns a reference the caller
    /// owns (store it or release it), or nil when the signature is not valid. A signature
    /// already held is compared byte for byte instead of verified again.
    func verifiedSignature(origin: PublicKey, seqno: UInt32, flags: UInt8, signature: ArraySlice<UInt8>) -> UInt32? {
        guard signature.count == OriginSignature.byteCount else { return nil }
        if let o = originIds[origin], let id = signatureIds[SignatureKey(origin: o, seqno: seqno, flags: flags)],
           signatureMatches(id, signature) {
            cacheHits += 1
            signatureRefs[Int(id)] += 1
            return id
        }
        verifications += 1
        guard origin.verify(signature: signature, message: OriginSignature.message(origin: origin, seqno: seqno, flags: flags)) else {
            return nil
        }
        let o = retainOrigin(origin)
        let key = SignatureKey(origin: o, seqno: seqno, flags: flags)
        if let id = signatureIds[key] {
            // Another valid signature over the same bytes (a non-deterministic signer): either
            // proves the same thing, keep the one already held.
            releaseOrigin(o)
            signatureRefs[Int(id)] += 1
            return id
        }
        let id: UInt32
        if let f = freeSignatures.popLast() {
            id = f
            signatureKeys[Int(f)] = key
            signatureRefs[Int(f)] = 1
            let base = Int(f) * OriginSignature.byteCount
            signatureSlab.replaceSubrange(base..<(base + OriginSignature.byteCount), with: signature)
        } else {
            id = UInt32(signatureKeys.count)
            signatureKeys.append(key)
            signatureRefs.append(1)
            signatureSlab.append(contentsOf: signature)
        }
        signatureIds[key] = id
        return id
    }

    /// Whether exactly this signature is held already (verified before), without a reference.
    func holds(origin: PublicKey, seqno: UInt32, flags: UInt8, signature: ArraySlice<UInt8>) -> Bool {
        guard signature.count == OriginSignature.byteCount, let o = originIds[origin],
              let id = signatureIds[SignatureKey(origin: o, seqno: seqno, flags: flags)] else { return false }
        return signatureMatches(id, signature)
    }

    @inline(__always) func retainSignature(_ id: UInt32) { signatureRefs[Int(id)] += 1 }

    func releaseSignature(_ id: UInt32) {
        let i = Int(id)
        signatureRefs[i] -= 1
        guard signatureRefs[i] == 0 else { return }
        let key = signatureKeys[i]
        signatureIds[key] = nil
        freeSignatures.append(id)
        releaseOrigin(key.origin)
    }

    @inline(__always) func seqno(ofSignature id: UInt32) -> UInt32 { signatureKeys[Int(id)].seqno }
    @inline(__always) func flags(ofSignature id: UInt32) -> UInt8 { signatureKeys[Int(id)].flags }

    func signatureMatches(_ id: UInt32, _ bytes: ArraySlice<UInt8>) -> Bool {
        let base = Int(id) * OriginSignature.byteCount
        return signatureSlab.withUnsafeBufferPointer { slab in
            bytes.elementsEqual(UnsafeBufferPointer(rebasing: slab[base..<(base + OriginSignature.byteCount)]))
        }
    }

    func appendSignature(_ id: UInt32, to w: inout ByteWriter) {
        let base = Int(id) * OriginSignature.byteCount
        signatureSlab.withUnsafeBufferPointer { slab in
            w.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: slab[base..<(base + OriginSignature.byteCount)]))
        }
    }

    func signature(_ id: UInt32) -> [UInt8] {
        let base = Int(id) * OriginSignature.byteCount
        return Array(signatureSlab[base..<(base + OriginSignature.byteCount)])
    }

    /// Signatures held now.
    public var signatureCount: Int { signatureIds.count }

    /// Rough heap use: keys with address, tag and index; signatures with their index.
    public var estimatedMemoryBytes: Int {
        keys.count * (32 + 16 + 4) + originIds.count * (32 + 4) * 4 / 3 + tags.count * 12 * 4 / 3
            + signatureKeys.count * (12 + 4 + OriginSignature.byteCount) + signatureIds.count * 16 * 4 / 3
    }
}
