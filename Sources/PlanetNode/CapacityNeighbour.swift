import PlanetCore
import PlanetCapacity
import PlanetRouting
import PlanetAdmin

/// Capacity gossip as a neighbour protocol: frames of type 0x11 to and from `CapacityGossip`,
/// output paced in lane 1 (after routing), and the node's own record from `CapacityAnnouncer`
/// published when it is due. Records carry wall-clock times, so this adapter also keeps the
/// offset between the runtime's monotonic clock and Unix time, which the runtime tells it
/// (`Node.setWallClock`) at start and whenever it measures; until then it takes no records.
public final class CapacityNeighbour: NeighbourProtocol {
    public let gossip: CapacityGossip
    public let announcer: CapacityAnnouncer
    public let name = "capacity"
    public let frameType = InnerFrameType.capacity.rawValue
    /// Bulk by nature: a whole directory to a new neighbour must never delay a route change.
    public let pacingLane = 1
    /// Records describe machines, not paths: the route cache stays valid across them.
    public let changesRoutes = false
    /// Unix seconds minus monotonic seconds.
    public private(set) var wallClockOffset: Double?
    /// Messages that arrived before the runtime told the time.
    public private(set) var droppedWithoutClock: UInt64 = 0

    /// Messages wait here and are handled a few at a time, on the node's ticks, rather than
    /// as they arrive: each record that passes the directory's cheap rules costs a signature
    /// check (~77 µs), and a neighbour sending many genuinely signed records for fresh keys
    /// would otherwise hold the node's one event loop (and every packet behind it) for as
    /// long as it takes. Per neighbour in arrival order (bucket lists come in parts that
    /// belong together), neighbours in turn, and each tick handles messages until
    /// `checksPerTurn` signatures were checked (at most a message's worth more).
    var backlog = MessageBacklog()
    var backlogDue = Instant.never
    /// Signature checks per tick: fewer than routing's 64, records are bulk.
    public var checksPerTurn = 32
    /// Messages waiting from one neighbour (each at most 1,200 bytes: ~5 MB) and from all.
    public var maxWaitingPerNeighbour = 4096
    public var maxWaiting = 16_384
    /// Messages refused because their neighbour's backlog (or all of them) was full.
    public private(set) var droppedBacklogFull: UInt64 = 0

    public var directory: CapacityDirectory { gossip.directory }
    /// Message bodies received from neighbours, and their bytes (before the backlog).
    public private(set) var messagesReceived: UInt64 = 0
    public private(set) var bytesReceived: UInt64 = 0
    /// The admin calls waiting for their upstream's answer on a stub (NodeAdmin+StubFinder.swift),
    /// by query id; completed from the node's loop when the answer is in or the time is up.
    var waitingFinds: [UInt32: (request: AdminRequest, reply: (Result<any AdminResponse, AdminError>) -> Void)] = [:]

    public init(identity: NodeIdentity, config: CapacityConfig) {
        gossip = CapacityGossip(directory: CapacityDirectory(maxRecords: config.maxRecords))
        announcer = CapacityAnnouncer(identity: identity, config: config)
    }

    /// Takes what the capacity side needs from routing: whether this node is a stub (then it
    /// keeps its own record only and asks its upstream), which neighbours said they are stubs
    /// (they get no floods or summaries), and the route metric for the find answers it gives.
    func follow(_ router: Router) {
        gossip.isStub = router.isStub
        gossip.isStubNeighbour = { [unowned router] in router.isStubNeighbour($0) }
        let own = announcer.identity.publicKey
        gossip.metric = { [unowned router] key in
            key == own ? 0 : router.metric(to: key).flatMap { $0 == .max ? nil : Int($0) }
        }
    }

    public func setWallClock(unixSeconds: Double, at now: Instant) { wallClockOffset = unixSeconds - now.seconds }

    public func unixTime(_ now: Instant) -> Double? { wallClockOffset.map { now.seconds + $0 } }

    func instant(unix: Double) -> Instant {
        guard let offset = wallClockOffset else { return .never }
        return Instant(seconds: unix - offset)
    }

    /// Publishes the node's own record if one is due.
    func announce(now: Instant) {
        guard let unix = unixTime(now) else { return }
        let held = directory[announcer.identity.publicKey]?.seqno
        if let bytes = announcer.poll(unixNow: unix, heldSeqno: held) { gossip.publish(bytes, now: now, unixNow: unix) }
    }

    // MARK: NeighbourProtocol

    public func neighbourUp(_ key: PublicKey, now: Instant) { gossip.neighbourUp(key, now: now) }
    public func neighbourDown(_ key: PublicKey, now: Instant) {
        gossip.neighbourDown(key)
        // What it still had waiting would be refused now (the gossip no longer knows it).
        backlog.removeAll(from: key)
        if backlog.isEmpty { backlogDue = .never }
    }

    /// Messages waiting to be handled, from one neighbour or from all.
    public func waitingMessages(from key: PublicKey? = nil) -> Int {
        guard let key else { return backlog.count }
        return backlog.waiting(from: key)
    }
    public func neighbourRTT(_ key: PublicKey, seconds: Double, now: Instant) {}

    public func receive(_ body: [UInt8], from key: PublicKey, now: Instant) {
        messagesReceived += 1
        bytesReceived += UInt64(body.count)
        guard unixTime(now) != nil else { droppedWithoutClock += 1; return }
        guard backlog.add(body, from: key, perNeighbour: maxWaitingPerNeighbour, total: maxWaiting) else {
            droppedBacklogFull += 1
            return
        }
        if backlogDue == .never { backlogDue = now }
    }

    /// Handles waiting messages, one neighbour after another, until `budget` signatures were
    /// checked or nothing waits.
    public func handleBacklog(now: Instant, budget: Int) {
        guard let unix = unixTime(now) else { return }
        let start = directory.verifications
        while directory.verifications - start < UInt64(budget), let (key, body) = backlog.next() {
            gossip.receive(body, from: key, now: now, unixNow: unix)
        }
        backlogDue = backlog.isEmpty ? .never : now
    }

    public func tick(now: Instant) {
        guard let unix = unixTime(now) else { return }
        handleBacklog(now: now, budget: checksPerTurn)
        gossip.tick(now: now, unixNow: unix)
        announce(now: now)
        finishFinds(now: now)
    }

    public var nextDeadline: Instant {
        // Without Unix time `tick` does nothing, so nothing may be due: a summary due then
        // stayed due, and the runtime's loop spun on it (found by the session-control fuzzer,
        // whose nodes had no clock set; planetd sets it at start).
        guard wallClockOffset != nil else { return .never }
        var d = min(gossip.nextDeadline, backlogDue)
        if let due = announcer.nextDue() { d = min(d, instant(unix: due)) }
        if let expiry = directory.nextExpiry { d = min(d, instant(unix: Double(expiry))) }
        return d
    }

    public func drainOutgoing(_ send: (PublicKey, [UInt8]) -> Void) { gossip.drainOutgoing(send) }

    public var drops: [(String, UInt64)] {
        var out = gossip.drops
        if droppedWithoutClock > 0 { out.append(("capacity-no-clock", droppedWithoutClock)) }
        if droppedBacklogFull > 0 { out.append(("capacity-backlog-full", droppedBacklogFull)) }
        return out
    }
}
