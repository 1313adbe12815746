#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CPlanetShim
import PlanetCore

/// Link-local discovery transport: one UDP socket on a fixed port that joins a link-scope
/// multicast group on every matching interface and can beacon out of each one.
///
/// Constants (see Docs/architecture.md "Runtime I/O"): group ff02::114 (link-local scope,
/// the same group Yggdrasil uses, so packet captures look familiar; our beacons carry
/// their own magic and cannot be mistaken for Yggdrasil's), port 8471 (not Yggdrasil's
/// 9001 so both can run side by side).
///
/// Interface choice: a name is used when any configured pattern matches the WHOLE name
/// (NSRegularExpression, anchored), it is not loopback, not in `excluded` (the node's own
/// TUN), and it has an IPv6 link-local address (without one a beacon has no source the
/// peer could dial back; new veths get theirs after DAD). `rescan()` re-evaluates this;
/// call it periodically (or use `startRescanning`) so interfaces that appear later join.
///
/// Received sources are fe80:: addresses; their interface index is recorded in the shared
/// `scopes` table, so a UDPSocket sharing that table can reply to them.
public final class MulticastSocket {
    public static let defaultPort: UInt16 = 8471
    /// ff02::114
    public static let defaultGroup = IPv6Address(high: 0xff02_0000_0000_0000, low: 0x114)

    public let fd: Int32
    public let port: UInt16
    public let group: IPv6Address
    public let scopes: LinkLocalScopes
    public var excluded: Set<String>
    /// Interfaces currently joined, by index.
    public private(set) var joined: [UInt32: String] = [:]
    public private(set) var sendErrors = 0
    public private(set) var receiveErrors = 0
    private let patterns: [NSRegularExpression]
    private var rescanTimer: PeriodicTimer?
    private var closed = false

    /// `patterns` are regular expressions over interface names; an invalid one is an error
    /// here (config validation should have caught it).
    public init(patterns: [String], port: UInt16 = MulticastSocket.defaultPort, group: IPv6Address = MulticastSocket.defaultGroup,
                excluded: Set<String> = [], scopes: LinkLocalScopes = LinkLocalScopes()) throws(SystemError) {
        var compiled: [NSRegularExpression] = []
        for p in patterns {
            guard let re = try? NSRegularExpression(pattern: "^(?:" + p + ")$") else {
                throw SystemError("multicast interface pattern '\(p)'", errno: EINVAL)
            }
            compiled.append(re)
        }
        self.patterns = compiled
        self.port = port
        self.group = group
        self.excluded = excluded
        self.scopes = scopes
        let s = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw SystemError("socket") }
        var one: Int32 = 1
        // Several sockets on one host (tests, two daemons in one namespace) share the port;
        // multicast is delivered to each of them.
        _ = setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = planet_set_v6only(s, 1)
        // Our own beacons are of no interest; hop limit 1 keeps them on the link.
        _ = planet_mcast6_set_loop(s, 0)
        _ = planet_mcast6_set_hops(s, 1)
        var any = planet_peer(Endpoint(address: IPv6Address(high: 0, low: 0), port: port))
        guard planet_bind(s, AF_INET6, &any) == 0 else {
            let e = SystemError("bind [::]:\(port)")
            Glibc.close(s)
            throw e
        }
        fd = s
        rescan()
    }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        rescanTimer?.cancel()
        rescanTimer = nil
        Glibc.close(fd)
    }

    public func matches(_ name: String) -> Bool {
        let range = NSRange(name.startIndex..., in: name)
        return patterns.contains { $0.firstMatch(in: name, range: range) != nil }
    }

    /// Joins newly eligible interfaces and leaves vanished or ineligible ones. Returns the
    /// names joined by this call.
    @discardableResult
    public func rescan() -> [String] {
        var wanted: [UInt32: String] = [:]
        for ifc in NetworkInterface.all() where !excluded.contains(ifc.name) && matches(ifc.name) {
            guard !NetworkInterface.isLoopback(ifc.name), NetworkInterface.hasLinkLocalAddress(ifc.name) else { continue }
            wanted[ifc.index] = ifc.name
        }
        for (index, _) in joined where wanted[index] == nil {
            _ = group.withBytes { planet_mcast6_leave(fd, index, $0) }
            joined[index] = nil
        }
        var added: [String] = []
        for (index, name) in wanted.sorted(by: { $0.key < $1.key }) where joined[index] == nil {
            let r = group.withBytes { planet_mcast6_join(fd, index, $0) }
            if r == 0 || errno == EADDRINUSE {
                joined[index] = name
                added.append(name)
            }
        }
        return added
    }

    /// Re-scans every `seconds` on the loop.
    public func startRescanning(on loop: EventLoop, every seconds: Double = 5) throws(SystemError) {
        rescanTimer?.cancel()
        rescanTimer = try PeriodicTimer(loop: loop, every: seconds) { [weak self] in self?.rescan() }
    }

    /// Sends `beacon` to the group out of every joined interface. Returns how many went.
    @discardableResult
    public func sendBeacon(_ beacon: UnsafeRawBufferPointer) -> Int {
        var sent = 0
        for index in joined.keys.sorted() {
            _ = planet_mcast6_set_if(fd, index)
            var peer = planet_peer(Endpoint(address: group, port: port), scope: index)
            if planet_sendto(fd, AF_INET6, beacon.baseAddress, beacon.count, &peer) >= 0 { sent += 1 } else { sendErrors += 1 }
        }
        return sent
    }

    @discardableResult
    public func sendBeacon(_ beacon: [UInt8]) -> Int { beacon.withUnsafeBytes { sendBeacon($0) } }

    /// Receives waiting beacons. `batch.endpoint(i)` is the sender's fe80:: address and
    /// port, `batch.scopeID(i)` the interface it arrived on (also recorded in `scopes`).
    @discardableResult
    public func receive(into batch: DatagramBatch) -> Int {
        let n = batch.refill(socketIndex: 0) {
            Int(planet_recvmmsg(fd, batch.slab.assumingMemoryBound(to: UInt8.self), batch.slotSize,
                                Int32(batch.capacity), batch.lengths, batch.peers))
        }
        guard n >= 0 else {
            receiveErrors += 1
            return 0
        }
        for i in 0..<n {
            let p = batch.peers[i]
            scopes.remember(p.scope_id, for: IPv6Address(high: p.high, low: p.low))
        }
        return n
    }

    public func interfaceName(index: UInt32) -> String? { joined[index] }
}
