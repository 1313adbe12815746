import PlanetCore

/// The data plane's view of the VMs a node hosts: for each VM address, its inbound policy, its
/// counters, and the flows the VM itself opened (so answers to them come back whatever the
/// policy says: a VM limited to `tcp:22` can still fetch its updates).
///
/// Why flows and not "TCP with ACK set passes": a stateless rule would let any key send ACK
/// probes or UDP "replies" to every port; a flow table lets in only what answers a packet the
/// VM sent, from the address it sent it to. It is bounded (`capacity`); idle flows expire after
/// `flowIdle`; when it is full a new flow is not recorded (counted), so its answers meet the
/// policy like any other packet, and nothing the VM did can grow the node's memory.
public struct VMGuard {
    public final class Entry {
        public let name: String
        public var policy: VMPolicy
        public var rxPackets: UInt64 = 0
        public var rxBytes: UInt64 = 0
        public var txPackets: UInt64 = 0
        public var txBytes: UInt64 = 0
        /// Inbound packets the policy refused.
        public var refused: UInt64 = 0

        init(name: String, policy: VMPolicy) {
            self.name = name
            self.policy = policy
        }
    }

    /// One direction-free flow, as seen from the VM: its port, the remote's address and port.
    /// ICMPv6 echo uses the identifier as the VM's port and 0 as the remote's.
    struct Flow: Hashable {
        let vm: IPv6Address
        let remote: IPv6Address
        let nextHeader: UInt8
        let vmPort: UInt16
        let remotePort: UInt16
    }

    public static let capacity = 16384
    public static let flowIdle = 180.0

    public private(set) var entries: [IPv6Address: Entry] = [:]
    var flows: [Flow: Instant] = [:]
    var lastSweep = Instant.zero
    public private(set) var flowTableFull: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { entries.isEmpty }

    mutating func set(address: IPv6Address, name: String, policy: VMPolicy) {
        if let e = entries[address], e.name == name {
            e.policy = policy
        } else {
            entries[address] = Entry(name: name, policy: policy)
        }
    }

    mutating func remove(address: IPv6Address) {
        entries[address] = nil
        flows = flows.filter { $0.key.vm != address }
    }

    /// The packet's transport ports (source, destination) when its first next header is TCP
    /// or UDP and the header is there; the echo identifier for ICMPv6 echo.
    static func ports(_ packet: UnsafeRawBufferPointer, nextHeader: UInt8) -> (UInt16, UInt16)? {
        let t = IPv6Header.length
        switch nextHeader {
        case 6, 17:
            guard packet.count >= t + 4 else { return nil }
            return (UInt16(packet[t]) << 8 | UInt16(packet[t + 1]), UInt16(packet[t + 2]) << 8 | UInt16(packet[t + 3]))
        default:
            return nil
        }
    }

    static func icmpType(_ packet: UnsafeRawBufferPointer) -> UInt8? {
        packet.count > IPv6Header.length ? packet[IPv6Header.length] : nil
    }

    static func echoIdentifier(_ packet: UnsafeRawBufferPointer) -> UInt16? {
        packet.count >= IPv6Header.length + 6 ? UInt16(packet[IPv6Header.length + 4]) << 8 | UInt16(packet[IPv6Header.length + 5]) : nil
    }

    /// A packet a VM sent (`entry` is its VM's): counted, and remembered as a flow when the
    /// VM's policy is not `any` (under `any` every answer passes anyway).
    mutating func sent(_ packet: UnsafeRawBufferPointer, header h: IPv6Header, by entry: Entry, now: Instant) {
        entry.txPackets += 1
        entry.txBytes += UInt64(packet.count)
        guard !entry.policy.allowsAll, let flow = VMGuard.outboundFlow(packet, header: h) else { return }
        if flows[flow] == nil, flows.count >= VMGuard.capacity {
            sweep(now: now)
            if flows.count >= VMGuard.capacity { flowTableFull += 1; return }
        }
        flows[flow] = now
    }

    static func outboundFlow(_ packet: UnsafeRawBufferPointer, header h: IPv6Header) -> Flow? {
        if let (s, d) = ports(packet, nextHeader: h.nextHeader) {
            return Flow(vm: h.source, remote: h.destination, nextHeader: h.nextHeader, vmPort: s, remotePort: d)
        }
        if h.nextHeader == IPv6Header.icmpv6, icmpType(packet) == ICMPv6.echoRequest, let id = echoIdentifier(packet) {
            return Flow(vm: h.source, remote: h.destination, nextHeader: h.nextHeader, vmPort: id, remotePort: 0)
        }
        return nil
    }

    /// Whether a packet for the VM `entry` from `sender` may be delivered: ICMPv6 errors (about
    /// the VM's own packets; path MTU discovery needs them) and answers to the VM's flows
    /// always; the rest by the policy. Counts what it lets in and what it refuses.
    mutating func admits(_ packet: UnsafeRawBufferPointer, header h: IPv6Header, to entry: Entry, from sender: PublicKey,
                         now: Instant) -> Bool {
        if !entry.policy.allowsAll, !isAnswer(packet, header: h, now: now) {
            let port = VMGuard.ports(packet, nextHeader: h.nextHeader)?.1
            guard entry.policy.allows(sender: sender, nextHeader: h.nextHeader, destinationPort: port) else {
                entry.refused += 1
                return false
            }
        }
        entry.rxPackets += 1
        entry.rxBytes += UInt64(packet.count)
        return true
    }

    func isAnswer(_ packet: UnsafeRawBufferPointer, header h: IPv6Header, now: Instant) -> Bool {
        if h.nextHeader == IPv6Header.icmpv6, let type = VMGuard.icmpType(packet) {
            if type < 128 { return true }
            guard type == ICMPv6.echoReply, let id = VMGuard.echoIdentifier(packet) else { return false }
            return fresh(Flow(vm: h.destination, remote: h.source, nextHeader: h.nextHeader, vmPort: id, remotePort: 0), now: now)
        }
        guard let (s, d) = VMGuard.ports(packet, nextHeader: h.nextHeader) else { return false }
        return fresh(Flow(vm: h.destination, remote: h.source, nextHeader: h.nextHeader, vmPort: d, remotePort: s), now: now)
    }

    func fresh(_ flow: Flow, now: Instant) -> Bool {
        guard let seen = flows[flow] else { return false }
        return now.seconds(since: seen) <= VMGuard.flowIdle
    }

    /// Drops idle flows; at most every `flowIdle / 4` unless forced by a full table.
    mutating func sweep(now: Instant, force: Bool = true) {
        guard force || now.seconds(since: lastSweep) >= VMGuard.flowIdle / 4 else { return }
        lastSweep = now
        flows = flows.filter { now.seconds(since: $0.value) <= VMGuard.flowIdle }
    }

    public var flowCount: Int { flows.count }
}
