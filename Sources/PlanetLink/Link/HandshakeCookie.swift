import PlanetCore

// Return-routability cookies for link handshake inits (Docs/protocol.md, "Cookies under load").
//
// An init costs the responder an X25519 key generation, an X25519 and a signature, and its
// source address is not proven: rate limits alone let a flood from forged addresses spend the
// global budget and lock honest new peers out. So while the responder is busy it answers an
// init that carries no valid cookie with a cookie reply instead of msg2, and does no other
// work and keeps no state for it. The cookie is a MAC over the source address and port under
// a secret only the responder knows, so only a host that receives traffic at that address can
// echo it, and the responder can check it again with one keyed hash.
//
// msg1 carries the cookie in 16 bytes of its padding (offset 38 of the body); zero means none.
// Both sides hash msg1 into the transcript with that field zeroed, so the cookie is not part
// of the handshake proper and a retry can add one without a new ephemeral key.

enum HandshakeCookie {
    /// Bytes of a cookie (BLAKE2b-128): guessing one takes 2^128 tries.
    static let length = 16
    /// Where the cookie lies in msg1's body: the first bytes of what used to be all padding.
    static let rangeInInit = HandshakeMessages.unpaddedInitLength..<(HandshakeMessages.unpaddedInitLength + length)
    /// A cookie reply: type 1, receiverIndex_I 4, cookie 16, tag 16.
    static let replyLength = 1 + 4 + length + 16
    static let replyTagLabel = Array("planetary cookie reply\u{0}".utf8)
    /// msg1's bytes the reply's tag covers: version, senderIndex_I and eI (the ephemeral key
    /// is fresh per attempt and only its sender and the responder have seen it).
    static let taggedInitPrefix = 0..<37

    /// The tag that binds a reply to the init it answers, keyed with the cookie: an off-path
    /// host that never saw the init (its eI) cannot make the initiator take a cookie.
    static func replyTag(cookie: some Collection<UInt8>, initBody: some Collection<UInt8>) -> [UInt8] {
        let prefix = Array(initBody.prefix(taggedInitPrefix.upperBound))
        return Sodium.blake2b([replyTagLabel, prefix], key: Array(cookie), outputLength: 16)
    }

    /// `[0x07] receiverIndex_I ‖ cookie ‖ tag`: 37 bytes, far less than the 154-byte init it
    /// answers, so a forged init cannot turn the responder into an amplifier.
    static func reply(cookie: [UInt8], initBody: some Collection<UInt8>) -> [UInt8] {
        var out = ByteWriter(capacity: replyLength)
        out.u8(LinkFrameType.cookieReply.rawValue)
        out.u32(BigEndian.u32(Array(initBody.prefix(5)), at: 1))
        out.append(cookie)
        out.append(replyTag(cookie: cookie, initBody: initBody))
        return out.bytes
    }

    /// A reply's fields, or nil when its length is wrong.
    static func parseReply(_ datagram: [UInt8]) -> (receiverIndex: UInt32, cookie: [UInt8], tag: [UInt8])? {
        guard datagram.count == replyLength else { return nil }
        return (BigEndian.u32(datagram, at: 1), Array(datagram[5..<(5 + length)]), Array(datagram[(5 + length)...]))
    }
}

/// The responder's side: makes and checks cookies under a secret that rotates, so a cookie
/// stays good for one to two rotation periods and a leaked one soon stops working.
struct CookieIssuer {
    private var secret: [UInt8]
    private var previous: [UInt8]
    private var rotatedAt: Instant

    init(now: Instant) {
        // From libsodium, not the node's SplitMix64: a predictable secret would let anyone
        // compute cookies for addresses it cannot receive at.
        secret = Sodium.randomBytes(32)
        previous = Sodium.randomBytes(32)
        rotatedAt = now
    }

    mutating func rotateIfDue(now: Instant) {
        guard now.seconds(since: rotatedAt) >= LinkConstants.cookieSecretLifetime else { return }
        Sodium.wipe(&previous)
        previous = secret
        secret = Sodium.randomBytes(32)
        rotatedAt = now
    }

    func cookie(for source: Endpoint) -> [UInt8] { Self.mac(secret, source) }

    /// Whether `cookie` is the one this responder gave `source` under the current or the
    /// previous secret (compared in constant time).
    func isValid(_ cookie: [UInt8], for source: Endpoint) -> Bool {
        Sodium.equal(cookie, Self.mac(secret, source)) || Sodium.equal(cookie, Self.mac(previous, source))
    }

    private static func mac(_ key: [UInt8], _ source: Endpoint) -> [UInt8] {
        Sodium.blake2b([source.address.bytes, [UInt8(source.port >> 8), UInt8(source.port & 0xff)]], key: key,
                       outputLength: HandshakeCookie.length)
    }
}

/// The initiator's side: cookies received, by the endpoint they were issued for, so every
/// init to a busy responder carries one (retries and new attempts alike) while it is fresh.
struct CookieJar {
    private var cookies: [Endpoint: (cookie: [UInt8], receivedAt: Instant)] = [:]

    var count: Int { cookies.count }

    func cookie(for endpoint: Endpoint, now: Instant) -> [UInt8]? {
        guard let entry = cookies[endpoint], now.seconds(since: entry.receivedAt) < LinkConstants.cookieLifetime else { return nil }
        return entry.cookie
    }

    /// Only cookies whose reply matched one of our own inits get here, so the table grows
    /// only with the endpoints we dial; it is still bounded (expired entries go first).
    mutating func store(_ cookie: [UInt8], for endpoint: Endpoint, now: Instant) {
        if cookies[endpoint] == nil, cookies.count >= LinkConstants.maxStoredCookies {
            cookies = cookies.filter { now.seconds(since: $0.value.receivedAt) < LinkConstants.cookieLifetime }
            if cookies.count >= LinkConstants.maxStoredCookies { cookies.remove(at: cookies.startIndex) }
        }
        cookies[endpoint] = (cookie, now)
    }
}
