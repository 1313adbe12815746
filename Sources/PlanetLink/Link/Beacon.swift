import PlanetCore

/// Multicast discovery beacon: a node announces its key and listening port on the LAN.
///
///     [0x05][publicKey 32][port u16][timestamp u64][signature 64]   = 107 bytes
///
/// The signature (by the announced key) covers a label, the link domain, and key ‖ port ‖
/// timestamp, so a beacon cannot be forged or re-targeted to another port. `timestamp` must grow
/// per key (Unix seconds from the runtime, or any increasing counter), which makes replays useless.
public struct Beacon: Equatable, Sendable {
    public static let length = 1 + 32 + 2 + 8 + 64
    static let label = Array("planetary beacon\u{0}".utf8)

    public let publicKey: PublicKey
    public let port: UInt16
    public let timestamp: UInt64

    static func signedBytes(domain: String, key: PublicKey, port: UInt16, timestamp: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: 96)
        w.append(label)
        w.append(Array(domain.utf8))
        w.u8(0)
        w.publicKey(key)
        w.u16(port)
        w.u64(timestamp)
        return w.bytes
    }

    public static func make(identity: NodeIdentity, port: UInt16, timestamp: UInt64, domain: String) -> [UInt8] {
        var w = ByteWriter(capacity: length)
        w.u8(LinkFrameType.beacon.rawValue)
        w.publicKey(identity.publicKey)
        w.u16(port)
        w.u64(timestamp)
        w.append(identity.sign(signedBytes(domain: domain, key: identity.publicKey, port: port, timestamp: timestamp)))
        return w.bytes
    }

    /// Structure only; the signature is checked by `verify`, after rate limiting.
    public static func parse(_ datagram: [UInt8]) -> (Beacon, signature: ArraySlice<UInt8>)? {
        guard datagram.count == length, datagram[0] == LinkFrameType.beacon.rawValue else { return nil }
        var r = ByteReader(datagram, offset: 1)
        guard let key = r.publicKey(), let port = r.u16(), let ts = r.u64(), let sig = r.take(64) else { return nil }
        return (Beacon(publicKey: key, port: port, timestamp: ts), sig)
    }

    public func verify(signature: ArraySlice<UInt8>, domain: String) -> Bool {
        publicKey.verify(signature: signature, message: Beacon.signedBytes(domain: domain, key: publicKey, port: port, timestamp: timestamp))
    }
}
