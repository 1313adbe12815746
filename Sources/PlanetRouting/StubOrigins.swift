import PlanetCore

/// What a stub router knows about origins instead of a routing table (Router+Stub.swift): a
/// bounded cache of origins it resolved through its upstream (each one's signature checked
/// here, its address derived from its key) and the queries still out. Its size depends on
/// whom this node talks to, never on the network's size.
struct StubOrigins {
    struct Resolved {
        let key: PublicKey
        var seqno: UInt32
        var expires: Instant
    }

    struct Query {
        /// The address asked about (any address of the origin: its node address or one in its /64).
        let address: IPv6Address
        var sentAt: Instant
        var tries: Int
    }

    /// Resolved origins and outstanding queries, by `OverlayAddress.lookupTag` (an origin's
    /// address and its whole /64 share one tag, so a subnet costs one entry and one query).
    var resolved: [UInt64: Resolved] = [:]
    var queries: [UInt64: Query] = [:]
    /// Answers for the node, in the order they came (`Router.drainResolutions`).
    var resolutions: [StubResolution] = []
    /// Configured peers in the operator's order (`Router.setUpstreamPreference`).
    var preference: [PublicKey] = []

    /// The cached origin owning `address` (expired entries go at the router's tick).
    func lookup(_ address: IPv6Address) -> PublicKey? {
        guard let r = resolved[OverlayAddress.lookupTag(for: address)],
              OriginEntry.owns(address, address: r.key.address) else { return nil }
        return r.key
    }

    /// Keeps `key` until `expires`; a full cache gives up the entry that expires first.
    mutating func insert(_ key: PublicKey, seqno: UInt32, expires: Instant, capacity: Int) {
        let tag = OverlayAddress.lookupTag(for: key.address)
        if resolved[tag] == nil, resolved.count >= max(1, capacity),
           let victim = resolved.min(by: { $0.value.expires < $1.value.expires })?.key {
            resolved[victim] = nil
        }
        resolved[tag] = Resolved(key: key, seqno: seqno, expires: expires)
    }

    mutating func expire(now: Instant) {
        resolved = resolved.filter { $0.value.expires > now }
    }

    var estimatedMemoryBytes: Int {
        resolved.count * (8 + MemoryLayout<Resolved>.stride) + queries.count * (8 + MemoryLayout<Query>.stride)
            + preference.count * MemoryLayout<PublicKey>.stride
    }
}

/// A stub's answer to `Router.resolve`: the origin owning an address, or none to be had.
public enum StubResolution: Equatable, Sendable {
    case resolved(IPv6Address, PublicKey)
    case unresolved(IPv6Address)
}
