import PlanetCore

/// What an origin signs for each sequence number: the domain string, its key, the seqno
/// and its flags. Neighbours relay the signature untouched; metric and next hop are not
/// covered because every hop changes them.
public enum OriginSignature {
    static let domain: [UInt8] = Array("planetary route origin v1".utf8)
    public static let byteCount = 64

    public static func message(origin: PublicKey, seqno: UInt32, flags: UInt8) -> [UInt8] {
        var w = ByteWriter(capacity: domain.count + 37)
        w.append(domain)
        w.publicKey(origin)
        w.u32(seqno)
        w.u8(flags)
        return w.bytes
    }

    public static func sign(_ identity: NodeIdentity, seqno: UInt32, flags: UInt8) -> [UInt8] {
        identity.sign(message(origin: identity.publicKey, seqno: seqno, flags: flags))
    }
}

/// Checks origin signatures. Returns the signature to keep (possibly a shared copy of an
/// identical one already verified) or nil when it is invalid. Injectable so the simulator
/// can give all its routers one cache: each distinct signature is verified once per run.
public protocol SignatureVerifier: AnyObject {
    func verified(origin: PublicKey, seqno: UInt32, flags: UInt8, signature: ArraySlice<UInt8>) -> [UInt8]?
}

/// Verifies with libsodium and remembers a bounded number of recent good signatures.
public final class CachingSignatureVerifier: SignatureVerifier {
    struct Key: Hashable { let origin: PublicKey; let seqno: UInt32; let flags: UInt8 }
    private var cache: [Key: [UInt8]] = [:]
    private let capacity: Int
    public private(set) var verifications = 0
    public private(set) var cacheHits = 0

    public init(capacity: Int = 1 << 20) { self.capacity = capacity }

    public func verified(origin: PublicKey, seqno: UInt32, flags: UInt8, signature: ArraySlice<UInt8>) -> [UInt8]? {
        guard signature.count == OriginSignature.byteCount else { return nil }
        let key = Key(origin: origin, seqno: seqno, flags: flags)
        if let known = cache[key], known.elementsEqual(signature) {
            cacheHits += 1
            return known
        }
        verifications += 1
        guard origin.verify(signature: signature, message: OriginSignature.message(origin: origin, seqno: seqno, flags: flags)) else {
            return nil
        }
        // Dropping everything when full is crude but bounded; the cache only saves work.
        if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
        let kept = Array(signature)
        cache[key] = kept
        return kept
    }
}
