import Foundation
import PlanetCore
import PlanetCapacity
#if canImport(Glibc)
import Glibc
#endif

/// Measures what a Linux machine has, for the node's capacity record, from what the kernel
/// already publishes (no extra packages): CPUs, /proc/meminfo, /sys/block, PCI display
/// controllers in /sys/bus/pci, global addresses on the interfaces, /proc/uptime. `root`
/// prefixes every path, so tests measure a fake tree.
public struct CapacityProbe: Sendable {
    public var root: String

    public init(root: String = "") { self.root = root }

    public func measure() -> CapacityMeasurement {
        let disks = self.disks()
        let addresses = CapacityProbe.interfaceAddresses()
        return CapacityMeasurement(
            cpus: UInt64(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
            memoryBytes: memoryBytes() ?? 0,
            ssdBytes: disks.ssd, hddBytes: disks.hdd, gpus: gpus(),
            publicIPv4: addresses.contains { $0.count == 4 && CapacityProbe.isPublic(ipv4: $0) },
            publicIPv6: addresses.contains { $0.count == 16 && CapacityProbe.isPublic(ipv6: $0) },
            uptimeSeconds: uptimeSeconds() ?? 0)
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: root + path, encoding: .utf8) }

    /// MemTotal, in bytes.
    public func memoryBytes() -> UInt64? {
        guard let text = read("/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kb = UInt64(fields[1]) else { return nil }
            return kb * 1024
        }
        return nil
    }

    public func uptimeSeconds() -> UInt64? {
        guard let first = read("/proc/uptime")?.split(separator: " ").first, let s = Double(first) else { return nil }
        return UInt64(s)
    }

    /// Block devices that are not views of others: loop devices (files), RAM disks and zram
    /// (memory, counted as `mru`), device-mapper and md (their member disks are counted
    /// already), network and optical devices. `queue/rotational` splits SSD from HDD.
    static let skippedDiskPrefixes = ["loop", "ram", "zram", "dm-", "md", "nbd", "sr", "fd"]

    public func disks() -> (ssd: UInt64, hdd: UInt64) {
        let dir = root + "/sys/block"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return (0, 0) }
        var ssd: UInt64 = 0, hdd: UInt64 = 0
        for name in names.sorted() where !CapacityProbe.skippedDiskPrefixes.contains(where: { name.hasPrefix($0) }) {
            guard let sectors = read("/sys/block/\(name)/size").flatMap({ UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else { continue }
            // The kernel counts `size` in 512-byte sectors whatever the device's own sector size.
            let bytes = sectors * 512
            let rotational = read("/sys/block/\(name)/queue/rotational")?.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
            if rotational { hdd += bytes } else { ssd += bytes }
        }
        return (ssd, hdd)
    }

    /// PCI devices of class 0x03xxxx (display controllers).
    public func gpus() -> [CapacityGPU] {
        let dir = root + "/sys/bus/pci/devices"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        func hex(_ path: String) -> UInt32? {
            guard let t = read(path)?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
            return UInt32(t.hasPrefix("0x") ? String(t.dropFirst(2)) : t, radix: 16)
        }
        var out: [CapacityGPU] = []
        for name in names.sorted() {
            let base = "/sys/bus/pci/devices/\(name)"
            guard let cls = hex(base + "/class"), cls >> 16 == 0x03, let vendor = hex(base + "/vendor"), let device = hex(base + "/device") else { continue }
            let v = UInt16(truncatingIfNeeded: vendor)
            out.append(CapacityGPU(vendor: v, device: UInt16(truncatingIfNeeded: device), name: CapacityGPU.knownVendors[v] ?? ""))
        }
        return out
    }

    /// Every IPv4 (4 bytes) and IPv6 (16 bytes) address on the machine's interfaces.
    static func interfaceAddresses() -> [[UInt8]] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else { return [] }
        defer { freeifaddrs(head) }
        var out: [[UInt8]] = []
        var p = head
        while let cur = p {
            defer { p = cur.pointee.ifa_next }
            guard let sa = cur.pointee.ifa_addr else { continue }
            if sa.pointee.sa_family == sa_family_t(AF_INET) {
                out.append(sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { s in withUnsafeBytes(of: s.pointee.sin_addr) { Array($0) } })
            } else if sa.pointee.sa_family == sa_family_t(AF_INET6) {
                out.append(sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { s in withUnsafeBytes(of: s.pointee.sin6_addr) { Array($0) } })
            }
        }
        return out
    }

    /// Globally routable IPv4: not private (RFC 1918), CGNAT (100.64/10), loopback,
    /// link-local, "this network", documentation, benchmarking, or multicast and above.
    public static func isPublic(ipv4 a: [UInt8]) -> Bool {
        guard a.count == 4 else { return false }
        switch (a[0], a[1], a[2]) {
        case (0, _, _), (10, _, _), (127, _, _): return false
        case (100, 64...127, _): return false
        case (169, 254, _): return false
        case (172, 16...31, _): return false
        case (192, 168, _), (192, 0, 0), (192, 0, 2): return false
        case (198, 18...19, _), (198, 51, 100), (203, 0, 113): return false
        default: return a[0] < 224
        }
    }

    /// Globally routable IPv6: inside 2000::/3 (which leaves out ULA, link-local, loopback,
    /// multicast and the overlay's own 200::/7), and not documentation (2001:db8::/32).
    public static func isPublic(ipv6 a: [UInt8]) -> Bool {
        guard a.count == 16, a[0] & 0xe0 == 0x20 else { return false }
        return !(a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
    }
}
