import CSodium
import PlanetCore

/// The AEAD a keypair runs, agreed in the handshake (Docs/protocol.md, "cipher negotiation").
///
/// ChaCha20-Poly1305 is the one every node can run. AES-256-GCM is taken when both ends have
/// AES and carry-less multiply instructions: there libsodium's AES-GCM is ~1.5x faster per
/// byte, and the AEAD is most of a daemon's CPU on the data path.
public enum TransportCipher: UInt8, Sendable, CustomStringConvertible {
    case chacha20Poly1305 = 0x01
    case aes256Gcm = 0x02

    public var description: String {
        switch self {
        case .chacha20Poly1305: return "chacha20-poly1305"
        case .aes256Gcm: return "aes-256-gcm"
        }
    }
}

/// The ciphers a node offers, as the bit mask msg1 carries (bit values = `TransportCipher` raw values).
public struct TransportCiphers: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let chacha20Poly1305 = TransportCiphers(rawValue: TransportCipher.chacha20Poly1305.rawValue)
    public static let aes256Gcm = TransportCiphers(rawValue: TransportCipher.aes256Gcm.rawValue)

    /// Bits this version knows; others in an offer are ignored (a newer peer may add ciphers).
    static let known: TransportCiphers = [.chacha20Poly1305, .aes256Gcm]

    /// What this machine runs: ChaCha20-Poly1305 always, AES-256-GCM only with hardware
    /// support (libsodium has no portable AES-GCM).
    public static let hardwareSupported: TransportCiphers = {
        precondition(Sodium.ready)
        return crypto_aead_aes256gcm_is_available() == 1 ? [.chacha20Poly1305, .aes256Gcm] : [.chacha20Poly1305]
    }()

    /// The responder's pick: the fastest cipher both sides run, nil when they share none.
    public func choose(offered: TransportCiphers) -> TransportCipher? {
        let common = intersection(offered).intersection(TransportCiphers.known)
        if common.contains(.aes256Gcm) { return .aes256Gcm }
        if common.contains(.chacha20Poly1305) { return .chacha20Poly1305 }
        return nil
    }

    public func contains(_ cipher: TransportCipher) -> Bool { contains(TransportCiphers(rawValue: cipher.rawValue)) }
}
