import PlanetCore

/// What the endpoints links observe say about the NAT in front of a node.
public enum NATMapping: String, Sendable {
    /// No link has told us where it sees us yet.
    case unknown
    /// Links see us at one of our own addresses: no NAT on those paths.
    case none
    /// Only one public observation so far: a NAT, kind not yet known.
    case unknownKind = "nat"
    /// Every link sees the same public address and port: the NAT maps our socket to one
    /// public endpoint whoever we talk to, so a peer can reach us there (punching works).
    case endpointIndependent = "endpoint-independent"
    /// Links see different public ports (or addresses): a new mapping per destination, so
    /// what one link saw is useless to anyone else (punching fails unless the other side
    /// has an endpoint-independent NAT and probes first).
    case symmetric

    public init(observed: [Endpoint], local: [Endpoint]) {
        let localAddresses = Set(local.map(\.address))
        let publicOnes = observed.filter { !localAddresses.contains($0.address) }
        if observed.isEmpty { self = .unknown; return }
        // Compare within one family: a v4 and a v6 observation are different paths, not a sign
        // of a symmetric NAT.
        let v4 = publicOnes.filter(\.isIPv4), v6 = publicOnes.filter { !$0.isIPv4 }
        let family = v4.count >= v6.count ? v4 : v6
        if family.isEmpty { self = .none; return }
        let distinct = Set(family.map { Endpoint(address: $0.address, port: $0.port) })
        if distinct.count > 1 { self = .symmetric } else { self = family.count > 1 ? .endpointIndependent : .unknownKind }
    }
}
