import PlanetCore
import PlanetLink

/// Sessions by peer key, and the index each of our keypairs and handshakes is known by, so a
/// data message finds its keypair with one lookup. Bounded: the least recently used session
/// goes when the table is full.
struct SessionTable {
    static let maxSessions = 4096
    static let maxPendingResponders = 1024

    private(set) var byPeer: [PublicKey: Session] = [:]
    /// local index → peer key (keypairs and our outstanding initiations)
    private(set) var byIndex: [UInt32: PublicKey] = [:]
    /// local index → responder waiting for the initiator's finish message
    var responders: [UInt32: (pending: PendingResponder, source: IPv6Address, since: Instant)] = [:]

    var count: Int { byPeer.count }
    var hasHandshakes: Bool { !responders.isEmpty || byPeer.values.contains { $0.initiator != nil } }
    var all: [Session] { Array(byPeer.values) }
    /// Whether any session has timers to watch (keepalives, unanswered data).
    var hasTraffic: Bool { byPeer.values.contains { $0.unansweredSince != nil || $0.lastPayloadReceived > $0.lastSent } }

    func session(_ key: PublicKey) -> Session? { byPeer[key] }

    mutating func session(for key: PublicKey, now: Instant) -> Session {
        if let s = byPeer[key] { return s }
        if byPeer.count >= SessionTable.maxSessions,
           let victim = byPeer.values.min(by: { max($0.lastSent, $0.lastReceived) < max($1.lastSent, $1.lastReceived) }) {
            remove(victim.peer)
        }
        let s = Session(peer: key, now: now)
        byPeer[key] = s
        return s
    }

    func peer(forIndex index: UInt32) -> PublicKey? { byIndex[index] }

    /// An index no keypair, handshake or waiting responder of ours uses (0 is never one).
    func freshIndex(random: inout SplitMix64) -> UInt32 {
        LocalIndex.draw(using: &random) { byIndex[$0] != nil || responders[$0] != nil }
    }

    mutating func releaseIndex(_ index: UInt32) { byIndex[index] = nil }

    mutating func bind(index: UInt32, to key: PublicKey) { byIndex[index] = key }

    mutating func remove(_ key: PublicKey) {
        guard let s = byPeer.removeValue(forKey: key) else { return }
        for k in s.keypairs { byIndex[k.localIndex] = nil }
        if s.initiator != nil { byIndex[s.initiatorIndex] = nil }
    }

    mutating func dropKeypairs(of session: Session, where shouldDrop: (Keypair) -> Bool) {
        let (gone, kept) = (session.keypairs.filter(shouldDrop), session.keypairs.filter { !shouldDrop($0) })
        for k in gone { byIndex[k.localIndex] = nil }
        session.keypairs = kept
    }
}
