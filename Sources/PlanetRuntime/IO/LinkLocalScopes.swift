import PlanetCore

/// Which interface a link-local (fe80::/10) address was seen on. Endpoint carries no scope
/// id, yet the kernel cannot send to fe80:: without one, so the runtime remembers the
/// interface of every link-local source it hears (UDP receive, multicast beacons) and
/// supplies it when sending. The same fe80:: address on two links is possible but rare;
/// the latest sighting wins. Bounded: when full, the table is cleared (entries are
/// re-learned from the next datagram or beacon).
public final class LinkLocalScopes {
    public let capacity: Int
    private var table: [IPv6Address: UInt32] = [:]

    public init(capacity: Int = 4096) { self.capacity = capacity }

    public var count: Int { table.count }

    public func remember(_ scope: UInt32, for address: IPv6Address) {
        guard address.isLinkLocal, scope != 0 else { return }
        if table[address] == scope { return }
        if table.count >= capacity, table[address] == nil { table.removeAll(keepingCapacity: true) }
        table[address] = scope
    }

    /// The scope id to send with; 0 (none) for global addresses or unknown link-locals.
    public func scope(for address: IPv6Address) -> UInt32 {
        guard address.isLinkLocal else { return 0 }
        return table[address] ?? 0
    }
}
