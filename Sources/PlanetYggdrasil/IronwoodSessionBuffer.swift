import PlanetCore

/// The message waiting for a session to a key, and the Init that asks for it (ironwood's
/// `sessionBuffer`). The Init's keys are made once, kept with their secret halves, and sent
/// again with every message that replaces the waiting one: whichever copy the peer answers,
/// the Ack finds the keys it was made for.
struct IronwoodSessionBuffer {
    /// The latest message only; an earlier one is dropped (`buffer-replaced`).
    var message: [UInt8]
    let current: IronwoodBoxKeys
    let next: IronwoodBoxKeys
    /// The Init's `seq`: Unix seconds when this copy was sent. ironwood stamps it once, when the
    /// buffer is made, and sends that copy again and again; a peer that acknowledged the first
    /// but could not yet find a path back drops the copies as stale and never acknowledges
    /// again (the Ack waits for a lookup that went out before the peer's blooms knew us). A
    /// copy sent a second later carries a newer seq, which the peer takes as an update and
    /// acknowledges: its Ack, and so its lookup, goes out again. The keys stay the same.
    var seq: UInt64
    var expires: Instant

    init(message: [UInt8], seq: UInt64, expires: Instant) {
        self.message = message
        current = .fresh()
        next = .fresh()
        self.seq = seq
        self.expires = expires
    }

    /// Key numbers start at 0 for a session that does not exist yet.
    var initMessage: IronwoodSessionInit {
        IronwoodSessionInit(kind: .initiate, current: current.publicKey, next: next.publicKey, keySeq: 0, seq: seq)
    }
}
