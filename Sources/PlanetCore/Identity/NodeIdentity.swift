/// A node's ed25519 key pair. The private key's text form is Yggdrasil's `PrivateKey`:
/// 128 hex characters, the 32-byte seed followed by the 32-byte public key, so a key
/// pasted from a Yggdrasil config keeps its address here.
public struct NodeIdentity: Sendable {
    /// seed ‖ public key, as libsodium's crypto_sign secret key.
    public let secretKey: [UInt8]
    public let publicKey: PublicKey

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case notHex
        case wrongLength(Int)
        case mismatchedPublicHalf

        public var description: String {
            switch self {
            case .notHex: return "is not hexadecimal"
            case .wrongLength(let bytes): return "must be 64 bytes (128 hex characters: seed then public key), got \(bytes) bytes"
            case .mismatchedPublicHalf: return "its second half is not the public key of its first half (seed)"
            }
        }
    }

    public static func generate() -> NodeIdentity {
        let pair = Sodium.signKeypair()
        return NodeIdentity(secretKey: pair.secret, publicKey: PublicKey(pair.publicKey)!)
    }

    public init(secretKey: [UInt8], publicKey: PublicKey) {
        self.secretKey = secretKey
        self.publicKey = publicKey
    }

    public init(hex: String) throws(ParseError) {
        let trimmed = hex.trimmingWhitespace()
        guard let bytes = Hex.decode(trimmed) else {
            if trimmed.utf8.count % 2 == 1 && trimmed.utf8.allSatisfy({ $0 < 128 && Hex.decode("0" + String(UnicodeScalar($0))) != nil }) {
                throw .wrongLength(trimmed.utf8.count / 2)
            }
            throw .notHex
        }
        guard bytes.count == 64 else { throw .wrongLength(bytes.count) }
        let derived = Sodium.signKeypair(seed: Array(bytes[0..<32]))
        guard derived.publicKey == Array(bytes[32..<64]) else { throw .mismatchedPublicHalf }
        self.init(secretKey: derived.secret, publicKey: PublicKey(derived.publicKey)!)
    }

    public var privateKeyHex: String { Hex.encode(secretKey) }

    public func sign(_ message: [UInt8]) -> [UInt8] { Sodium.sign(message, secretKey: secretKey) }

    public var address: IPv6Address { publicKey.address }
    public var subnet: IPv6Prefix { publicKey.subnet }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
