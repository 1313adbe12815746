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

    func sendThroughSession(_ packet: UnsafeRawBufferPointer, checksumPartial: Bool = false, hopLimit: UInt8,
                            destinationAddress: IPv6Address, to key: PublicKey, now: Instant) {
        let session = sessions.session(for: key, now: now)
        if let keypair = session.current, !keypair.isExpired(at: now), !keypair.isExhausted {
            sendData(packet, checksumPartial: checksumPartial, hopLimit: hopLimit, destinationAddress: destinationAddress,
                     session: session, keypair: keypair, now: now)
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

    func sendData(_ packet: UnsafeRawBufferPointer, checksumPartial: Bool = false, hopLimit: UInt8, destinationAddress: IPv6Address,
                  session: Session, keypair: Keypair, now: Instant) {
        // The message is sealed behind room for the link header and the overlay header, so the
        // link seals the same buffer again in place: one allocation, one copy of the packet.
        let room = HeadroomFrame.linkHeadroom + OverlayPacket.headerLength
        let type: SessionMessageType = checksumPartial ? .dataChecksumPartial : .data
        guard var frame = keypair.sealDataMessage(packet, type: type, headroom: room, tailroom: HeadroomFrame.tail) else {
            stats.drop(.sessionHandshake)
            return
        }
        OverlayPacket.writeHeader(into: &frame, at: HeadroomFrame.linkHeadroom, hopLimit: max(1, hopLimit),
                                  destination: destinationAddress, source: address)
        guard let route = routeCache.route(for: destinationAddress, router: router) else { stats.drop(.noRoute); return }
        if links.send(headroomFrame: frame, to: route.nextHop, now: now, payloadSealed: true) {
            session.txBytes += UInt64(packet.count)
            session.txPackets += 1
            session.lastSent = now
            if !packet.isEmpty, session.unansweredSince == nil { session.unansweredSince = now }
        } else {
            stats.drop(.linkDown)
        }
    }

    func startHandshake(_ session: Session, now: Instant) {
        if session.initiator != nil { sessions.releaseIndex(session.initiatorIndex) }
        let index = sessions.freshIndex(for: session.peer, random: &random)
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

    func handleSessionMessage(_ message: ArraySlice<UInt8>, header: OverlayPacket.Header, now: Instant) {
        guard let type = message.first.flatMap(SessionMessageType.init(rawValue:)) else { stats.drop(.overlayMalformed); return }
        let body = message.dropFirst()
        switch type {
        case .data: receiveData(message, header: header, now: now)
        case .dataChecksumPartial: receiveData(message, checksumPartial: true, header: header, now: now)
        case .handshakeInit: receiveInit(body, header: header, now: now)
        case .handshakeResponse: receiveResponse(body, header: header, now: now)
        case .handshakeFinish: receiveFinish(body, header: header, now: now)
        case .errorReport: receiveReport(message, header: header, now: now)
        }
    }

    func receiveData(_ message: ArraySlice<UInt8>, checksumPartial: Bool = false, header: OverlayPacket.Header, now: Instant) {
        var frame = Array(message)
        guard let packet = frame.withUnsafeMutableBytes({ openData($0, now: now) }) else { return }
        deliverToTun(frame[packet], checksumPartial: checksumPartial)
    }

    /// Opens a data message where it lies (decrypted in place) and checks what it carries.
    /// The inner packet's range within `message`, or nil (counted) for anything not to deliver:
    /// unknown index, replay, forgery, keepalive, malformed or spoofed packet.
    func openData(_ message: UnsafeMutableRawBufferPointer, now: Instant) -> Range<Int>? {
        guard message.count >= 1 + 4 + 8 + 16 else { stats.drop(.overlayMalformed); return nil }
        let index = UInt32(message[1]) << 24 | UInt32(message[2]) << 16 | UInt32(message[3]) << 8 | UInt32(message[4])
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
        if length == 0 { return nil } // keepalive
        let range = Keypair.headerLength..<(Keypair.headerLength + length)
        guard let h = IPv6Header(raw: UnsafeRawBufferPointer(rebasing: message[range])) else { stats.drop(.overlayMalformed); return nil }
        // The one check that stops spoofing through the overlay: the sealed packet's source must
        // be the address or inside the subnet of the key that holds the session.
        guard ownedAddresses.key(key, owns: h.source) else {
            stats.drop(.spoofedSource)
            return nil
        }
        guard isLocal(h.destination) else { stats.drop(.sessionWrongDestination); return nil }
        session.rxBytes += UInt64(length)
        session.rxPackets += 1
        return range
    }

    func receiveInit(_ body: ArraySlice<UInt8>, header: OverlayPacket.Header, now: Instant) {
        guard handshakeLimiter.take(now: now) else { stats.drop(.sessionHandshakeRateLimited); return }
        if sessions.responders.count >= SessionTable.maxPendingResponders,
           let oldest = sessions.responders.min(by: { $0.value.since < $1.value.since })?.key {
            sessions.responders[oldest] = nil
        }
        var index: UInt32 = 0
        repeat { index = UInt32(truncatingIfNeeded: random.next()) } while index == 0 || sessions.peer(forIndex: index) != nil || sessions.responders[index] != nil
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
        let remoteIndex = UInt32(q[1]) << 24 | UInt32(q[2]) << 16 | UInt32(q[3]) << 8 | UInt32(q[4])
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
               session.lastReceived > session.lastSent,
               now.seconds(since: session.lastSent) >= Node.sessionPassiveKeepalive,
               now.seconds(since: session.lastReceived) < 30 {
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
        for (_, packet) in pending.expire(olderThan: now.adding(seconds: -Node.pendingTimeout)) {
            stats.drop(.pendingTimeout)
            sendICMP(.addressUnreachable, from: address, about: packet, now: now)
        }
    }
}
