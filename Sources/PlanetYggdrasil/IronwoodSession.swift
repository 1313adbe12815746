import PlanetCore

/// An X25519 key pair of a session (ironwood's `boxPub`/`boxPriv`), fresh from libsodium's
/// random source: a session's keys are never derived from anything, so a stolen node key
/// opens no past session.
struct IronwoodBoxKeys {
    var publicKey: [UInt8]
    var secret: [UInt8]

    static func fresh() -> IronwoodBoxKeys {
        let pair = Sodium.x25519Keypair()
        return IronwoodBoxKeys(publicKey: pair.publicKey, secret: pair.secret)
    }

    /// NaCl box's precomputed key of `secret` with the peer's `publicKey`. A peer that sends a
    /// low-order point (no honest one does: its keys come from `fresh`) makes libsodium refuse;
    /// then the key is random, known to nobody, so its boxes never open and the session heals
    /// through a new Init as after any failed open.
    static func shared(_ publicKey: [UInt8], _ secret: [UInt8]) -> [UInt8] {
        Sodium.boxSharedKey(publicKey: publicKey, secretKey: secret) ?? Sodium.randomBytes(32)
    }
}

/// One end-to-end session with one peer: ironwood's `sessionInfo` (encrypted/session.go),
/// its key ratchet and nonce rules, without the actor and timer machinery.
///
/// Each side holds three key pairs of its own — `recv` (the previous send key, still
/// accepted), `send` and `next` — numbered by `localKeySeq`, and two of the peer's public keys,
/// `current` and `next`, numbered by `remoteKeySeq`. A data packet names the pair that sealed
/// it by the two numbers; when the peer seals with its next key to our send key, it has moved
/// on, and we move too (at most once a minute): its next becomes its current, our send key
/// becomes our receive key, our next our send key, and a fresh next is made. Every key pair
/// has its own nonce counter, which must strictly increase: no replay window.
final class IronwoodSession {
    let peer: PublicKey
    /// The peer's newest Init/Ack `seq` (its Unix time); older or equal ones are ignored.
    var seq: UInt64
    var remoteKeySeq: UInt64 = 0
    /// The peer's key we seal to and expect to be sealed from.
    var current: [UInt8]
    /// The peer's next key: a packet from it means the peer has ratcheted.
    var next: [UInt8]
    var localKeySeq: UInt64 = 0
    var recvKeys: IronwoodBoxKeys
    var sendKeys: IronwoodBoxKeys
    var nextKeys: IronwoodBoxKeys
    var recvShared: [UInt8] = []
    var sendShared: [UInt8] = []
    var nextSendShared: [UInt8] = []
    var nextRecvShared: [UInt8] = []
    var recvNonce: UInt64 = 0
    var sendNonce: UInt64 = 0
    var nextSendNonce: UInt64 = 0
    var nextRecvNonce: UInt64 = 0
    let since: Instant
    /// When we last ratcheted on the peer's word (nil: never).
    var rotated: Instant?
    var rx: UInt64 = 0
    var tx: UInt64 = 0
    /// Idle expiry: a minute after the last update, sent or opened packet (ironwood's timer).
    var expires: Instant
    /// When we last acknowledged the peer's Init (a repeated copy is acknowledged again, throttled).
    var ackedAt: Instant?

    init(peer: PublicKey, current: [UInt8], next: [UInt8], seq: UInt64, now: Instant, timeout: Double) {
        self.peer = peer
        // One less, so that the Init or Ack that creates the session is newer (ironwood's
        // `seq - 1`, wrapping as Go's unsigned arithmetic does).
        self.seq = seq &- 1
        self.current = current
        self.next = next
        recvKeys = .fresh()
        sendKeys = .fresh()
        nextKeys = .fresh()
        since = now
        expires = now.adding(seconds: timeout)
        fixShared(recvNonce: 0, sendNonce: 0)
    }

    /// Recomputes the four box keys from the current keys (at creation, after an Init or Ack,
    /// after a ratchet) and restarts the counters of the new pairs.
    func fixShared(recvNonce: UInt64, sendNonce: UInt64) {
        recvShared = IronwoodBoxKeys.shared(current, recvKeys.secret)
        sendShared = IronwoodBoxKeys.shared(current, sendKeys.secret)
        nextSendShared = IronwoodBoxKeys.shared(next, sendKeys.secret)
        nextRecvShared = IronwoodBoxKeys.shared(next, recvKeys.secret)
        nextSendNonce = 0
        nextRecvNonce = 0
        self.recvNonce = recvNonce
        self.sendNonce = sendNonce
    }

    /// Our own keys move one step: send → recv, next → send, a fresh next.
    func advanceLocalKeys() {
        recvKeys = sendKeys
        sendKeys = nextKeys
        nextKeys = .fresh()
        localKeySeq &+= 1
    }

    /// An Init or Ack newer than the last: take the peer's keys, and count it as the peer's
    /// answer to ours, so our keys advance (ironwood's `_handleUpdate`). The send nonce is kept,
    /// never rolled back, "just to be extra safe".
    func update(with message: IronwoodSessionInit, now: Instant, timeout: Double) {
        current = message.current
        next = message.next
        seq = message.seq
        remoteKeySeq = message.keySeq
        advanceLocalKeys()
        fixShared(recvNonce: 0, sendNonce: sendNonce)
        expires = now.adding(seconds: timeout)
    }

    /// What our Init or Ack carries: our send and next keys, numbered.
    func handshake(_ kind: IronwoodSessionInit.Kind, seq: UInt64) -> IronwoodSessionInit {
        IronwoodSessionInit(kind: kind, current: sendKeys.publicKey, next: nextKeys.publicKey, keySeq: localKeySeq, seq: seq)
    }

    /// Seals one message (ironwood's `doSend`): the nonce advances first; on wrapping to zero our
    /// keys advance so no nonce is ever used twice under one key.
    func seal(_ message: [UInt8], now: Instant, timeout: Double) -> [UInt8] {
        sendNonce &+= 1
        if sendNonce == 0 {
            advanceLocalKeys()
            fixShared(recvNonce: 0, sendNonce: 0)
        }
        var out = [UInt8]()
        out.reserveCapacity(IronwoodSessions.overhead + message.count)
        out.append(IronwoodSessionTraffic.type)
        Uvarint.append(localKeySeq, to: &out)
        Uvarint.append(remoteKeySeq, to: &out)
        Uvarint.append(sendNonce, to: &out)
        // Our next key rides inside the box, so that a packet later sealed with it is known
        // to come from the same peer. Tag space, key and message are laid out in `out` and
        // sealed where they are: one buffer per packet instead of three.
        let box = out.count
        out.append(contentsOf: repeatElement(0, count: 16))
        out += nextKeys.publicKey
        out += message
        out.withUnsafeMutableBytes {
            Sodium.boxSealInPlace(UnsafeMutableRawBufferPointer(rebasing: $0[box...]), nonce: IronwoodSessionInit.nonce(sendNonce),
                                  sharedKey: sendShared)
        }
        tx &+= UInt64(message.count)
        expires = now.adding(seconds: timeout)
        return out
    }

    enum Opened {
        case message([UInt8])
        /// A nonce not above the last one for that key pair: a replay or a reordered packet.
        case stale
        /// The key numbers fit no pair we hold: answer with an Init.
        case unknownKeys
        /// The box did not open with the pair it named: answer with an Init.
        case failedOpen
    }

    /// Opens one data packet (ironwood's `doRecv`). Which key pair is tried is decided by the
    /// two key numbers alone; a packet is never tried against a second pair.
    func open(_ packet: IronwoodSessionTraffic, now: Instant, timeout: Double) -> Opened {
        let fromCurrent = packet.senderKeySeq == remoteKeySeq
        let fromNext = packet.senderKeySeq == remoteKeySeq &+ 1
        let toRecv = packet.receiverKeySeq &+ 1 == localKeySeq
        let toSend = packet.receiverKeySeq == localKeySeq
        let nonce = packet.nonce
        enum Pair { case current, nextToSend, nextToRecv }
        let pair: Pair
        let key: [UInt8]
        switch true {
        case fromCurrent && toRecv:
            // The usual case: the peer seals with its current key to our previous send key
            // (which, after its Ack, is the key it knows as our current).
            guard recvNonce < nonce else { return .stale }
            pair = .current
            key = recvShared
        case fromNext && toSend:
            // The peer has ratcheted forward.
            guard nextSendNonce < nonce else { return .stale }
            pair = .nextToSend
            key = nextSendShared
        case fromNext && toRecv:
            // The peer ratcheted early; nothing stops us from following.
            guard nextRecvNonce < nonce else { return .stale }
            pair = .nextToRecv
            key = nextRecvShared
        default:
            return .unknownKeys
        }
        guard let (innerKey, message) = packet.open(sharedKey: key) else { return .failedOpen }
        switch pair {
        case .current:
            recvNonce = nonce
        case .nextToSend, .nextToRecv:
            if pair == .nextToSend { nextSendNonce = nonce } else { nextRecvNonce = nonce }
            if rotated.map({ now.seconds(since: $0) > 60 }) ?? true {
                // Their next key becomes current, the key inside the box their next.
                current = next
                next = innerKey
                remoteKeySeq &+= 1
                advanceLocalKeys()
                fixShared(recvNonce: nonce, sendNonce: 0)
                rotated = now
            }
        }
        rx &+= UInt64(message.count)
        expires = now.adding(seconds: timeout)
        return .message(message)
    }
}
