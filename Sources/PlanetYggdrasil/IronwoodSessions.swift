import PlanetCore

/// What the session layer asks of the layers around it.
public enum IronwoodSessionOutput: Equatable, Sendable {
    /// A session message (Init, Ack or data) for the router to carry in Traffic to `to`.
    case network(to: PublicKey, payload: [UInt8])
    /// A message that opened, from `from`'s proven session, for the layer above (yggdrasil's
    /// type byte and what follows: `YggdrasilIPv6.inbound`).
    case deliver(from: PublicKey, message: [UInt8])
}

/// Why the session layer dropped a message or refused one (reported as `ygg-session-…`).
public enum IronwoodSessionDrop: String, DropReasonCode {
    /// An empty payload, or a type byte ironwood does not know (0, the dummy, included).
    case unknownType = "unknown-type"
    /// An Init or Ack that is not 193 bytes, does not open with our key, or whose signature
    /// is not the sender's.
    case badInit = "bad-init"
    /// An Init or Ack whose `seq` is not newer than the last one of that peer's session.
    case staleInit = "stale-init"
    /// Data too short, or its key numbers or nonce do not decode.
    case malformed = "malformed"
    /// Data whose nonce is not above the last of its key pair: a replay or a reordered packet.
    case replayed = "replayed"
    /// Data from a key with no session: answered with an Init.
    case noSession = "no-session"
    /// Data whose key numbers fit no key pair we hold: answered with an Init.
    case unknownKeySeq = "unknown-key-seq"
    /// Data whose box does not open with the key pair it names: answered with an Init.
    case failedOpen = "failed-open"
    /// A message to send larger than `messageMTU`.
    case oversized = "oversized"
    /// A message waiting for a session replaced by a newer one to the same key (ironwood keeps
    /// the latest only).
    case bufferReplaced = "buffer-replaced"
    /// A message waiting for a session whose handshake did not finish within a minute.
    case bufferExpired = "buffer-expired"
    /// A message waiting for a session, pushed out because `maxBuffers` keys were waiting.
    case bufferFull = "buffer-full"
    /// A session pushed out (the one idle longest) because `maxSessions` were open.
    case sessionTableFull = "session-table-full"
    /// An Init we would have sent in answer to data we could not open (the three cases above),
    /// not sent: that key had one within the second, or all keys had `answersPerSecond`.
    case answerThrottled = "init-answer-throttled"

    public var reportName: String { rawValue }
}

/// Bounds and times of the session layer.
public struct IronwoodSessionsConfig: Sendable, Equatable {
    /// Sessions open at once. A new one beyond pushes out the one idle longest (counted
    /// `session-table-full`): an Init costs its sender a valid signature but a key costs
    /// nothing, so a flood of Inits must not grow memory, and the sessions in use (whose
    /// expiry every packet pushes back) are the last to go.
    public var maxSessions = 4096
    /// Keys with a message waiting for a session (one message each, the latest). Fed by the
    /// local side only; beyond it the oldest waiting message is dropped (`buffer-full`).
    public var maxBuffers = 1024
    /// ironwood's `sessionTimeout`: a session ends after this long with no update, no packet
    /// sent and none opened; a waiting message is dropped after it.
    public var timeout: Double = 60
    /// A repeated copy of an Init we acknowledged is acknowledged again at most this often.
    public var reackInterval: Double = 1
    /// Inits sent in answer to data we cannot open, per second for all keys together (each
    /// costs a signature; the data's source key is unproven, so anyone can ask for them in
    /// anyone's name), and at most one a second per key (`reackInterval`): one is all a peer
    /// that fell out of step needs, and Inits within one second share a `seq` anyway.
    public var answersPerSecond: Double = 100

    public init() {}
}

/// ironwood's `encrypted/` package without its actors and timers (session.go, packetconn.go,
/// network.go): end-to-end sessions between two ed25519 keys, carried in the payload of
/// ironwood Traffic. Messages in, outputs out (`takeOutput`), a clock passed in with every
/// call and a deadline for `tick`.
///
/// - **Opening.** A message to a key with no session waits in a buffer (the latest only) while
///   an Init carrying fresh `current` and `next` keys goes out; every further message re-sends
///   that same Init. The peer creates its session from the Init, ratchets its own keys once (an
///   Init counts as an answer) and acknowledges with its keys; our Ack handler, finding no
///   session, creates one with the buffered keys, takes the Ack as an Init (answering with an
///   Ack in turn) and sends the waiting message.
/// - **Init and Ack** are taken only when their `seq` (the sender's Unix time) is newer than the
///   last one of that session, so a replayed handshake changes nothing; an Ack for a session we
///   have (`isOld`) only updates keys, an Init also answers with an Ack.
/// - **Data** is sealed with the pair the key numbers name and opened as `IronwoodSession.open`
///   decides; a packet from a key with no session, with key numbers we cannot place, or a box
///   that does not open answers with an Init, so two ends that fell out of step (one
///   restarted) resynchronise. With no session the Init carries throwaway keys: the sender is
///   unproven (a source key in Traffic is not authenticated), so nothing is stored for it.
/// - **Time.** `seq` is the wall clock in Unix seconds (`init(unixSeconds:)`,
///   `setWallClock`), as ironwood's `time.Now().Unix()`: a restarted node's Inits must be newer
///   than the ones its peers remember, which a monotonic clock cannot promise. Two handshakes in
///   one second share a `seq`, so the second is ignored, as in ironwood.
public final class IronwoodSessions {
    /// Bytes a data packet adds to a message at most (ironwood's `sessionTrafficOverhead`):
    /// type, three uvarints of up to ten bytes, the box tag and the sender's next key.
    public static let overhead = 1 + 1 + 1 + 1 + 16 + 32 + 9 + 9 + 9

    public let identity: NodeIdentity
    public let config: IronwoodSessionsConfig
    /// The largest payload the router carries (its `mtu`); messages may be `overhead` less.
    public var networkMTU: Int
    public var messageMTU: Int { networkMTU - Self.overhead }

    public private(set) var drops = DropCounters<IronwoodSessionDrop>()
    /// Inits and Acks sent (answers to stale or broken data included).
    public private(set) var initsSent: UInt64 = 0
    public private(set) var acksSent: UInt64 = 0

    let boxSecret: [UInt8]
    var sessions: [PublicKey: IronwoodSession] = [:]
    var buffers: [PublicKey: IronwoodSessionBuffer] = [:]
    var output: [IronwoodSessionOutput] = []
    /// The budget of Inits that answer data we cannot open, in all and per key (bounded:
    /// entries older than a second are swept when it fills).
    var answerBudget: TokenBucket
    var answeredAt: [PublicKey: Instant] = [:]
    /// No expiry falls before this (a lower bound: packets only push expiries later).
    var earliestExpiry = Instant.never
    /// The wall clock: Unix seconds at `wallClockAt` on the monotonic clock.
    var unixSecondsBase: UInt64
    var wallClockAt: Instant

    public init(identity: NodeIdentity, now: Instant, unixSeconds: UInt64, networkMTU: Int,
                config: IronwoodSessionsConfig = IronwoodSessionsConfig()) {
        self.identity = identity
        self.config = config
        self.networkMTU = networkMTU
        boxSecret = Sodium.curve25519SecretKey(ed25519: identity.secretKey)
        unixSecondsBase = unixSeconds
        wallClockAt = now
        answerBudget = TokenBucket(rate: config.answersPerSecond, burst: config.answersPerSecond, now: now)
    }

    /// Tells the layer the wall-clock time again (the runtime reads it now and then).
    public func setWallClock(unixSeconds: UInt64, now: Instant) {
        unixSecondsBase = unixSeconds
        wallClockAt = now
    }

    func unixSeconds(_ now: Instant) -> UInt64 {
        unixSecondsBase &+ UInt64(max(0, now.seconds(since: wallClockAt)))
    }

    public func takeOutput() -> [IronwoodSessionOutput] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    // MARK: Sending

    /// Sends `message` to `key` end to end: sealed in its session, or waiting while one opens
    /// (ironwood's `writeTo`).
    public func send(to key: PublicKey, message: [UInt8], now: Instant) {
        guard message.count <= messageMTU else { drops.count(.oversized); return }
        if let session = sessions[key] {
            output.append(.network(to: key, payload: session.seal(message, now: now, timeout: config.timeout)))
        } else {
            bufferAndInit(to: key, message: message, now: now)
        }
    }

    func bufferAndInit(to key: PublicKey, message: [UInt8], now: Instant) {
        let expires = now.adding(seconds: config.timeout)
        if buffers[key] != nil {
            drops.count(.bufferReplaced)
            buffers[key]!.message = message
            buffers[key]!.expires = expires
            buffers[key]!.seq = max(buffers[key]!.seq, unixSeconds(now))
        } else {
            if buffers.count >= config.maxBuffers,
               let oldest = buffers.min(by: { $0.value.expires < $1.value.expires })?.key {
                buffers[oldest] = nil
                drops.count(.bufferFull)
            }
            buffers[key] = IronwoodSessionBuffer(message: message, seq: unixSeconds(now), expires: expires)
        }
        earliestExpiry = min(earliestExpiry, expires)
        sendHandshake(buffers[key]!.initMessage, to: key)
    }

    func sendHandshake(_ message: IronwoodSessionInit, to key: PublicKey) {
        guard let sealed = message.sealed(from: identity, to: key, ephemeralSecret: Sodium.randomBytes(32)) else { return }
        if message.kind == .initiate { initsSent &+= 1 } else { acksSent &+= 1 }
        output.append(.network(to: key, payload: sealed))
    }

    // MARK: Receiving

    /// A Traffic payload the router delivered from `key` (ironwood's `handleData`).
    public func receive(from key: PublicKey, payload: [UInt8], now: Instant) {
        guard let type = payload.first else { drops.count(.unknownType); return }
        switch type {
        case IronwoodSessionInit.Kind.initiate.rawValue, IronwoodSessionInit.Kind.acknowledge.rawValue:
            guard let message = try? IronwoodSessionInit.open(payload, recipientBoxSecret: boxSecret, sender: key) else {
                drops.count(.badInit)
                return
            }
            if message.kind == .initiate { handleInit(message, from: key, now: now) } else { handleAck(message, from: key, now: now) }
        case IronwoodSessionTraffic.type:
            handleTraffic(payload, from: key, now: now)
        default:
            drops.count(.unknownType)
        }
    }

    /// The session for a peer's Init or Ack: the one we have, or a new one with the peer's keys;
    /// if a message waits for that peer, the new session takes the keys its Init announced
    /// (ironwood's `_sessionForInit`). Returns the waiting message for the caller to send once
    /// the session is updated.
    func sessionForInit(_ message: IronwoodSessionInit, from key: PublicKey, now: Instant) -> (IronwoodSession, [UInt8]?) {
        if let session = sessions[key] { return (session, nil) }
        let session = IronwoodSession(peer: key, current: message.current, next: message.next, seq: message.seq,
                                      now: now, timeout: config.timeout)
        var waiting: [UInt8]?
        if let buffer = buffers.removeValue(forKey: key) {
            session.sendKeys = buffer.current
            session.nextKeys = buffer.next
            session.fixShared(recvNonce: 0, sendNonce: 0)
            waiting = buffer.message
        }
        insert(session, now: now)
        return (session, waiting)
    }

    func insert(_ session: IronwoodSession, now: Instant) {
        if sessions.count >= config.maxSessions,
           let idlest = sessions.min(by: { $0.value.expires < $1.value.expires })?.key {
            sessions[idlest] = nil
            drops.count(.sessionTableFull)
        }
        sessions[session.peer] = session
        earliestExpiry = min(earliestExpiry, session.expires)
    }

    func handleInit(_ message: IronwoodSessionInit, from key: PublicKey, now: Instant) {
        let (session, waiting) = sessionForInit(message, from: key, now: now)
        // A newer Init is acknowledged. So is the copy of the Init we acknowledged, again, at
        // most once a second: our Ack did not arrive (most often it still waits for a path to
        // the peer, whose first lookup went out before the blooms knew the peer). ironwood
        // drops the copy as stale and the session stays half open until it times out; our new
        // Ack sends the lookup it needs anew. The copy changes nothing in the session.
        let newer = message.seq > session.seq
        let repeated = message.seq == session.seq
            && session.ackedAt.map({ now.seconds(since: $0) >= config.reackInterval }) ?? true
        if newer {
            session.update(with: message, now: now, timeout: config.timeout)
        } else {
            drops.count(.staleInit)
        }
        if newer || repeated {
            session.ackedAt = now
            sendHandshake(session.handshake(.acknowledge, seq: unixSeconds(now)), to: key)
        }
        if let waiting { output.append(.network(to: key, payload: session.seal(waiting, now: now, timeout: config.timeout))) }
    }

    func handleAck(_ message: IronwoodSessionInit, from key: PublicKey, now: Instant) {
        guard sessions[key] != nil else {
            // An Ack for no session of ours is taken as an Init (and acknowledged), so an Ack
            // to an Init we sent with keys we did not keep still opens a session.
            handleInit(message, from: key, now: now)
            return
        }
        let (session, _) = sessionForInit(message, from: key, now: now)
        if message.seq > session.seq {
            session.update(with: message, now: now, timeout: config.timeout)
        } else {
            drops.count(.staleInit)
        }
    }

    func handleTraffic(_ payload: [UInt8], from key: PublicKey, now: Instant) {
        // ironwood reads the three numbers from anything of at least its minimum size; what
        // follows is the box, which fails to open when too short.
        guard payload.count >= IronwoodSessionTraffic.minimumBytes else { drops.count(.malformed); return }
        var offset = 1
        guard let senderKeySeq = Uvarint.read(payload, at: &offset),
              let receiverKeySeq = Uvarint.read(payload, at: &offset),
              let nonce = Uvarint.read(payload, at: &offset) else { drops.count(.malformed); return }
        guard let session = sessions[key] else {
            // We do not know the sender really exists (the source of Traffic is unproven), so
            // we keep nothing: an Init with keys we forget. If it answers, the Ack opens a
            // session (handleAck) and the two sides heal.
            drops.count(.noSession)
            guard mayAnswer(key, now: now) else { return }
            let throwaway = IronwoodSessionInit(kind: .initiate, current: IronwoodBoxKeys.fresh().publicKey,
                                                next: IronwoodBoxKeys.fresh().publicKey, keySeq: 0, seq: unixSeconds(now))
            sendHandshake(throwaway, to: key)
            return
        }
        let packet = IronwoodSessionTraffic(senderKeySeq: senderKeySeq, receiverKeySeq: receiverKeySeq, nonce: nonce,
                                            boxed: Array(payload[offset...]))
        switch session.open(packet, now: now, timeout: config.timeout) {
        case .message(let message):
            output.append(.deliver(from: key, message: message))
        case .stale:
            drops.count(.replayed)
        case .unknownKeys:
            drops.count(.unknownKeySeq)
            guard mayAnswer(key, now: now) else { return }
            sendHandshake(session.handshake(.initiate, seq: unixSeconds(now)), to: key)
        case .failedOpen:
            // Keys out of step, as after a restart of either end: a new Init fixes it.
            drops.count(.failedOpen)
            guard mayAnswer(key, now: now) else { return }
            sendHandshake(session.handshake(.initiate, seq: unixSeconds(now)), to: key)
        }
    }

    /// Whether data we cannot open from `key` may be answered with an Init now: one a second
    /// per key, `answersPerSecond` in all. ironwood answers every such packet; a stream of
    /// forged packets (the source of Traffic is not authenticated) would make us sign and send
    /// an Init for each, toward whatever key they name.
    func mayAnswer(_ key: PublicKey, now: Instant) -> Bool {
        if let last = answeredAt[key], now.seconds(since: last) < config.reackInterval {
            drops.count(.answerThrottled)
            return false
        }
        if answeredAt.count >= config.maxSessions {
            answeredAt = answeredAt.filter { now.seconds(since: $0.value) < config.reackInterval }
        }
        guard answeredAt.count < config.maxSessions, answerBudget.take(now: now) else {
            drops.count(.answerThrottled)
            return false
        }
        answeredAt[key] = now
        return true
    }

    // MARK: Timers

    /// When `tick` has something to do (a session or waiting message may have expired).
    public var nextDeadline: Instant? { earliestExpiry == .never ? nil : earliestExpiry }

    /// Ends idle sessions and drops messages whose session did not open in time.
    public func tick(now: Instant) {
        guard earliestExpiry <= now else { return }
        var earliest = Instant.never
        for (key, session) in sessions {
            if session.expires <= now { sessions[key] = nil } else { earliest = min(earliest, session.expires) }
        }
        for (key, buffer) in buffers {
            if buffer.expires <= now {
                buffers[key] = nil
                drops.count(.bufferExpired)
            } else {
                earliest = min(earliest, buffer.expires)
            }
        }
        earliestExpiry = earliest
    }

    // MARK: Inspection

    /// One session as `yggdrasilctl getSessions` shows it, and a bit more.
    public struct SessionSummary: Equatable, Sendable {
        public let key: PublicKey
        public let since: Instant
        public let rxBytes: UInt64
        public let txBytes: UInt64
        public let localKeySeq: UInt64
        public let remoteKeySeq: UInt64
        public let expires: Instant

        public func uptime(now: Instant) -> Double { max(0, now.seconds(since: since)) }
    }

    /// The open sessions, by key.
    public var sessionSummaries: [SessionSummary] {
        sessions.values.sorted { $0.peer < $1.peer }.map {
            SessionSummary(key: $0.peer, since: $0.since, rxBytes: $0.rx, txBytes: $0.tx,
                           localKeySeq: $0.localKeySeq, remoteKeySeq: $0.remoteKeySeq, expires: $0.expires)
        }
    }

    public var sessionCount: Int { sessions.count }
    /// Keys with a message waiting for a session.
    public var waitingKeys: [PublicKey] { buffers.keys.sorted() }
}
