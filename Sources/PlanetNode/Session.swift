import PlanetCore
import PlanetLink

/// An end-to-end session with one remote node, independent of the path between us: relays
/// change, the session doesn't. It holds up to a few keypairs (the newest sends; older ones
/// still receive until they expire, so a rekey loses nothing).
final class Session {
    let peer: PublicKey
    let created: Instant
    var keypairs: [Keypair] = []
    var initiator: HandshakeInitiator?
    var initiatorIndex: UInt32 = 0
    var handshakeStarted: Instant = .zero
    var lastInitSent: Instant = .zero
    var lastReceived: Instant = .zero
    var lastSent: Instant = .zero
    /// Set when we send data and cleared by any authentic message back: if the peer stays
    /// silent too long (it restarted and lost our keys), we handshake again.
    var unansweredSince: Instant?
    var lastEstablished: Instant = .zero
    /// When a packet of a program last went either way (not a keepalive, not control): what
    /// hole punching calls a session carrying traffic.
    var lastDataAt: Instant = .zero
    /// When a message with something in it (data or control, not a keepalive) last arrived:
    /// only those are answered with a passive keepalive, or two idle ends would keep
    /// answering each other's keepalives until their keys expire.
    var lastPayloadReceived: Instant = .zero
    var rxBytes: UInt64 = 0
    var txBytes: UInt64 = 0
    var rxPackets: UInt64 = 0
    var txPackets: UInt64 = 0

    init(peer: PublicKey, now: Instant) {
        self.peer = peer
        created = now
    }

    var current: Keypair? { keypairs.last }
    var isEstablished: Bool { current != nil }

    func install(_ keypair: Keypair, limit: Int = 3) {
        keypairs.append(keypair)
        if keypairs.count > limit { keypairs.removeFirst(keypairs.count - limit) }
    }
}
