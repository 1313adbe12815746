import CSodium
import PlanetCore

// A three-message SIGMA-I handshake (signed ephemeral Diffie-Hellman, identities encrypted),
// usable for any channel: the link layer runs it over UDP with domain "planetary-link-v1",
// end-to-end sessions run it over the overlay with their own domain. Bodies below exclude
// any outer type byte; callers add their own. Docs/protocol.md, "link layer", has the
// byte layout and the security argument.
//
// API
//   let i = HandshakeInitiator(local: id, localIndex: n, expectedPeer: pin, domain: "…", ciphers: offer)
//   let msg1 = i.initMessage()                                   // 153 bytes
//   let (pending, msg2) = try HandshakeResponder.respond(toInit: msg1, local: idR,
//                                                        localIndex: m, domain: "…")  // 153 bytes
//   let (msg3, keysI) = try i.handleResponse(msg2)               // 116 bytes
//   let keysR = try pending.handleFinish(msg3, isAllowed: { key in … })
//   HandshakeMessages.receiverIndex(ofResponse:) / (ofFinish:) route msg2/msg3 to their state.
//
// Transcript: h0 = B(label ‖ domain); h1 = B(h0 ‖ msg1); h2 = B(h1 ‖ msg2[0..<40]);
// h3 = B(h2 ‖ c2); h4 = B(h3 ‖ c3 ‖ pkR ‖ pkI). k1 = B_dh("k1" ‖ h2), k2 = B_dh("k2" ‖ h3),
// transport i→r = B_dh("i2r" ‖ h4), r→i = B_dh("r2i" ‖ h4), where B is BLAKE2b-256 and
// B_dh is BLAKE2b keyed with the ephemeral X25519 result.

public enum HandshakeError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed
    case unsupportedVersion(UInt8)
    /// The peer's ephemeral key is a low-order point (shared secret all zeros).
    case weakEphemeral
    case authenticationFailed
    case badSignature
    /// The initiator expected another key (pinned in the peer URI).
    case peerKeyMismatch(got: PublicKey)
    /// The responder's allow-list refused the initiator's key.
    case notAllowed(PublicKey)
    /// The peer is ourselves (e.g. our own beacon, or a URI pointing back at us).
    case selfConnection
    /// The initiator already completed (a second msg2 is a replay).
    case alreadyDone
    /// The two sides run no transport cipher in common.
    case noCommonCipher

    public var description: String {
        switch self {
        case .malformed: return "malformed handshake message"
        case .unsupportedVersion(let v): return "unsupported handshake version \(v)"
        case .weakEphemeral: return "peer ephemeral key is a low-order point"
        case .authenticationFailed: return "handshake message failed authentication"
        case .badSignature: return "handshake signature invalid"
        case .peerKeyMismatch(let got): return "peer key \(got.short) is not the pinned key"
        case .notAllowed(let key): return "peer key \(key.short) is not in allowedPublicKeys"
        case .selfConnection: return "peer is this node"
        case .alreadyDone: return "handshake already completed"
        case .noCommonCipher: return "no transport cipher in common with the peer"
        }
    }
}

/// What a completed handshake yields, for either side.
public struct SessionKeys: Sendable {
    public let peer: PublicKey
    public let localIndex: UInt32
    public let remoteIndex: UInt32
    public let sendKey: [UInt8]
    public let receiveKey: [UInt8]
    public let isInitiator: Bool
    /// The transport AEAD the responder picked from the initiator's offer.
    public let cipher: TransportCipher
    /// Framing capabilities both ends offered (the responder names them with its pick).
    public let features: HandshakeFeatures

    public init(peer: PublicKey, localIndex: UInt32, remoteIndex: UInt32, sendKey: [UInt8], receiveKey: [UInt8],
                isInitiator: Bool, cipher: TransportCipher = .chacha20Poly1305, features: HandshakeFeatures = []) {
        self.features = features
        self.peer = peer
        self.localIndex = localIndex
        self.remoteIndex = remoteIndex
        self.sendKey = sendKey
        self.receiveKey = receiveKey
        self.isInitiator = isInitiator
        self.cipher = cipher
    }
}

/// Capabilities a handshake negotiates beside the cipher, in the high bit(s) of the same byte:
/// the initiator offers them with its ciphers (msg1), the responder names those it shares with
/// its pick (msg2). A responder that predates a bit ignores it in the offer (unknown cipher
/// bits are ignored) and never names it, so both ends agree on the old framing.
public struct HandshakeFeatures: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & HandshakeFeatures.mask }

    /// Relayed data may travel in tag-bound frames (0x08, Docs/protocol.md).
    public static let tagBoundPayload = HandshakeFeatures(rawValue: 0x80)
    /// The bits of the cipher byte that are features, not ciphers.
    static let mask: UInt8 = 0x80
    /// What this version offers and accepts on links.
    public static let supported: HandshakeFeatures = [.tagBoundPayload]
}

public enum HandshakeMessages {
    /// 2: msg1 offers transport ciphers and msg2 names the one picked.
    public static let version: UInt8 = 2
    /// msg2 body: senderIndex 4, receiverIndex 4, cipher 1 (high bit: features), ephemeral 32, sealed (key 32, signature 64) + tag 16.
    public static let responseLength = 4 + 4 + 1 + 32 + sealedIdentityLength
    /// msg1 body is padded to msg2's length so a responder never sends more than it receives.
    public static let initLength = responseLength
    /// msg3 body: receiverIndex 4, sealed identity.
    public static let finishLength = 4 + sealedIdentityLength
    static let sealedIdentityLength = 32 + 64 + 16
    /// msg1 body: version 1, senderIndex 4, ephemeral 32, offered ciphers 1 (high bit: features), then zeros.
    static let unpaddedInitLength = 1 + 4 + 32 + 1
    static let responseHeadLength = 4 + 4 + 1 + 32

    /// The initiator's index a response is addressed to (its bytes 4..<8).
    public static func receiverIndex(ofResponse body: some Collection<UInt8>) -> UInt32? {
        guard body.count == responseLength else { return nil }
        return BigEndian.u32(body, at: 4)
    }

    /// The responder's index a finish is addressed to (its first 4 bytes).
    public static func receiverIndex(ofFinish body: some Collection<UInt8>) -> UInt32? {
        guard body.count == finishLength else { return nil }
        return BigEndian.u32(body, at: 0)
    }
}

/// Transcript hashing and key derivation shared by both roles.
enum HandshakeCrypto {
    static let protocolLabel = Array("planetary-sigma-i-x25519-ed25519-chachapoly-blake2b\u{0}".utf8)
    static let responderSignatureLabel = Array("planetary handshake responder signature\u{0}".utf8)
    static let initiatorSignatureLabel = Array("planetary handshake initiator signature\u{0}".utf8)

    static func initialHash(domain: String) -> [UInt8] { Sodium.blake2b([protocolLabel, Array(domain.utf8)]) }
    static func mix(_ h: [UInt8], _ parts: [UInt8]...) -> [UInt8] { Sodium.blake2b([h] + parts) }
    static func derive(_ dh: [UInt8], _ label: String, _ h: [UInt8]) -> [UInt8] {
        Sodium.blake2b([Array(label.utf8), h], key: dh)
    }

    /// Seals key ‖ signature under `key` with nonce 0 (each key is used exactly once).
    static func sealIdentity(key: [UInt8], ad: [UInt8], publicKey: PublicKey, signature: [UInt8]) -> [UInt8] {
        var plain = publicKey.bytes + signature
        var out = [UInt8](repeating: 0, count: plain.count + 16)
        let nonce = [UInt8](repeating: 0, count: 12)
        _ = crypto_aead_chacha20poly1305_ietf_encrypt(&out, nil, plain, UInt64(plain.count), ad, UInt64(ad.count),
                                                       nil, nonce, key)
        Sodium.wipe(&plain)
        return out
    }

    static func openIdentity(key: [UInt8], ad: [UInt8], sealed: [UInt8]) -> (PublicKey, [UInt8])? {
        guard sealed.count == HandshakeMessages.sealedIdentityLength else { return nil }
        var plain = [UInt8](repeating: 0, count: sealed.count - 16)
        let nonce = [UInt8](repeating: 0, count: 12)
        guard crypto_aead_chacha20poly1305_ietf_decrypt(&plain, nil, nil, sealed, UInt64(sealed.count),
                                                         ad, UInt64(ad.count), nonce, key) == 0 else { return nil }
        return (PublicKey(plain[0..<32])!, Array(plain[32..<96]))
    }

    static func sessionKeys(dh: [UInt8], h3: [UInt8], c3: [UInt8], responder: PublicKey, initiator: PublicKey)
        -> (i2r: [UInt8], r2i: [UInt8]) {
        let h4 = mix(h3, c3, responder.bytes, initiator.bytes)
        return (derive(dh, "i2r", h4), derive(dh, "r2i", h4))
    }
}

/// The side that starts a handshake. One instance per attempt.
public final class HandshakeInitiator {
    public let localIndex: UInt32
    public let expectedPeer: PublicKey?
    public let offeredCiphers: TransportCiphers
    public let offeredFeatures: HandshakeFeatures
    private let local: NodeIdentity
    private var ephemeralSecret: [UInt8]
    private let message: [UInt8]
    private let h1: [UInt8]
    private var done = false

    public init(local: NodeIdentity, localIndex: UInt32, expectedPeer: PublicKey?, domain: String,
                ciphers: TransportCiphers = .hardwareSupported, features: HandshakeFeatures = []) {
        self.local = local
        self.localIndex = localIndex
        self.expectedPeer = expectedPeer
        self.offeredCiphers = TransportCiphers(rawValue: ciphers.rawValue & ~HandshakeFeatures.mask)
        self.offeredFeatures = features
        let eph = Sodium.x25519Keypair()
        ephemeralSecret = eph.secret
        var m = ByteWriter(capacity: HandshakeMessages.initLength)
        m.u8(HandshakeMessages.version)
        m.u32(localIndex)
        m.append(eph.publicKey)
        m.u8(offeredCiphers.rawValue | features.rawValue)
        m.append([UInt8](repeating: 0, count: HandshakeMessages.initLength - HandshakeMessages.unpaddedInitLength))
        message = m.bytes
        h1 = HandshakeCrypto.mix(HandshakeCrypto.initialHash(domain: domain), message)
    }

    deinit { Sodium.wipe(&ephemeralSecret) }

    /// msg1 body (the same bytes on every call, so it can be retransmitted).
    public func initMessage() -> [UInt8] { message }

    /// Verifies msg2 and returns msg3 body and the transport keys. A failure leaves the
    /// initiator usable, so a forged msg2 cannot cancel a genuine handshake.
    public func handleResponse(_ body: some Collection<UInt8>) throws(HandshakeError) -> (finish: [UInt8], keys: SessionKeys) {
        guard !done else { throw .alreadyDone }
        let msg = Array(body)
        guard msg.count == HandshakeMessages.responseLength else { throw .malformed }
        let remoteIndex = BigEndian.u32(msg, at: 0)
        guard BigEndian.u32(msg, at: 4) == localIndex else { throw .malformed }
        // The pick is covered by h2, which the responder signs: nobody in between can downgrade it.
        guard let cipher = TransportCipher(rawValue: msg[8] & ~HandshakeFeatures.mask), offeredCiphers.contains(cipher) else {
            throw .malformed
        }
        let features = HandshakeFeatures(rawValue: msg[8])
        guard offeredFeatures.isSuperset(of: features) else { throw .malformed }
        let head = HandshakeMessages.responseHeadLength
        let eR = Array(msg[9..<head])
        let c2 = Array(msg[head...])
        guard var dh = Sodium.x25519(secret: ephemeralSecret, peer: eR),
              !dh.allSatisfy({ $0 == 0 }) else { throw .weakEphemeral }
        defer { Sodium.wipe(&dh) }
        let h2 = HandshakeCrypto.mix(h1, Array(msg[0..<head]))
        var k1 = HandshakeCrypto.derive(dh, "k1", h2)
        defer { Sodium.wipe(&k1) }
        guard let (peer, sigR) = HandshakeCrypto.openIdentity(key: k1, ad: h2, sealed: c2) else { throw .authenticationFailed }
        guard peer.verify(signature: sigR, message: HandshakeCrypto.responderSignatureLabel + h2) else { throw .badSignature }
        if peer == local.publicKey { throw .selfConnection }
        if let expectedPeer, expectedPeer != peer { throw .peerKeyMismatch(got: peer) }
        let h3 = HandshakeCrypto.mix(h2, c2)
        let sigI = local.sign(HandshakeCrypto.initiatorSignatureLabel + h3)
        var k2 = HandshakeCrypto.derive(dh, "k2", h3)
        defer { Sodium.wipe(&k2) }
        let c3 = HandshakeCrypto.sealIdentity(key: k2, ad: h3, publicKey: local.publicKey, signature: sigI)
        var finish = ByteWriter(capacity: HandshakeMessages.finishLength)
        finish.u32(remoteIndex)
        finish.append(c3)
        let t = HandshakeCrypto.sessionKeys(dh: dh, h3: h3, c3: c3, responder: peer, initiator: local.publicKey)
        done = true
        Sodium.wipe(&ephemeralSecret)
        let keys = SessionKeys(peer: peer, localIndex: localIndex, remoteIndex: remoteIndex,
                               sendKey: t.i2r, receiveKey: t.r2i, isInitiator: true, cipher: cipher, features: features)
        return (finish.bytes, keys)
    }
}

public enum HandshakeResponder {
    /// Answers msg1. Costs one X25519 key generation, one X25519 and one signature, which is
    /// why callers rate-limit inits before calling this.
    public static func respond(toInit body: some Collection<UInt8>, local: NodeIdentity, localIndex: UInt32,
                               domain: String, ciphers: TransportCiphers = .hardwareSupported, features: HandshakeFeatures = [])
        throws(HandshakeError) -> (pending: PendingResponder, response: [UInt8]) {
        let msg = Array(body)
        guard msg.count == HandshakeMessages.initLength else { throw .malformed }
        guard msg[0] == HandshakeMessages.version else { throw .unsupportedVersion(msg[0]) }
        guard msg[HandshakeMessages.unpaddedInitLength...].allSatisfy({ $0 == 0 }) else { throw .malformed }
        let remoteIndex = BigEndian.u32(msg, at: 1)
        let eI = Array(msg[5..<37])
        guard let cipher = ciphers.choose(offered: TransportCiphers(rawValue: msg[37])) else { throw .noCommonCipher }
        let agreed = features.intersection(HandshakeFeatures(rawValue: msg[37]))
        var eph = Sodium.x25519Keypair()
        defer { Sodium.wipe(&eph.secret) }
        guard var dh = Sodium.x25519(secret: eph.secret, peer: eI), !dh.allSatisfy({ $0 == 0 }) else { throw .weakEphemeral }
        let h1 = HandshakeCrypto.mix(HandshakeCrypto.initialHash(domain: domain), msg)
        var head = ByteWriter(capacity: HandshakeMessages.responseLength)
        head.u32(localIndex)
        head.u32(remoteIndex)
        head.u8(cipher.rawValue | agreed.rawValue)
        head.append(eph.publicKey)
        let h2 = HandshakeCrypto.mix(h1, head.bytes)
        let sigR = local.sign(HandshakeCrypto.responderSignatureLabel + h2)
        var k1 = HandshakeCrypto.derive(dh, "k1", h2)
        defer { Sodium.wipe(&k1) }
        let c2 = HandshakeCrypto.sealIdentity(key: k1, ad: h2, publicKey: local.publicKey, signature: sigR)
        let h3 = HandshakeCrypto.mix(h2, c2)
        let pending = PendingResponder(local: local.publicKey, localIndex: localIndex, remoteIndex: remoteIndex, dh: dh, h3: h3,
                                       cipher: cipher, features: agreed)
        Sodium.wipe(&dh)
        head.append(c2)
        return (pending, head.bytes)
    }
}

/// A responder waiting for msg3. Holds the DH result, so callers bound how many they keep
/// and for how long.
public final class PendingResponder {
    public let localIndex: UInt32
    public let remoteIndex: UInt32
    private let local: PublicKey
    private var dh: [UInt8]
    private let h3: [UInt8]
    public let cipher: TransportCipher
    public let features: HandshakeFeatures
    public private(set) var completed = false

    init(local: PublicKey, localIndex: UInt32, remoteIndex: UInt32, dh: [UInt8], h3: [UInt8], cipher: TransportCipher,
         features: HandshakeFeatures = []) {
        self.cipher = cipher
        self.features = features
        self.local = local
        self.localIndex = localIndex
        self.remoteIndex = remoteIndex
        self.dh = dh
        self.h3 = h3
    }

    deinit { Sodium.wipe(&dh) }

    /// Verifies msg3. A failure leaves the state usable (a forged msg3 cannot cancel the
    /// genuine one); success consumes it, so a replayed msg3 fails with `.alreadyDone`.
    public func handleFinish(_ body: some Collection<UInt8>,
                             isAllowed: (PublicKey) -> Bool = { _ in true }) throws(HandshakeError) -> SessionKeys {
        guard !completed else { throw .alreadyDone }
        let msg = Array(body)
        guard msg.count == HandshakeMessages.finishLength, BigEndian.u32(msg, at: 0) == localIndex else { throw .malformed }
        let c3 = Array(msg[4...])
        var k2 = HandshakeCrypto.derive(dh, "k2", h3)
        defer { Sodium.wipe(&k2) }
        guard let (peer, sigI) = HandshakeCrypto.openIdentity(key: k2, ad: h3, sealed: c3) else { throw .authenticationFailed }
        guard peer.verify(signature: sigI, message: HandshakeCrypto.initiatorSignatureLabel + h3) else { throw .badSignature }
        if peer == local { throw .selfConnection }
        guard isAllowed(peer) else { throw .notAllowed(peer) }
        let t = HandshakeCrypto.sessionKeys(dh: dh, h3: h3, c3: c3, responder: local, initiator: peer)
        completed = true
        Sodium.wipe(&dh)
        return SessionKeys(peer: peer, localIndex: localIndex, remoteIndex: remoteIndex,
                           sendKey: t.r2i, receiveKey: t.i2r, isInitiator: false, cipher: cipher, features: features)
    }
}
