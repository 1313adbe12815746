#if canImport(Glibc)
import Glibc
#endif
import CPlanetShim

/// A network interface as the kernel names and numbers it.
public struct NetworkInterface: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let index: UInt32

    public init(name: String, index: UInt32) {
        self.name = name
        self.index = index
    }

    public var description: String { "\(name)#\(index)" }

    /// All interfaces now present (if_nameindex), in kernel index order.
    public static func all() -> [NetworkInterface] {
        guard let list = if_nameindex() else { return [] }
        defer { if_freenameindex(list) }
        var out: [NetworkInterface] = []
        var p = list
        while p.pointee.if_index != 0, let name = p.pointee.if_name {
            out.append(NetworkInterface(name: String(cString: name), index: p.pointee.if_index))
            p += 1
        }
        return out
    }

    public static func index(of name: String) -> UInt32? {
        let i = planet_if_index(name)
        return i > 0 ? UInt32(i) : nil
    }

    public static func mtu(of name: String) -> Int? {
        let m = planet_if_get_mtu(name)
        return m > 0 ? Int(m) : nil
    }

    public static func isLoopback(_ name: String) -> Bool { planet_if_is_loopback(name) == 1 }

    public static func setMTU(_ mtu: Int, of name: String) throws(SystemError) {
        guard planet_if_set_mtu(name, Int32(mtu)) == 0 else { throw SystemError("set MTU \(mtu) on \(name)") }
    }

    public static func setUp(_ name: String) throws(SystemError) {
        guard planet_if_set_up(name) == 0 else { throw SystemError("bring \(name) up") }
    }

    /// Whether the interface has an IPv6 link-local address yet; multicast beacons from an
    /// interface without one would carry no usable source (DAD still running on new veths).
    public static func hasLinkLocalAddress(_ name: String) -> Bool {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else { return false }
        defer { freeifaddrs(head) }
        var p = head
        while let cur = p {
            defer { p = cur.pointee.ifa_next }
            guard let sa = cur.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET6),
                  String(cString: cur.pointee.ifa_name) == name else { continue }
            let isLinkLocal = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { s6 in
                withUnsafeBytes(of: s6.pointee.sin6_addr) { $0[0] == 0xfe && $0[1] & 0xc0 == 0x80 }
            }
            if isLinkLocal { return true }
        }
        return false
    }
}
