import PlanetCore

/// Why an Yggdrasil 0.5 link ended: what `YggdrasilLink` reports in `.closed`, with enough detail
/// to log (`description`) and a code to count (`code`, one counter per reason).
public enum YggdrasilLinkClose: Error, Equatable, Sendable, CustomStringConvertible {
    /// No complete meta handshake within 6 s of the connection (yggdrasil's handshake deadline).
    case handshakeTimeout
    /// The peer's handshake failed to decode or check: not yggdrasil, another version, another
    /// password, malformed.
    case handshake(YggdrasilMeta.HandshakeError)
    /// Our URI pinned keys with `?key=` and the peer's handshake carried none of them.
    case pinMismatch(PublicKey)
    /// An inbound peer whose key is not in a non-empty `allowedPublicKeys`.
    case notAllowed(PublicKey)
    /// The peer carries our own key: we dialled ourselves (ironwood refuses it as ErrBadKey).
    case ownKey
    /// A frame the decoder refused (oversize, empty, unknown type, bad length): ironwood closes
    /// the link on the first one, because a length-prefixed stream cannot resynchronise.
    case frame(IronwoodFrameDecoder.FrameError)
    /// We sent something that wants an answer and heard nothing for 3 s (ironwood's peerTimeout).
    case readTimeout
    /// The other side closed the stream (or the transport lost it: reset, TLS failure).
    case remoteClosed(String)
    /// We closed it: peer removed, daemon stopping, the owner's own decision.
    case local(String)

    public var code: Code {
        switch self {
        case .handshakeTimeout: return .handshakeTimeout
        case .handshake(let e):
            switch e {
            case .incompatibleVersion: return .versionMismatch
            case .passwordMismatch: return .passwordMismatch
            case .passwordTooLong: return .passwordMismatch
            case .notYggdrasil: return .notYggdrasil
            case .lengthTooShort, .malformedTLV, .missingPublicKey: return .malformedHandshake
            }
        case .pinMismatch: return .keyPinMismatch
        case .notAllowed: return .keyNotAllowed
        case .ownKey: return .ownKey
        case .frame(let e):
            switch e {
            case .oversize: return .frameOversize
            case .empty, .badLength, .unknownType: return .frameMalformed
            }
        case .readTimeout: return .readTimeout
        case .remoteClosed: return .remoteClosed
        case .local: return .local
        }
    }

    /// The counters' names: `planetctl stats` shows them as `yggdrasil-link-<name>`.
    public enum Code: String, DropReasonCode {
        case handshakeTimeout = "handshake-timeout"
        case notYggdrasil = "not-yggdrasil"
        case malformedHandshake = "malformed-handshake"
        case versionMismatch = "version-mismatch"
        case passwordMismatch = "password-mismatch"
        case keyPinMismatch = "key-pin-mismatch"
        case keyNotAllowed = "key-not-allowed"
        case ownKey = "own-key"
        case frameOversize = "frame-oversize"
        case frameMalformed = "frame-malformed"
        case readTimeout = "read-timeout"
        case remoteClosed = "remote-closed"
        case local = "closed-locally"

        public var reportName: String { rawValue }
    }

    public var description: String {
        switch self {
        case .handshakeTimeout: return "no handshake within \(Int(YggdrasilLink.handshakeTimeout)) s"
        case .handshake(let e): return e.description
        case .pinMismatch(let k): return "peer key \(k.hex) does not match the key pinned with ?key="
        case .notAllowed(let k): return "peer key \(k.hex) is not in allowedPublicKeys"
        case .ownKey: return "the peer has our own key (a connection to ourselves)"
        case .frame(let e): return e.description
        case .readTimeout: return "no answer within \(Int(YggdrasilLink.peerTimeout)) s of sending"
        case .remoteClosed(let why): return "closed by the remote side" + (why.isEmpty ? "" : ": \(why)")
        case .local(let why): return "closed locally" + (why.isEmpty ? "" : ": \(why)")
        }
    }
}
