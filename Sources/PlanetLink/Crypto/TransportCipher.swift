import CPlanetCrypto
import CSodium
import PlanetCore

/// The AEAD a keypair runs, agreed in the handshake (Docs/protocol.md, "cipher negotiation").
///
/// ChaCha20-Poly1305 is the one every node can run. With the AES instructions both ends
/// prefer AEGIS-256 (~3.5x libsodium's AES-256-GCM per byte at 1400 B on the test machines),
/// then AES-256-GCM (~1.5x ChaCha20-Poly1305): the AEAD is most of a daemon's CPU on the data
/// path. AES-256-GCM stays for peers from before AEGIS-256.
public enum TransportCipher: UInt8, Sendable, CustomStringConvertible {
    case chacha20Poly1305 = 0x01
    case aes256Gcm = 0x02
    case aegis256 = 0x04

    public var description: String {
        switch self {
        case .chacha20Poly1305: return "chacha20-poly1305"
        case .aes256Gcm: return "aes-256-gcm"
        case .aegis256: return "aegis-256"
        }
    }
}

/// The ciphers a node offers, as the bit mask msg1 carries (bit values = `TransportCipher` raw values).
public struct TransportCiphers: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let chacha20Poly1305 = TransportCiphers(rawValue: TransportCipher.chacha20Poly1305.rawValue)
    public static let aes256Gcm = TransportCiphers(rawValue: TransportCipher.aes256Gcm.rawValue)
    public static let aegis256 = TransportCiphers(rawValue: TransportCipher.aegis256.rawValue)

    /// Bits this version knows; others in an offer are ignored (a newer peer may add ciphers).
    static let known: TransportCiphers = [.chacha20Poly1305, .aes256Gcm, .aegis256]

    /// What this machine runs: ChaCha20-Poly1305 always; AES-256-GCM and AEGIS-256 only with
    /// the AES instructions (libsodium has no portable AES-GCM, and AEGIS-256 without them
    /// would be slow and not constant-time).
    public static let hardwareSupported: TransportCiphers = {
        precondition(Sodium.ready)
        var c: TransportCiphers = [.chacha20Poly1305]
        if crypto_aead_aes256gcm_is_available() == 1 { c.insert(.aes256Gcm) }
        if planet_aegis256_available() == 1 { c.insert(.aegis256) }
        return c
    }()

    /// The responder's pick: the fastest cipher both sides run, nil when they share none.
    public func choose(offered: TransportCiphers) -> TransportCipher? {
        let common = intersection(offered).intersection(TransportCiphers.known)
        if common.contains(.aegis256) { return .aegis256 }
        if common.contains(.aes256Gcm) { return .aes256Gcm }
        if common.contains(.chacha20Poly1305) { return .chacha20Poly1305 }
        return nil
    }

    public func contains(_ cipher: TransportCipher) -> Bool { contains(TransportCiphers(rawValue: cipher.rawValue)) }
}
