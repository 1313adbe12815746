import PlanetCore

/// Why a received datagram (or a send request) was dropped. Every drop is counted by reason.
public enum LinkDropReason: Int, DropReasonCode, CustomStringConvertible {
    case empty, unknownType, tooShort
    case unknownIndex, authenticationFailed, replayed, expiredKeypair
    case handshakeMalformed, handshakeAuthFailed, peerKeyMismatch, notAllowed, selfConnection, noCommonCipher
    case staleResponse, staleFinish, rateLimitedSource, rateLimitedGlobal, peerLimit, pendingEvicted
    case unknownInnerFrame, malformedInnerFrame
    case cookieRequired, cookieInvalid, cookieReplyMalformed, cookieReplyForged, staleCookieReply
    case beaconMalformed, beaconForged, beaconReplayed, beaconRateLimited, ownBeacon
    case sendNoLink, sendExhausted

    /// As `planetctl stats` shows it, after `link-`: the description with dashes.
    public var reportName: String { description.replacingOccurrences(of: "_", with: "-") }

    public var description: String {
        switch self {
        case .empty: return "empty"
        case .unknownType: return "unknown_type"
        case .tooShort: return "too_short"
        case .unknownIndex: return "unknown_index"
        case .authenticationFailed: return "auth_failed"
        case .replayed: return "replayed"
        case .expiredKeypair: return "expired_keypair"
        case .handshakeMalformed: return "handshake_malformed"
        case .handshakeAuthFailed: return "handshake_auth_failed"
        case .peerKeyMismatch: return "peer_key_mismatch"
        case .notAllowed: return "not_allowed"
        case .selfConnection: return "self_connection"
        case .noCommonCipher: return "no_common_cipher"
        case .staleResponse: return "stale_response"
        case .staleFinish: return "stale_finish"
        case .rateLimitedSource: return "rate_limited_source"
        case .rateLimitedGlobal: return "rate_limited_global"
        case .peerLimit: return "peer_limit"
        case .pendingEvicted: return "pending_evicted"
        case .unknownInnerFrame: return "unknown_inner_frame"
        case .malformedInnerFrame: return "malformed_inner_frame"
        case .cookieRequired: return "cookie_required"
        case .cookieInvalid: return "cookie_invalid"
        case .cookieReplyMalformed: return "cookie_reply_malformed"
        case .cookieReplyForged: return "cookie_reply_forged"
        case .staleCookieReply: return "stale_cookie_reply"
        case .beaconMalformed: return "beacon_malformed"
        case .beaconForged: return "beacon_forged"
        case .beaconReplayed: return "beacon_replayed"
        case .beaconRateLimited: return "beacon_rate_limited"
        case .ownBeacon: return "own_beacon"
        case .sendNoLink: return "send_no_link"
        case .sendExhausted: return "send_exhausted"
        }
    }
}

/// Counters for the whole link layer (per-peer traffic is in `LinkPeerInfo`).
public struct LinkStats: Sendable {
    public private(set) var drops = DropCounters<LinkDropReason>()
    public var rxPackets: UInt64 = 0, rxBytes: UInt64 = 0
    public var txPackets: UInt64 = 0, txBytes: UInt64 = 0
    public var handshakesCompleted: UInt64 = 0
    public var handshakesFailed: UInt64 = 0
    public var beaconsAccepted: UInt64 = 0
    /// Hole-punching inits sent (each retry counts) and links that punching made.
    public var punchInitsSent: UInt64 = 0
    public var punchedLinks: UInt64 = 0
    /// Cookie replies this node sent as a busy responder, and cookies it took as an initiator.
    public var cookieRepliesSent: UInt64 = 0
    public var cookiesAccepted: UInt64 = 0

    public init() {}

    public subscript(reason: LinkDropReason) -> UInt64 { drops[reason] }

    @inline(__always) mutating func count(_ reason: LinkDropReason) { drops.count(reason) }

    public var totalDrops: UInt64 { drops.total }
}
