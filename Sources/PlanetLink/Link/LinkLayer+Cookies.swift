import PlanetCore

// The link layer's use of return-routability cookies (HandshakeCookie): the responder asks
// for them while busy, the initiator echoes them. Docs/protocol.md, "Cookies under load".

extension LinkLayer {
    /// Whether inits must prove their source address: the global init budget is more than
    /// half spent, which a quiet node never sees and a flood reaches within a second.
    func requiresCookie(now: Instant) -> Bool {
        globalInits.available(at: now) < config.initBurstGlobal * LinkConstants.cookieLoadFraction
    }

    /// The init's body to hand to the responder, with the cookie field zeroed as the
    /// transcript wants it; nil, counted, if the init is refused here. Under load an init
    /// without a valid cookie for its source gets a cookie reply: one keyed hash and 37 bytes
    /// out, no state, no Diffie-Hellman, no signature.
    func admitInit(_ datagram: [UInt8], from source: Endpoint, now: Instant) -> [UInt8]? {
        var body = Array(datagram[1...])
        let presented = Array(body[HandshakeCookie.rangeInInit])
        if requiresCookie(now: now) {
            // Cheap checks first, so garbage is not answered at all.
            guard body[0] == HandshakeMessages.version,
                  body[HandshakeCookie.rangeInInit.upperBound...].allSatisfy({ $0 == 0 }) else {
                stats.count(.handshakeMalformed)
                return nil
            }
            cookieIssuer.rotateIfDue(now: now)
            // A flood mostly carries no cookie at all: that is refused without computing the
            // two MACs a check would cost, so each forged init costs two keyed hashes (the
            // cookie and the reply's tag) and no more.
            let none = presented.allSatisfy { $0 == 0 }
            guard !none, cookieIssuer.isValid(presented, for: source) else {
                stats.count(none ? .cookieRequired : .cookieInvalid)
                stats.cookieRepliesSent &+= 1
                transmit(HandshakeCookie.reply(cookie: cookieIssuer.cookie(for: source), initBody: body), to: source)
                return nil
            }
        }
        // A quiet responder ignores any cookie: the field is not part of the transcript.
        body.replaceSubrange(HandshakeCookie.rangeInInit, with: repeatElement(0, count: HandshakeCookie.length))
        return body
    }

    /// msg1 for `handshake` toward `endpoint`, carrying the cookie that endpoint gave us if
    /// we hold a fresh one.
    func initDatagram(_ handshake: HandshakeInitiator, to endpoint: Endpoint, now: Instant) -> [UInt8] {
        var out: [UInt8] = [LinkFrameType.handshakeInit.rawValue]
        out.append(contentsOf: handshake.initMessage())
        if let cookie = cookieJar.cookie(for: endpoint, now: now) {
            out.replaceSubrange((HandshakeCookie.rangeInInit.lowerBound + 1)..<(HandshakeCookie.rangeInInit.upperBound + 1),
                                with: cookie)
        }
        return out
    }

    /// A busy responder answered one of our inits with a cookie: keep it for that endpoint and
    /// send the same init again with it at once (same index, same ephemeral key), so a link to
    /// a node under a flood costs one extra round trip, not a retry period.
    func receiveCookieReply(_ datagram: [UInt8], now: Instant) {
        guard let (index, cookie, tag) = HandshakeCookie.parseReply(datagram) else { stats.count(.cookieReplyMalformed); return }
        guard case .initiating(let attempt)? = indices[index] else { stats.count(.staleCookieReply); return }
        let body = attempt.handshake.initMessage()
        guard Sodium.equal(tag, HandshakeCookie.replyTag(cookie: cookie, initBody: body)) else {
            stats.count(.cookieReplyForged)
            return
        }
        // The same cookie again (a duplicate or replayed reply) sends nothing: our init already
        // carried it, so only a new cookie (the responder's secret rotated) is worth a resend.
        if let held = cookieJar.cookie(for: attempt.endpoint, now: now), Sodium.equal(held, cookie) { return }
        stats.cookiesAccepted &+= 1
        cookieJar.store(cookie, for: attempt.endpoint, now: now)
        transmit(initDatagram(attempt.handshake, to: attempt.endpoint, now: now), to: attempt.endpoint)
    }
}
