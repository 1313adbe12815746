import PlanetCore
import PlanetCapacity

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

    public var directory: CapacityDirectory { gossip.directory }

    public init(identity: NodeIdentity, config: CapacityConfig) {
        gossip = CapacityGossip(directory: CapacityDirectory(maxRecords: config.maxRecords))
        announcer = CapacityAnnouncer(identity: identity, config: config)
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
    public func neighbourDown(_ key: PublicKey, now: Instant) { gossip.neighbourDown(key) }
    public func neighbourRTT(_ key: PublicKey, seconds: Double, now: Instant) {}

    public func receive(_ body: [UInt8], from key: PublicKey, now: Instant) {
        guard let unix = unixTime(now) else { droppedWithoutClock += 1; return }
        gossip.receive(body, from: key, now: now, unixNow: unix)
    }

    public func tick(now: Instant) {
        guard let unix = unixTime(now) else { return }
        gossip.tick(now: now, unixNow: unix)
        announce(now: now)
    }

    public var nextDeadline: Instant {
        var d = gossip.nextDeadline
        if let due = announcer.nextDue() { d = min(d, instant(unix: due)) }
        if let expiry = directory.nextExpiry { d = min(d, instant(unix: Double(expiry))) }
        return d
    }

    public func drainOutgoing(_ send: (PublicKey, [UInt8]) -> Void) { gossip.drainOutgoing(send) }

    public var drops: [(String, UInt64)] {
        var out = gossip.drops
        if droppedWithoutClock > 0 { out.append(("capacity-no-clock", droppedWithoutClock)) }
        return out
    }
}
