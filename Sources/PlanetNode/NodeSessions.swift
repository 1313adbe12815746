import PlanetCore
import PlanetLink

/// End-to-end sessions: the handshake over the overlay, sealing and opening data, rekeying,
/// and turning relays' error reports back into ICMPv6 for local programs.
extension Node {
    static let sessionDomain = "planetary-session-v1"
    /// Data sent and nothing authentic back for this long: the peer probably lost its keys.
    static let sessionUnansweredTimeout = 6.0
    /// Data received and nothing sent for this long: answer with an empty data message so the
    /// sender's unanswered timer doesn't fire on one-way traffic.
    static let sessionPassiveKeepalive = 3.0

    // MARK: Sending

    /// `nextHop`: the route's, looked up by the caller for this packet.
    func sendThroughSession(_ packet: UnsafeRawBufferPointer, checksumPartial: Bool = false, hopLimit: UInt8,
                            destinationAddress: IPv6Address, to key: PublicKey, via nextHop: PublicKey, now: Instant) {
        let session = sessions.session(for: key, now: now)
        if let keypair = session.current, !keypair.isExpired(at: now), !keypair.isExhausted {
            sendData(packet, checksumPartial: checksumPartial, hopLimit: hopLimit, destinationAddress: destinationAddress,
                     session: session, keypair: keypair, via: nextHop, now: now)
            if session.initiator == nil, keypair.age(at: now) > Node.sessionRekeyAfter || keypair.wantsRekeyByCount {
                startHandshake(session, now: now)
            }
            return
        }
        // The queue is the rare path (a handshake is under way): complete the checksum so a
        // queued packet is an ordinary one.
        var queued = Array(packet)
        if checksumPartial { queued.withUnsafeMutableBytes { _ = InternetChecksum.completePartial($0) } }
        let dropped = pending.enqueue(queued, for: key, now: now)
        if dropped > 0 { stats.drop(.pendingOverflow, count: dropped) }
        if session.initiator == nil { startHandshake(session, now: now) }
    }

    /// Seals a packet (or, with `type: .control`, a control message) in the session and sends it
    /// to the next hop: through `nextHop` when the caller has just looked the route up, else the
    /// route of the session's peer.
    func sendData(_ packet: UnsafeRawBufferPointer, checksumPartial: Bool = false, type: SessionMessageType? = nil, hopLimit: UInt8,
                  destinationAddress: IPv6Address, session: Session, keypair: Keypair, via nextHop: PublicKey? = nil, now: Instant) {
        guard let nextHop = nextHop ?? routeCache.route(for: destinationAddress, router: router)?.nextHop ?? router.stubUpstream else {
            stats.drop(.noRoute)
            return
        }
        // The overlay packet is written into the frame the link seals — a slot of the runtime's
        // send batch when it lends one — and the session message sealed in place behind its
        // header, so the packet is copied once on its way from the TUN to the wire.
        let type = type ?? (checksumPartial ? .dataChecksumPartial : .data)
        var sealed = true
        let frameLength = OverlayPacket.headerLength + Keypair.overhead + packet.count
        let sent = links.send(frameLength: frameLength, to: nextHop, now: now, payloadSealed: true) { frame in
            OverlayPacket.writeHeader(into: frame, hopLimit: max(1, hopLimit), destination: destinationAddress, source: address)
            let message = UnsafeMutableRawBufferPointer(rebasing: frame[OverlayPacket.headerLength...])
            sealed = keypair.sealDataMessage(packet, type: type, into: message)
            return sealed
        }
        if !sealed {
            stats.drop(.sessionHandshake)
            return
        }
        if sent {
            session.txBytes += UInt64(packet.count)
            session.txPackets += 1
            session.lastSent = now
            if !packet.isEmpty, session.unansweredSince == nil { session.unansweredSince = now }
            if !packet.isEmpty, type != .control { session.lastDataAt = now }
        } else {
            stats.drop(.linkDown)
        }
    }

    func startHandshake(_ session: Session, now: Instant) {
        if session.initiator != nil { sessions.releaseIndex(session.initiatorIndex) }
        let index = sessions.freshIndex(random: &random)
        sessions.bind(index: index, to: session.peer)
        let initiator = HandshakeInitiator(local: identity, localIndex: index, expectedPeer: session.peer, domain: Node.sessionDomain,
                                            ciphers: links.config.ciphers)
        session.initiator = initiator
        session.initiatorIndex = index
        session.handshakeStarted = now
        sendInit(session, now: now)
    }

    func sendInit(_ session: Session, now: Instant) {
        guard let initiator = session.initiator else { return }
        session.lastInitSent = now
        var message = [SessionMessageType.handshakeInit.rawValue]
        message.append(contentsOf: initiator.initMessage())
        sendOverlay(message: message, hopLimit: OverlayPacket.defaultHopLimit, to: session.peer.address, now: now)
    }

    // MARK: Receiving

    /// A session message addressed to us, where it lies in the receive buffer: data and control
    /// are opened in place (data goes to the TUN borrowing the buffer); the rare rest is copied.
    func receiveSessionMessage(_ message: UnsafeMutableRawBufferPointer, header: OverlayPacket.Header, from peer: PublicKey, now: Instant) {
        guard let type = SessionMessageType(rawValue: message[0]) else { stats.drop(.overlayMalformed); return }
        let body = { Array(UnsafeRawBufferPointer(rebasing: message[1...]))[...] }
        switch type {
        case .data, .dataChecksumPartial:
            guard let range = openData(message, now: now) else { return }
            deliverToTun(NodeOutput.TunPacket(borrowing: UnsafeRawBufferPointer(rebasing: message[range]),
                                              checksumPartial: type == .dataChecksumPartial))
        case .control: receiveControl(message, now: now)
        case .handshakeInit: receiveInit(body(), header: header, from: peer, now: now)
        case .handshakeResponse: receiveResponse(body(), header: header, now: now)
        case .handshakeFinish: receiveFinish(body(), header: header, now: now)
        case .errorReport: receiveReport(Array(UnsafeRawBufferPointer(message))[...], header: header, now: now)
        }
    }

    /// Opens a data message where it lies (decrypted in place) and checks what it carries.
    /// The inner packet's range within `message`, or nil (counted) for anything not to deliver:
    /// unknown index, replay, forgery, keepalive, malformed or spoofed packet.
    func openData(_ message: UnsafeMutableRawBufferPointer, now: Instant) -> Range<Int>? {
        guard let (key, session, range) = openSealed(message, now: now), !range.isEmpty else { return nil } // empty: keepalive
        guard let h = IPv6Header(raw: UnsafeRawBufferPointer(rebasing: message[range])) else { stats.drop(.overlayMalformed); return nil }
        // The one check that stops spoofing through the overlay: the sealed packet's source must
        // be the address or inside the subnet of the key that holds the session.
        guard ownedAddresses.key(key, owns: h.source) else {
            stats.drop(.spoofedSource)
            return nil
        }
        guard isLocal(h.destination) else { stats.drop(.sessionWrongDestination); return nil }
        guard vmAdmits(UnsafeRawBufferPointer(rebasing: message[range]), header: h, from: key, now: now) else { return nil }
        session.rxBytes += UInt64(range.count)
        session.rxPackets += 1
        session.lastDataAt = now
        return range
    }

    /// Authenticates and decrypts a data or control message where it lies, by the keypair its
    /// receiver index names, and notes that the peer answered. The peer, its session and the
    /// plaintext's range within `message`; nil (counted) for an unknown index, a replay or a
    /// forgery.
    func openSealed(_ message: UnsafeMutableRawBufferPointer, now: Instant) -> (PublicKey, Session, Range<Int>)? {
        guard let index = Keypair.header(of: UnsafeRawBufferPointer(message))?.receiverIndex else {
            stats.drop(.overlayMalformed)
            return nil
        }
        guard let key = sessions.peer(forIndex: index), let session = sessions.session(key),
              let keypair = session.keypairs.first(where: { $0.localIndex == index }) else {
            stats.drop(.sessionUnknownIndex)
            return nil
        }
        let length: Int
        switch keypair.open(frame: message, now: now) {
        case .ok(let n): length = n
        case .replayed: stats.drop(.sessionReplay); return nil
        default: stats.drop(.sessionDecrypt); return nil
        }
        session.lastReceived = now
        session.unansweredSince = nil
        if length > 0 { session.lastPayloadReceived = now }
        return (key, session, Keypair.headerLength..<(Keypair.headerLength + length))
    }

    /// An init, through neighbour `peer`: answered within that neighbour's and that source's
    /// shares of the budget (SessionInitShares.swift).
    func receiveInit(_ body: ArraySlice<UInt8>, header: OverlayPacket.Header, from peer: PublicKey, now: Instant) {
        switch initShares.admit(from: peer, source: header.source, now: now) {
        case .answer: break
        case .overNeighbourShare: stats.drop(.sessionHandshakeRateLimited); return
        case .overSourceShare: stats.drop(.sessionHandshakeSourceLimited); return
        }
        if sessions.responders.count >= SessionTable.maxPendingResponders,
           let oldest = sessions.responders.min(by: { $0.value.since < $1.value.since })?.key {
            sessions.responders[oldest] = nil
        }
        let index = sessions.freshIndex(random: &random)
        do {
            let (pending, response) = try HandshakeResponder.respond(toInit: Array(body), local: identity, localIndex: index, domain: Node.sessionDomain,
                                                                     ciphers: links.config.ciphers)
            sessions.responders[index] = (pending, header.source, now)
            var message = [SessionMessageType.handshakeResponse.rawValue]
            message.append(contentsOf: response)
            sendOverlay(message: message, hopLimit: OverlayPacket.defaultHopLimit, to: header.source, now: now)
        } catch {
            stats.drop(.sessionHandshake)
        }
    }

    func receiveResponse(_ body: ArraySlice<UInt8>, header: OverlayPacket.Header, now: Instant) {
        guard let index = HandshakeMessages.receiverIndex(ofResponse: body), let key = sessions.peer(forIndex: index), let session = sessions.session(key),
              let initiator = session.initiator, session.initiatorIndex == index else {
            stats.drop(.sessionHandshake)
            return
        }
        do {
            let (finish, keys) = try initiator.handleResponse(Array(body))
            session.initiator = nil
            var message = [SessionMessageType.handshakeFinish.rawValue]
            message.append(contentsOf: finish)
            sendOverlay(message: message, hopLimit: OverlayPacket.defaultHopLimit, to: header.source, now: now)
            established(session, keypair: Keypair(keys: keys, createdAt: now), now: now)
        } catch {
            stats.drop(.sessionHandshake)
            stats.sessionHandshakesFailed += 1
            logger.debug("session handshake failed", [("peer", key.short), ("error", "\(error)")])
        }
    }

    func receiveFinish(_ body: ArraySlice<UInt8>, header: OverlayPacket.Header, now: Instant) {
        guard let index = HandshakeMessages.receiverIndex(ofFinish: body), let responder = sessions.responders[index] else { stats.drop(.sessionHandshake); return }
        do {
            let keys = try responder.pending.handleFinish(Array(body), isAllowed: { _ in true })
            sessions.responders[index] = nil
            // The initiator proved its key; its overlay source must be that key's address, or a
            // node could open a session in another's name and receive its replies.
            guard OverlayAddress.key(keys.peer, owns: responder.source) else {
                stats.drop(.spoofedSource)
                return
            }
            let session = sessions.session(for: keys.peer, now: now)
            sessions.bind(index: index, to: keys.peer)
            established(session, keypair: Keypair(keys: keys, createdAt: now), now: now)
        } catch {
            // Keep the responder: a forged finish must not cancel the genuine one still on its way.
            stats.drop(.sessionHandshake)
            stats.sessionHandshakesFailed += 1
        }
    }

    func established(_ session: Session, keypair: Keypair, now: Instant) {
        sessions.bind(index: keypair.localIndex, to: session.peer)
        let evicted = session.keypairs.count >= 3 ? session.keypairs.first : nil
        session.install(keypair)
        if let evicted, evicted.localIndex != keypair.localIndex { sessions.releaseIndex(evicted.localIndex) }
        stats.sessionsEstablished += 1
        session.lastEstablished = now
        session.unansweredSince = nil
        logger.debug("session established", [("peer", session.peer.short)])
        // The handshake proved the peer holds its key, and its address derives from the key:
        // a stub needs no query to route to it now.
        router.learnOrigin(session.peer, now: now)
        for packet in pending.take(for: session.peer) {
            guard let h = IPv6Header(packet) else { continue }
            packet.withUnsafeBytes {
                sendData($0, hopLimit: h.hopLimit, destinationAddress: h.destination, session: session, keypair: keypair, now: now)
            }
        }
    }

    /// A relay (or the destination's node) could not deliver one of our packets. Rebuild the
    /// ICMPv6 error a router would have sent, from the reporter's address, so ping and
    /// traceroute on this node see it.
    func receiveReport(_ message: ArraySlice<UInt8>, header: OverlayPacket.Header, now: Instant) {
        guard let report = ErrorReport(message) else { stats.drop(.errorReportInvalid); return }
        let q = report.quoted
        guard q.count >= 13, SessionMessageType.isData(q[0]) else { stats.drop(.errorReportInvalid); return }
        let remoteIndex = BigEndian.u32(q, at: 1)
        guard let packetStart = sessions.all.lazy.compactMap({ s in
            s.keypairs.first { $0.remoteIndex == remoteIndex }.flatMap { $0.plaintextPrefix(ofSentFrame: q[...]) }
        }).first, let original = Optional(packetStart), original.count >= IPv6Header.length else {
            stats.drop(.errorReportInvalid)
            return
        }
        // The quoted packet is truncated; fix its payload length so it parses as a whole packet.
        var quotedPacket = original
        let plen = quotedPacket.count - IPv6Header.length
        quotedPacket[4] = UInt8(plen >> 8)
        quotedPacket[5] = UInt8(truncatingIfNeeded: plen)
        let kind: ICMPv6.ErrorKind
        switch report.kind {
        case .noRoute: kind = .noRoute
        case .hopLimitExceeded: kind = .hopLimitExceeded
        case .packetTooBig: kind = .packetTooBig(mtu: Int(report.mtu))
        }
        sendICMP(kind, from: report.reporter.address, about: quotedPacket, now: now)
    }

    // MARK: Timers

    func sessionTimers(now: Instant) {
        sessionTimersRan = now
        for session in sessions.all {
            if session.initiator != nil {
                if now.seconds(since: session.handshakeStarted) > Node.pendingTimeout {
                    session.initiator = nil
                    sessions.releaseIndex(session.initiatorIndex)
                    stats.sessionHandshakesFailed += 1
                } else if now.seconds(since: session.lastInitSent) >= Node.sessionInitRetry {
                    sendInit(session, now: now)
                }
            }
            if session.initiator == nil, let since = session.unansweredSince,
               now.seconds(since: since) > Node.sessionUnansweredTimeout,
               now.seconds(since: session.lastEstablished) > Node.sessionUnansweredTimeout {
                logger.debug("session unanswered, handshaking again", [("peer", session.peer.short)])
                session.unansweredSince = nil
                startHandshake(session, now: now)
            }
            if let keypair = session.current, !keypair.isExpired(at: now),
               session.lastPayloadReceived > session.lastSent,
               now.seconds(since: session.lastSent) >= Node.sessionPassiveKeepalive,
               now.seconds(since: session.lastPayloadReceived) < 30 {
                sendData(UnsafeRawBufferPointer(start: nil, count: 0), hopLimit: OverlayPacket.defaultHopLimit, destinationAddress: session.peer.address, session: session, keypair: keypair, now: now)
            }
            sessions.dropKeypairs(of: session) { $0.isExpired(at: now) }
            if session.keypairs.isEmpty, session.initiator == nil, !pending.has(session.peer),
               now.seconds(since: max(session.lastSent, session.lastReceived, session.created)) > Node.sessionRejectAfter {
                sessions.remove(session.peer)
            }
        }
        for (index, r) in sessions.responders where now.seconds(since: r.since) > Node.pendingTimeout {
            sessions.responders[index] = nil
        }
        for (_, packet) in pending.expire(queuedAtOrBefore: now.adding(seconds: -Node.pendingTimeout)) {
            stats.drop(.pendingTimeout)
            sendICMP(.addressUnreachable, from: address, about: packet, now: now)
        }
    }
}
