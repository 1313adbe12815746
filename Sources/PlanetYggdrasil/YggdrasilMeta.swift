import PlanetCore

/// The version/meta handshake that opens every Yggdrasil 0.5 link: each side writes one of
/// these, then reads the other's, before any ironwood frame (Docs/protocol.md, "Yggdrasil 0.5
/// links", "Meta handshake").
///
/// ```
/// "meta" · length:u16 · TLV* · signature[64]          (length counts TLVs + signature)
/// TLV = type:u16 · length:u16 · value                 (all big-endian)
///   0 major version u16 (= 0) · 1 minor version u16 (= 5) · 2 public key [32] · 3 priority u8
/// signature = ed25519(BLAKE2b-512(key: link password, message: public key))
/// ```
///
/// The signature covers a constant, so anyone who saw one can replay it; it proves only that
/// the sender knew the password (or had seen the key's handshake under it). Possession of the
/// key is proven later, by ironwood's SigRes over a fresh nonce.
public struct YggdrasilMeta: Equatable, Sendable {
    /// The only version this module speaks; yggdrasil refuses any other pair.
    public static let majorVersion: UInt16 = 0
    public static let minorVersion: UInt16 = 5
    /// BLAKE2b's key limit; yggdrasil refuses longer link passwords when parsing the URI.
    public static let maxPasswordBytes = 64
    /// "meta" + u16 length.
    public static let headerBytes = 6
    public static let signatureBytes = 64

    enum TLVType: UInt16 {
        case majorVersion = 0, minorVersion = 1, publicKey = 2, priority = 3
    }

    public var majorVersion: UInt16
    public var minorVersion: UInt16
    public var publicKey: PublicKey
    /// The link priority the sender configured (`?priority=` on its URI). Yggdrasil uses the
    /// larger of both sides' values for the link; it never affects whether the link opens.
    public var priority: UInt8

    public init(publicKey: PublicKey, priority: UInt8 = 0,
                majorVersion: UInt16 = YggdrasilMeta.majorVersion, minorVersion: UInt16 = YggdrasilMeta.minorVersion) {
        self.majorVersion = majorVersion
        self.minorVersion = minorVersion
        self.publicKey = publicKey
        self.priority = priority
    }

    public enum HandshakeError: Error, Equatable, CustomStringConvertible {
        /// The first four bytes are not "meta": not an Yggdrasil 0.5 peer (or not Yggdrasil).
        case notYggdrasil
        /// The length field is shorter than a signature.
        case lengthTooShort(UInt16)
        /// A TLV runs past the end, a known TLV has the wrong size, or bytes are left over.
        case malformedTLV(type: UInt16?)
        case missingPublicKey
        case incompatibleVersion(major: UInt16, minor: UInt16)
        /// The signature does not verify under the sender's key with our password: the two
        /// ends disagree on the password (or the bytes were altered).
        case passwordMismatch
        case passwordTooLong(Int)

        public var description: String {
            switch self {
            case .notYggdrasil: return "not an Yggdrasil handshake (no \"meta\" preamble)"
            case .lengthTooShort(let n): return "handshake length \(n) is shorter than its signature"
            case .malformedTLV(let t): return "malformed handshake field" + (t.map { " (type \($0))" } ?? "")
            case .missingPublicKey: return "handshake carries no public key"
            case .incompatibleVersion(let major, let minor):
                return "remote speaks version \(major).\(minor), we speak \(YggdrasilMeta.majorVersion).\(YggdrasilMeta.minorVersion)"
            case .passwordMismatch: return "password does not match the remote side (handshake signature invalid)"
            case .passwordTooLong(let n): return "link password is \(n) bytes, at most \(YggdrasilMeta.maxPasswordBytes)"
            }
        }
    }

    /// What `decode` found at the start of a stream.
    public enum Parse: Equatable {
        /// Not enough bytes yet: at least `needed` in total are required before deciding.
        case incomplete(needed: Int)
        /// A valid handshake that took `consumed` bytes; ironwood frames follow.
        case complete(YggdrasilMeta, consumed: Int)
    }

    /// The bytes the password keys: BLAKE2b-512 of the public key. An empty password means an
    /// unkeyed hash (Go's blake2b.New512 with an empty key, libsodium with key length 0).
    static func signedDigest(publicKey: PublicKey, password: [UInt8]) -> [UInt8] {
        Sodium.blake2b([publicKey.bytes], key: password.isEmpty ? nil : password, outputLength: 64)
    }

    /// Our handshake. TLVs go out in type order, as yggdrasil writes them, so the bytes are
    /// identical to the real node's for the same key, priority and password (ed25519 is
    /// deterministic).
    public static func encode(identity: NodeIdentity, priority: UInt8, password: [UInt8]) throws(HandshakeError) -> [UInt8] {
        guard password.count <= maxPasswordBytes else { throw .passwordTooLong(password.count) }
        var w = ByteWriter()
        w.append("meta".utf8)
        w.u16(0)  // patched below, once the length is known
        w.u16(TLVType.majorVersion.rawValue); w.u16(2); w.u16(majorVersion)
        w.u16(TLVType.minorVersion.rawValue); w.u16(2); w.u16(minorVersion)
        w.u16(TLVType.publicKey.rawValue); w.u16(UInt16(PublicKey.byteCount)); w.publicKey(identity.publicKey)
        w.u16(TLVType.priority.rawValue); w.u16(1); w.u8(priority)
        w.append(identity.sign(signedDigest(publicKey: identity.publicKey, password: password)))
        let length = UInt16(w.bytes.count - headerBytes)
        w.bytes[4] = UInt8(length >> 8)
        w.bytes[5] = UInt8(truncatingIfNeeded: length)
        return w.bytes
    }

    /// Reads the peer's handshake from the start of `bytes` (the stream so far), checking it as
    /// yggdrasil 0.5.14 does (stricter than 0.5.12, which ignored a truncated last TLV and
    /// wrong-sized fields; no real node sends either): exact version 0.5, a 32-byte key, each
    /// known field its exact size, unknown TLV types skipped by length (later minor versions
    /// may add some), nothing left between the TLVs and the signature, and the signature valid
    /// for our password. A repeated TLV overrides the earlier one, as in Go. Missing version
    /// fields count as 0, as in Go, which then fails the version check.
    public static func decode(_ bytes: some Collection<UInt8>, password: [UInt8]) throws(HandshakeError) -> Parse {
        guard password.count <= maxPasswordBytes else { throw .passwordTooLong(password.count) }
        let head = Array(bytes.prefix(headerBytes))
        // Reject a non-Yggdrasil peer as soon as its first bytes disagree, without waiting.
        guard head.prefix(4).elementsEqual("meta".utf8.prefix(min(4, head.count))) else { throw .notYggdrasil }
        guard head.count == headerBytes else { return .incomplete(needed: headerBytes) }
        let length = UInt16(head[4]) << 8 | UInt16(head[5])
        // Yggdrasil 0.4 wrote "meta", then its major and minor versions as one-byte uvarints
        // (00 04), then its keys: where 0.5 has the length. Name that case, the likeliest
        // old peer, instead of reporting a short length (what 0.5.12 says).
        if head[4] == 0, head[5] < minorVersion { throw .incompatibleVersion(major: 0, minor: UInt16(head[5])) }
        guard Int(length) >= signatureBytes else { throw .lengthTooShort(length) }
        let total = headerBytes + Int(length)
        guard bytes.count >= total else { return .incomplete(needed: total) }
        let message = Array(bytes.prefix(total))
        var r = ByteReader(message, offset: headerBytes, end: total - signatureBytes)
        var major: UInt16 = 0, minor: UInt16 = 0, priority: UInt8 = 0
        var key: PublicKey?
        while !r.isAtEnd {
            guard let type = r.u16(), let size = r.u16(), let value = r.take(Int(size)) else {
                throw .malformedTLV(type: nil)
            }
            guard let known = TLVType(rawValue: type) else { continue }
            let expected: Int
            switch known {
            case .majorVersion, .minorVersion: expected = 2
            case .publicKey: expected = PublicKey.byteCount
            case .priority: expected = 1
            }
            guard value.count == expected else { throw .malformedTLV(type: type) }
            let v = Array(value)
            switch known {
            case .majorVersion: major = UInt16(v[0]) << 8 | UInt16(v[1])
            case .minorVersion: minor = UInt16(v[0]) << 8 | UInt16(v[1])
            case .publicKey: key = PublicKey(v)
            case .priority: priority = v[0]
            }
        }
        guard let key else { throw .missingPublicKey }
        // Checked before the signature (Go checks it after): a peer of another version may
        // sign something else, and "wrong version" is the useful diagnosis then.
        guard major == majorVersion, minor == minorVersion else { throw .incompatibleVersion(major: major, minor: minor) }
        let signature = message[(total - signatureBytes)...]
        guard key.verify(signature: signature, message: signedDigest(publicKey: key, password: password)) else {
            throw .passwordMismatch
        }
        return .complete(YggdrasilMeta(publicKey: key, priority: priority, majorVersion: major, minorVersion: minor),
                         consumed: total)
    }
}
