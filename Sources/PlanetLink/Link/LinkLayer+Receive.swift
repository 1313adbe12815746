import PlanetCore

extension LinkLayer {
    /// One UDP datagram from the underlay (unicast or multicast beacon). Pass the array as its
    /// last use: it is decrypted in place and upper-layer frames are handed up as slices of it
    /// (`LinkEvent.frame`). The same transport path as `receive(inPlace:)`: this entry only
    /// owns the buffer instead of borrowing it.
    package func receive(datagram: consuming [UInt8], from source: Endpoint, now: Instant) {
        var datagram = datagram
        guard let type = datagram.first else { stats.count(.empty); return }
        switch LinkFrameType(rawValue: type) {
        case .transport, .transportSealedPayload, .transportTagBound:
            guard let (range, peer) = datagram.withUnsafeMutableBytes({ openUpperFrame($0, from: source, now: now) }) else { return }
            events.append(.frame(datagram[range], from: peer))
        case .handshakeInit: receiveInit(datagram, from: source, now: now)
        case .handshakeResponse: receiveResponse(datagram, from: source, now: now)
        case .handshakeFinish: receiveFinish(datagram, from: source, now: now)
        case .beacon: receiveBeacon(datagram, from: source, now: now)
        case .cookieReply: receiveCookieReply(datagram, now: now)
        case nil: stats.count(.unknownType)
        }
    }

    // MARK: Transport

    /// Receives a datagram where it lies, in the caller's writable buffer (a runtime receive
    /// slot). A transport frame (0x04 or 0x06) is opened in place and its upper-layer frame
    /// returned where it now lies, 13 bytes into `buffer`, with the old tag's 16 bytes after it:
    /// exactly the room `forward(inPlace:)` needs to seal it for the next link without a copy.
    /// Handshakes and beacons take the ordinary path (copied, events) and nil is returned.
    public func receive(inPlace buffer: UnsafeMutableRawBufferPointer, from source: Endpoint, now: Instant)
        -> (frame: UnsafeMutableRawBufferPointer, peer: PublicKey)? {
        switch buffer.first.flatMap(LinkFrameType.init(rawValue:)) {
        case .transport, .transportSealedPayload, .transportTagBound:
            guard let (range, peer) = openUpperFrame(buffer, from: source, now: now) else { return nil }
            return (UnsafeMutableRawBufferPointer(rebasing: buffer[range]), peer)
        default:
            receive(datagram: Array(buffer), from: source, now: now)
            return nil
        }
    }

    /// Opens a transport frame (0x04, or 0x06 / 0x08 with its sealed payload) in place. The
    /// link's own inner frames (keepalive, ping, pong) are consumed here; for an upper-layer
    /// frame, its range within `buffer` and the peer it came from. nil for anything else (counted).
    func openUpperFrame(_ buffer: UnsafeMutableRawBufferPointer, from source: Endpoint, now: Instant) -> (Range<Int>, PublicKey)? {
        let frameType = buffer[0]
        let prefix = frameType == LinkFrameType.transport.rawValue ? nil : LinkConstants.sealedPayloadEncryptedPrefix
        let suffix = frameType == LinkFrameType.transportTagBound.rawValue ? LinkConstants.tagBoundAuthenticatedSuffix : nil
        guard let (peer, length) = openTransport(buffer, from: source, now: now, encryptedPrefix: prefix,
                                                 authenticatedSuffix: suffix) else { return nil }
        let range = Keypair.headerLength..<(Keypair.headerLength + length)
        let type = buffer[range.lowerBound]
        if type >= LinkInnerFrameType.firstUpperLayerType {
            if type >= LinkInnerFrameType.firstDataPlaneType { peer.lastDataFrameAt = now }
            return (range, peer.key)
        }
        receiveLinkInner(UnsafeRawBufferPointer(rebasing: buffer[range]), peer: peer, now: now)
        return nil
    }

    /// Authenticates and decrypts a transport frame in place and does the link's bookkeeping
    /// (counters, liveness, keypair confirmation, roaming). nil, counted, when the frame is not
    /// fresh and authentic or carries no inner frame; otherwise the inner frame's length.
    func openTransport(_ datagram: UnsafeMutableRawBufferPointer, from source: Endpoint, now: Instant,
                       encryptedPrefix: Int?, authenticatedSuffix: Int? = nil) -> (LinkPeer, Int)? {
        guard let (index, _) = Keypair.header(of: UnsafeRawBufferPointer(datagram)) else { stats.count(.tooShort); return nil }
        guard case .keypair(let kp, let peer)? = indices[index] else { stats.count(.unknownIndex); return nil }
        // Tag-bound frames only on a keypair whose handshake agreed to them: a peer that did not
        // offer them gets its payloads authenticated whole, and cannot be talked out of it.
        if authenticatedSuffix != nil, !kp.tagBoundPayload { stats.count(.unknownType); return nil }
        let length: Int
        switch kp.open(frame: datagram, now: now, encryptedPrefix: encryptedPrefix, authenticatedSuffix: authenticatedSuffix) {
        case .ok(let n): length = n
        case .tooShort: stats.count(.tooShort); return nil
        case .replayed: stats.count(.replayed); return nil
        case .authenticationFailed: stats.count(.authenticationFailed); return nil
        case .expired: stats.count(.expiredKeypair); return nil
        }
        stats.rxPackets &+= 1
        stats.rxBytes &+= UInt64(datagram.count)
        peer.rxPackets &+= 1
        peer.rxBytes &+= UInt64(datagram.count)
        peer.lastReceived = now
        peer.sendingUnansweredSince = nil
        peer.upperSentUnansweredSince = nil
        if kp === peer.next { promoteNext(peer, now: now) }
        // Roaming: an authenticated packet proves the peer is now at this source.
        if peer.endpoint != source {
            logger.debug("peer roamed", [("peer", peer.key.short), ("endpoint", source.description)])
            setEndpoint(peer, source)
            // Its NAT may have given it a new mapping: tell it what we see now.
            if peer.isUp { sendObservedEndpoint(peer, now: now) }
        }
        guard length > 0 else { stats.count(.malformedInnerFrame); return nil }
        return (peer, length)
    }

    /// The link's own inner frames: keepalive, ping, pong.
    func receiveLinkInner(_ inner: UnsafeRawBufferPointer, peer: LinkPeer, now: Instant) {
        let length = inner.count
        switch LinkInnerFrameType(rawValue: inner[0]) {
        case .keepalive:
            if length != 1 { stats.count(.malformedInnerFrame) }
        case .ping:
            guard length == 9 else { stats.count(.malformedInnerFrame); return }
            var pong = Array(inner)
            pong[0] = LinkInnerFrameType.pong.rawValue
            sendInner(pong, peer: peer, now: now)
        case .observedEndpoint:
            receiveObservedEndpoint(inner, peer: peer)
        case .pong:
            guard length == 9 else { stats.count(.malformedInnerFrame); return }
            let id = BigEndian.u64(inner, at: 1)
            guard let ping = peer.outstandingPing, ping.id == id else { return }
            peer.outstandingPing = nil
            let sample = max(0, now.seconds(since: ping.sentAt))
            let srtt = peer.smoothedRTT.map { $0 + LinkConstants.rttSmoothing * (sample - $0) } ?? sample
            peer.smoothedRTT = srtt
            events.append(.rtt(peer.key, seconds: srtt))
        case nil:
            stats.count(.unknownInnerFrame)
        }
    }

    /// The initiator's new keypair is confirmed by the first packet the responder sealed with it.
    func promoteNext(_ peer: LinkPeer, now: Instant) {
        guard let next = peer.next else { return }
        removeIndex(of: peer.previous)
        peer.previous = peer.current
        peer.current = next
        peer.next = nil
        peerTimersChanged(peer)
        markUp(peer, inbound: false, now: now)
    }

    // MARK: Handshake messages

    func receiveInit(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        guard datagram.count == 1 + HandshakeMessages.initLength else { stats.count(.handshakeMalformed); return }
        // Under load, an unproven source address gets a cookie reply and nothing else, before
        // it can touch the per-source table or the global budget (HandshakeCookie).
        guard let body = admitInit(datagram, from: source, now: now) else { return }
        // Per source first, so one noisy source cannot spend the global budget.
        guard sourceLimiter.allow(source.address, now: now) else { stats.count(.rateLimitedSource); return }
        guard globalInits.take(now: now) else { stats.count(.rateLimitedGlobal); return }
        let index = newIndex()
        do throws(HandshakeError) {
            let (pending, response) = try HandshakeResponder.respond(toInit: body, local: identity,
                                                                     localIndex: index, domain: config.domain,
                                                                     ciphers: config.ciphers, features: config.features)
            while pendingCount >= config.maxPendingResponders { evictOldestPending(count: .pendingEvicted) }
            indices[index] = .responding(PendingEntry(state: pending, endpoint: source, createdAt: now))
            pendingOrder.append((index, now))
            pendingCount += 1
            otherDeadlineDirty = true
            var out: [UInt8] = []
            out.reserveCapacity(1 + response.count)
            out.append(LinkFrameType.handshakeResponse.rawValue)
            out.append(contentsOf: response)
            transmit(out, to: source)
        } catch {
            countHandshakeError(error)
        }
    }

    func receiveResponse(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        let body = datagram[1...]
        guard let index = HandshakeMessages.receiverIndex(ofResponse: body) else { stats.count(.handshakeMalformed); return }
        guard case .initiating(let attempt)? = indices[index] else { stats.count(.staleResponse); return }
        let finish: [UInt8]
        let keys: SessionKeys
        do throws(HandshakeError) {
            (finish, keys) = try attempt.handshake.handleResponse(body)
        } catch {
            countHandshakeError(error)
            switch error {
            case .peerKeyMismatch(let got):
                logger.warn("peer key mismatch, aborting handshake",
                            [("endpoint", source.description), ("expected", attempt.handshake.expectedPeer?.short ?? "-"), ("got", got.short)])
                abortAttempt(index, attempt, now: now)
            case .selfConnection:
                logger.info("handshake reached this node itself, aborting", [("endpoint", source.description)])
                abortAttempt(index, attempt, now: now)
            default:
                break // a forged or damaged msg2 must not cancel the genuine handshake
            }
            return
        }
        removeAttempt(index)
        stats.handshakesCompleted &+= 1
        guard let peer = peerForHandshake(keys.peer, endpoint: source, inbound: false, now: now) else {
            attemptFailed(attempt, now: now)
            return
        }
        setEndpoint(peer, source)
        let kp = Keypair(keys: keys, createdAt: now)
        removeIndex(of: peer.next)
        peer.next = kp
        indices[kp.localIndex] = .keypair(kp, peer)
        if peer.handshakeIndex == index { peer.handshakeIndex = nil }
        switch attempt.purpose {
        case .dial(let uri):
            if let dialer = dialers[uri] { dialer.state = .linked(keys.peer) }
            if peer.uri == nil { peer.uri = uri }
        case .beacon(let key): beaconDials.remove(key)
        case .punch:
            if !peer.isUp { markPunched(peer) }
        case .peer: break
        }
        peerTimersChanged(peer)
        var out: [UInt8] = []
        out.reserveCapacity(1 + finish.count)
        out.append(LinkFrameType.handshakeFinish.rawValue)
        out.append(contentsOf: finish)
        transmit(out, peer: peer, now: now)
    }

    func receiveFinish(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        let body = datagram[1...]
        guard let index = HandshakeMessages.receiverIndex(ofFinish: body) else { stats.count(.handshakeMalformed); return }
        guard case .responding(let entry)? = indices[index] else { stats.count(.staleFinish); return }
        let keys: SessionKeys
        do throws(HandshakeError) {
            keys = try entry.state.handleFinish(body, isAllowed: { self.isAllowedInbound($0) })
        } catch {
            countHandshakeError(error)
            switch error {
            case .notAllowed(let key):
                logger.info("refused inbound link: key not in allowedPublicKeys", [("peer", key.short), ("endpoint", source.description)])
                dropPending(index)
            case .selfConnection:
                dropPending(index)
            default:
                break
            }
            return
        }
        dropPending(index)
        stats.handshakesCompleted &+= 1
        guard let peer = peerForHandshake(keys.peer, endpoint: source, inbound: true, now: now) else { return }
        setEndpoint(peer, source)
        let kp = Keypair(keys: keys, createdAt: now)
        removeIndex(of: peer.previous)
        peer.previous = peer.current
        peer.current = kp
        indices[kp.localIndex] = .keypair(kp, peer)
        peer.lastReceived = now
        peer.sendingUnansweredSince = nil
        peer.upperSentUnansweredSince = nil
        peerTimersChanged(peer)
        // The peer's init answered our punching (both sides probe at once): a punched link too.
        if !peer.isUp, punchDials[keys.peer] != nil { markPunched(peer) }
        // Both sides dialed at once: the smaller key yields, so one handshake stops retrying.
        if let mine = peer.handshakeIndex, identity.publicKey < peer.key {
            removeAttempt(mine)
            peer.handshakeIndex = nil
        }
        markUp(peer, inbound: true, now: now)
        // Confirms the keypair to the initiator, which sends nothing on it until then.
        sendInner([LinkInnerFrameType.keepalive.rawValue], peer: peer, now: now)
    }

    func countHandshakeError(_ error: HandshakeError) {
        stats.handshakesFailed &+= 1
        switch error {
        case .malformed, .unsupportedVersion, .weakEphemeral: stats.count(.handshakeMalformed)
        case .authenticationFailed, .badSignature, .alreadyDone: stats.count(.handshakeAuthFailed)
        case .peerKeyMismatch: stats.count(.peerKeyMismatch)
        case .notAllowed: stats.count(.notAllowed)
        case .selfConnection: stats.count(.selfConnection)
        case .noCommonCipher: stats.count(.noCommonCipher)
        }
    }

    // MARK: Beacons

    func receiveBeacon(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        guard let (beacon, signature) = Beacon.parse(datagram) else { stats.count(.beaconMalformed); return }
        guard beacon.publicKey != identity.publicKey else { stats.count(.ownBeacon); return }
        if let last = beaconSeen[beacon.publicKey], beacon.timestamp <= last { stats.count(.beaconReplayed); return }
        guard beaconBucket.take(now: now) else { stats.count(.beaconRateLimited); return }
        guard beacon.verify(signature: signature, domain: config.domain) else { stats.count(.beaconForged); return }
        if beaconSeen[beacon.publicKey] == nil, beaconSeen.count >= LinkConstants.maxBeaconSenders {
            beaconSeen.remove(at: beaconSeen.startIndex)
        }
        beaconSeen[beacon.publicKey] = beacon.timestamp
        stats.beaconsAccepted &+= 1
        let endpoint = Endpoint(address: source.address, port: beacon.port, socket: source.socket)
        events.append(.discovered(beacon.publicKey, endpoint))
        let key = beacon.publicKey
        guard config.dialBeaconPeers, identity.publicKey < key, isAllowedInbound(key),
              peers[key] == nil, !beaconDials.contains(key) else { return }
        if startAttempt(.beacon(key), to: endpoint, expectedPeer: key, attempt: 1, now: now) != nil {
            beaconDials.insert(key)
        }
    }

    /// The link for a key whose handshake just completed: the existing one (one link per key,
    /// however many handshakes), or a new one while the peer table has room (nil, counted, if not).
    func peerForHandshake(_ key: PublicKey, endpoint: Endpoint, inbound: Bool, now: Instant) -> LinkPeer? {
        if let existing = peers[key] { return existing }
        guard peers.count < config.maxPeers else { stats.count(.peerLimit); return nil }
        let peer = LinkPeer(key: key, endpoint: endpoint, inbound: inbound, now: now)
        peers[key] = peer
        return peer
    }
}
