#if canImport(Glibc)
import Glibc
#endif
import PlanetCore
import PlanetNode

/// The host's own unicast addresses (getifaddrs): what hole punching offers a peer as `local`
/// candidates, so two nodes behind one NAT find each other over their LAN. Loopback,
/// link-local (it would need a scope the peer cannot know), multicast, broadcast and overlay
/// addresses (200::/7, reached through the overlay itself) are left out, and so is the node's
/// own TUN.
public enum InterfaceAddresses {
    public static func unicast(excluding excludedInterfaces: Set<String> = []) -> [IPv6Address] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else { return [] }
        defer { freeifaddrs(head) }
        var out: [IPv6Address] = []
        var p = head
        while let cur = p {
            defer { p = cur.pointee.ifa_next }
            guard let sa = cur.pointee.ifa_addr, !excludedInterfaces.contains(String(cString: cur.pointee.ifa_name)),
                  cur.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0, cur.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
            var address: IPv6Address?
            switch Int32(sa.pointee.sa_family) {
            case AF_INET:
                address = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { s4 in
                    let v = UInt32(bigEndian: s4.pointee.sin_addr.s_addr)
                    return IPv6Address(high: 0, low: 0x0000_ffff_0000_0000 | UInt64(v))
                }
            case AF_INET6:
                address = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { s6 in
                    withUnsafeBytes(of: s6.pointee.sin6_addr) { IPv6Address(Array($0)) }
                }
            default:
                continue
            }
            guard let a = address, isOffered(a), !out.contains(a) else { continue }
            out.append(a)
        }
        return out
    }

    /// Whether a peer on our LAN could reach us at this address: the addresses a node would
    /// refuse to probe itself (`EndpointCandidates.isProbeable`) are not offered either.
    static func isOffered(_ a: IPv6Address) -> Bool {
        EndpointCandidates.isProbeable(Endpoint(address: a, port: NodeConfig.defaultPort))
    }
}
