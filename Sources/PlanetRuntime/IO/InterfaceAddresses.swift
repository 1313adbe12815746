#if canImport(Glibc)
import Glibc
#endif
import PlanetCore

/// The host's own unicast addresses (getifaddrs): what hole punching offers a peer as `local`
/// candidates, so two nodes behind one NAT find each other over their LAN. Loopback,
/// link-local (it would need a scope the peer cannot know), multicast and overlay addresses
/// (200::/7, reached through the overlay itself) are left out, and so is the node's own TUN.
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

    /// Whether a peer on our LAN could reach us at this address.
    static func isOffered(_ a: IPv6Address) -> Bool {
        if a.high == 0, a.low >> 32 == 0x0000_ffff {
            let v4 = UInt32(truncatingIfNeeded: a.low)
            return v4 >> 24 != 127 && v4 >> 24 != 0 && v4 >> 16 != 0xa9fe   // loopback, this-network, 169.254/16
        }
        let first = UInt8(a.high >> 56)
        if first == 0xff { return false }                                    // multicast
        if a.high >> 54 == 0xfe80 >> 6 { return false }                      // fe80::/10
        if first & 0xfe == 0x02 { return false }                             // 200::/7, the overlay
        return !(a.high == 0 && a.low <= 1)                                  // :: and ::1
    }
}
