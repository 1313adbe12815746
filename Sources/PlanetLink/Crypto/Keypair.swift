import CPlanetCrypto
import CSodium
import PlanetCore

/// One direction pair of transport keys agreed by a handshake, with its send counter and
/// receive replay window. Seals and opens frames of the form
///
///     [type u8][receiverIndex u32 BE][counter u64 BE][ciphertext][tag 16]
///
/// where the 13-byte header is the AEAD's associated data and the nonce is
/// 4 zero bytes ‖ counter (u64 little-endian) (AEGIS-256's 32-byte nonce: the same 12 bytes
/// and 20 zero bytes). The AEAD is ChaCha20-Poly1305-IETF, AES-256-GCM or AEGIS-256,
/// whichever the handshake picked (`TransportCipher`).
/// Used by the link layer and, with its own type byte, by end-to-end sessions.
public final class Keypair {
    public static let headerLength = 13
    public static let tagLength = 16
    /// Bytes a sealed frame adds to its plaintext.
    public static let overhead = headerLength + tagLength

    public let peer: PublicKey
    /// Index the peer puts in frames it sends us (ours); selects this keypair on receipt.
    public let localIndex: UInt32
    /// Index we put in frames we send (the peer's).
    public let remoteIndex: UInt32
    public let isInitiator: Bool
    public let createdAt: Instant
    public let cipher: TransportCipher
    /// Both ends agreed in the handshake that relayed data may travel in tag-bound frames
    /// (0x08): the link authenticates the end-to-end tag instead of the whole ciphertext.
    public let tagBoundPayload: Bool
    /// Sealing counts it up; besides that only tests set it (package access), to jump near
    /// exhaustion instead of sending 2⁶⁴ messages.
    public package(set) var sendCounter: UInt64
    public private(set) var replay = ReplayWindow()
    var sendKey: [UInt8]
    private var receiveKey: [UInt8]
    /// AES-GCM's expanded keys, computed once per keypair instead of once per packet.
    private let sendState: AESGCMState?
    private let receiveState: AESGCMState?

    public enum OpenResult: Equatable {
        /// Authentic and fresh; the plaintext is at `headerLength ..< headerLength + length`.
        case ok(length: Int)
        case tooShort
        case replayed
        case authenticationFailed
        case expired
    }

    public convenience init(keys: SessionKeys, createdAt: Instant) {
        self.init(keys: keys, createdAt: createdAt, sendCounter: 0)
    }

    /// `sendCounter` lets tests start near exhaustion.
    init(keys: SessionKeys, createdAt: Instant, sendCounter: UInt64) {
        peer = keys.peer
        localIndex = keys.localIndex
        remoteIndex = keys.remoteIndex
        isInitiator = keys.isInitiator
        sendKey = keys.sendKey
        receiveKey = keys.receiveKey
        cipher = keys.cipher
        tagBoundPayload = keys.features.contains(.tagBoundPayload)
        if keys.cipher == .aes256Gcm {
            sendState = AESGCMState(key: keys.sendKey)
            receiveState = AESGCMState(key: keys.receiveKey)
        } else {
            sendState = nil
            receiveState = nil
        }
        self.createdAt = createdAt
        self.sendCounter = sendCounter
    }

    deinit {
        Sodium.wipe(&sendKey)
        Sodium.wipe(&receiveKey)
    }

    /// Seconds since the handshake that made this keypair.
    public func age(at now: Instant) -> Double { now.seconds(since: createdAt) }
    /// Past `rejectAfterTime`: must not be used in either direction.
    public func isExpired(at now: Instant) -> Bool { age(at: now) >= LinkConstants.rejectAfterTime }
    /// Enough messages sent that the initiator should rekey.
    public var wantsRekeyByCount: Bool { sendCounter >= LinkConstants.rekeyAfterMessages }
    public var isExhausted: Bool { sendCounter >= LinkConstants.rejectAfterMessages }

    /// Seals without copying: `buffer` holds 13 bytes of room for the header (overwritten),
    /// `length` bytes of plaintext, and 16 bytes (at least) for the tag. False, writing nothing,
    /// once the counter is exhausted: a nonce must never repeat. The one way a frame is sealed.
    ///
    /// With `encryptedPrefix` n, only the plaintext's first n bytes are encrypted and the rest
    /// is authenticated as associated data (Docs/protocol.md, "transport frame, sealed payload"):
    /// for payloads already sealed end to end. The 13-byte header is then bound by what it
    /// selects instead of by the associated data: the index selects the key, and the type byte
    /// and counter make the nonce.
    @discardableResult
    public func sealInPlace(type: UInt8, buffer: UnsafeMutableRawBufferPointer, length: Int, encryptedPrefix: Int? = nil,
                            authenticatedSuffix: Int? = nil) -> Bool {
        guard sendCounter < LinkConstants.rejectAfterMessages, length >= 0,
              buffer.count >= Keypair.overhead + length else { return false }
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard let (encrypted, ad, adLength) = Keypair.split(base, length: length, encryptedPrefix: encryptedPrefix,
                                                            authenticatedSuffix: authenticatedSuffix) else { return false }
        let counter = sendCounter
        sendCounter += 1
        let remote = remoteIndex
        base[0] = type
        for i in 0..<4 { base[1 + i] = UInt8(truncatingIfNeeded: remote >> UInt32(24 - 8 * i)) }
        for i in 0..<8 { base[5 + i] = UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * i)) }
        let message = base + Keypair.headerLength
        withNonce(counter, modeByte: encryptedPrefix == nil ? 0 : type) { nonce in
            if cipher == .aegis256 {
                sendKey.withUnsafeBufferPointer { key in
                    planet_aegis256_encrypt(message, message + length, message, encrypted, ad, adLength, nonce, key.baseAddress!)
                }
            } else if let state = sendState {
                _ = crypto_aead_aes256gcm_encrypt_detached_afternm(
                    message, message + length, nil, message, UInt64(encrypted),
                    ad, UInt64(adLength), nil, nonce, state.pointer)
            } else {
                sendKey.withUnsafeBufferPointer { key in
                    _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                        message, message + length, nil, message, UInt64(encrypted),
                        ad, UInt64(adLength), nil, nonce, key.baseAddress!)
                }
            }
        }
        return true
    }

    /// Reads the receiver index and counter of a sealed frame (nil if it is too short).
    @inline(__always)
    public static func header(of frame: UnsafeRawBufferPointer) -> (receiverIndex: UInt32, counter: UInt64)? {
        guard frame.count >= overhead else { return nil }
        return (BigEndian.u32(frame, at: 1), BigEndian.u64(frame, at: 5))
    }

    /// Which bytes the AEAD encrypts and which it only authenticates: normally the whole
    /// plaintext is encrypted and the header is the associated data; with a prefix, the
    /// prefix is encrypted and the rest of the plaintext is the associated data.
    /// With `authenticatedSuffix` s as well (tag-bound frames), only the plaintext's last s
    /// bytes are the associated data and the bytes between prefix and suffix are neither
    /// encrypted nor authenticated here: they are end-to-end ciphertext whose own tag is those
    /// last bytes. nil when the plaintext is too short to hold prefix and suffix apart.
    @inline(__always)
    private static func split(_ base: UnsafeMutablePointer<UInt8>, length: Int, encryptedPrefix: Int?, authenticatedSuffix: Int?)
        -> (encrypted: Int, ad: UnsafeMutablePointer<UInt8>, adLength: Int)? {
        guard let prefix = encryptedPrefix else { return (length, base, headerLength) }
        if let suffix = authenticatedSuffix {
            guard prefix >= 0, suffix >= 0, length >= prefix + suffix else { return nil }
            return (prefix, base + headerLength + length - suffix, suffix)
        }
        let n = min(max(prefix, 0), length)
        return (n, base + headerLength + n, length - n)
    }

    /// Authenticates and decrypts a whole frame (header included) in place. On success the
    /// counter is recorded in the replay window; on any failure the window does not change and
    /// the frame holds no unauthenticated plaintext (AEGIS-256 restores the bytes that came,
    /// libsodium's AES-GCM zeroes them); callers drop it either way.
    /// `encryptedPrefix` must be what the sender sealed with (the frame type says which).
    public func open(frame: UnsafeMutableRawBufferPointer, now: Instant, encryptedPrefix: Int? = nil,
                     authenticatedSuffix: Int? = nil) -> OpenResult {
        guard let (index, counter) = Keypair.header(of: UnsafeRawBufferPointer(frame)) else { return .tooShort }
        // Callers find the keypair by this index; checking it here too binds it in sealed-payload
        // mode, where the header is not associated data.
        guard index == localIndex else { return .authenticationFailed }
        if isExpired(at: now) { return .expired }
        guard replay.mayAccept(counter) else { return .replayed }
        let length = frame.count - Keypair.overhead
        let base = frame.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let message = base + Keypair.headerLength
        guard let (encrypted, ad, adLength) = Keypair.split(base, length: length, encryptedPrefix: encryptedPrefix,
                                                            authenticatedSuffix: authenticatedSuffix) else { return .tooShort }
        let status = withNonce(counter, modeByte: encryptedPrefix == nil ? 0 : base[0]) { nonce in
            if cipher == .aegis256 {
                // Puts the ciphertext back when the tag fails: no unauthenticated plaintext is left.
                return receiveKey.withUnsafeBufferPointer { key in
                    planet_aegis256_decrypt(message, message, encrypted, message + length, ad, adLength, nonce, key.baseAddress!)
                }
            }
            if let state = receiveState {
                return crypto_aead_aes256gcm_decrypt_detached_afternm(
                    message, nil, message, UInt64(encrypted), message + length,
                    ad, UInt64(adLength), nonce, state.pointer)
            }
            return receiveKey.withUnsafeBufferPointer { key in
                crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                    message, nil, message, UInt64(encrypted), message + length,
                    ad, UInt64(adLength), nonce, key.baseAddress!)
            }
        }
        guard status == 0 else { return .authenticationFailed }
        replay.record(counter)
        return .ok(length: length)
    }

    /// The nonce: `modeByte` and 3 zero bytes, then the counter little-endian, on the stack,
    /// followed by 20 zero bytes that only AEGIS-256 (32-byte nonces) reads.
    /// `modeByte` is 0 for ordinary frames and the frame type for sealed-payload frames, which
    /// binds the type byte (not associated data in that mode). Counters never repeat within a
    /// keypair in either mode, so nonces stay unique.
    @inline(__always)
    private func withNonce<R>(_ counter: UInt64, modeByte: UInt8, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buf in
            buf[0] = modeByte
            for i in 1..<4 { buf[i] = 0 }
            for i in 0..<8 { buf[4 + i] = UInt8(truncatingIfNeeded: counter >> UInt64(8 * i)) }
            for i in 12..<32 { buf[i] = 0 }
            return body(UnsafePointer(buf.baseAddress!))
        }
    }
}
