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
