#if canImport(Glibc)
import Glibc
#endif
import CPlanetShim
import PlanetCore

/// A layer-3 TUN interface (IFF_TUN|IFF_NO_PI): each read is one IPv6 packet the kernel
/// routed into it, each write one packet delivered up its stack. Not persistent: when the
/// fd closes the kernel removes the interface, routes and addresses with it.
///
/// Offload: with `vnetHeader` the kernel prefixes every packet with a virtio-net header
/// (IFF_VNET_HDR). `headerLength` is that prefix; read and write strip/prepend it, so callers
/// always see bare IPv6 packets. With `offload` we also tell the kernel (TUNSETOFFLOAD) that we
/// finish checksums and cut TCP super-packets ourselves: the TCP stack above then sends 64 KiB
/// at a time, one read instead of ~45, and `readPackets` segments them (`Segmenter`).
/// `write(_:header:)` hands the kernel super-packets the other way (merged by `TCPCoalescer`).
/// Where the kernel offers it, UDP goes the same way (USO: `UDPSegmenter`, `UDPCoalescer`).
public final class TunDevice: PacketDevice {
    /// struct virtio_net_hdr is 10 bytes (TUNSETVNETHDRSZ could raise it to 12).
    public static let virtioHeaderLength = 10
    /// Packets the kernel may queue for us to read (its txqueuelen on this device).
    public static let readQueueLength: Int32 = 4096

    public let fd: Int32
    public var readinessFD: Int32 { fd }
    public var counters: PacketDeviceCounters {
        PacketDeviceCounters(readErrors: readErrors, offloadDrops: offloadDrops, writeErrors: writeErrors)
    }
    public let name: String
    public let interfaceIndex: UInt32
    public let headerLength: Int
    public private(set) var readErrors = 0
    public private(set) var writeErrors = 0
    private var closed = false
    /// Scratch for header prepend/strip when vnetHeader is on.
    private let scratch: UnsafeMutableRawPointer?
    private static let scratchSize = 65536 + 16

    /// Creates the interface. `name` may be a kernel template like "planet%d".
    /// `udpOffload` (with `offload`): ask for UDP segmentation offload too, where the kernel has it.
    public init(name: String, vnetHeader: Bool = false, offload: Bool = false, udpOffload: Bool = true) throws(SystemError) {
        var out = [CChar](repeating: 0, count: Int(IFNAMSIZ))
        let vnetHeader = vnetHeader || offload
        let f = planet_tun_open(name, vnetHeader ? 1 : 0, &out)
        guard f >= 0 else { throw SystemError("create TUN \(name)") }
        fd = f
        self.name = out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard let idx = NetworkInterface.index(of: self.name) else {
            let e = SystemError("index of \(self.name)")
            Glibc.close(f)
            throw e
        }
        interfaceIndex = idx
        headerLength = vnetHeader ? TunDevice.virtioHeaderLength : 0
        scratch = vnetHeader ? UnsafeMutableRawPointer.allocate(byteCount: TunDevice.scratchSize, alignment: 16) : nil
        // TUN_F_CSUM | TUN_F_TSO6 (IPv6 only, the overlay carries nothing else), and where the
        // kernel has it (6.2 on) UDP segmentation, TUN_F_USO4 | TUN_F_USO6 — the kernel takes the
        // two only together. An older kernel refuses the unknown bits: then TSO alone.
        if offload, udpOffload, planet_tun_set_offload(f, TunDevice.offloadCsum | TunDevice.offloadTSO6 | TunDevice.offloadUSO) == 0 {
            offloading = true
            udpOffloading = true
        } else {
            offloading = offload && planet_tun_set_offload(f, TunDevice.offloadCsum | TunDevice.offloadTSO6) == 0
            udpOffloading = false
        }
        readBuffer = .allocate(byteCount: TunDevice.scratchSize, alignment: 16)
        segmentBuffer = .allocate(byteCount: TunDevice.scratchSize, alignment: 16)
    }

    deinit {
        close()
        scratch?.deallocate()
        readBuffer.deallocate()
        segmentBuffer.deallocate()
    }

    /// True when the kernel accepted TUNSETOFFLOAD: reads may be super-packets (segmented by
    /// `readPackets`) and writes may be coalesced.
    public let offloading: Bool
    /// True when it accepted UDP segmentation offload too: reads may be UDP super-packets (from
    /// programs sending with UDP_SEGMENT) and writes may be `UDPCoalescer` runs.
    public let udpOffloading: Bool
    // TUN_F_* (linux/if_tun.h).
    static let offloadCsum: UInt32 = 0x01
    static let offloadTSO6: UInt32 = 0x04
    static let offloadUSO: UInt32 = 0x20 | 0x40
    /// Packets dropped because their virtio header or TCP framing didn't add up.
    public private(set) var offloadDrops = 0
    private let readBuffer: UnsafeMutableRawPointer
    private let segmentBuffer: UnsafeMutableRawPointer

    /// Reads up to `maxReads` times and calls `body` with every IPv6 packet that came out —
    /// one per read, or a super-packet's segments — and whether its TCP/UDP checksum is
    /// partial (`Segmenter`). Returns the number of reads that got data; `body`'s buffer is
    /// valid only during the call.
    public func readPackets(maxReads: Int, _ body: (UnsafeRawBufferPointer, Bool) -> Void) -> Int {
        var reads = 0
        while reads < maxReads {
            let n = Glibc.read(fd, readBuffer, TunDevice.scratchSize)
            if n < 0 { _ = readFailed(); break }
            if n == 0 { break }
            reads += 1
            guard headerLength > 0 else {
                body(UnsafeRawBufferPointer(start: readBuffer, count: n), false)
                continue
            }
            guard n > headerLength else { offloadDrops += 1; continue }
            let header = VirtioNetHeader(reading: readBuffer)
            let packet = UnsafeMutableRawBufferPointer(start: readBuffer + headerLength, count: n - headerLength)
            let outcome = Segmenter.process(header, packet: packet,
                                               scratch: UnsafeMutableRawBufferPointer(start: segmentBuffer, count: TunDevice.scratchSize),
                                               partialChecksums: true, emit: body)
            if outcome == .malformed { offloadDrops += 1 }
        }
        return reads
    }

    /// Writes one packet to a TUN without offloads (or any TUN), completing its TCP/UDP checksum
    /// first when it arrived checksum-partial: such a device takes no "finish it" hint.
    public func writeCompletingChecksum(_ packet: UnsafeRawBufferPointer, partial: Bool) {
        guard partial else { _ = write(packet); return }
        var copy = Array(packet)
        copy.withUnsafeMutableBytes { _ = InternetChecksum.completePartial($0) }
        copy.withUnsafeBytes { _ = write($0) }
    }

    /// Writes one packet behind the given virtio header (offloading devices: a coalesced
    /// super-packet with GSO fields), gathering both with writev so nothing is copied.
    @discardableResult
    public func write(_ packet: UnsafeRawBufferPointer, header: VirtioNetHeader) -> Bool {
        guard headerLength > 0 else { return write(packet) }
        var hdr = (UInt64(0), UInt64(0))
        let n = withUnsafeMutableBytes(of: &hdr) { h -> Int in
            header.write(to: h.baseAddress!)
            var iov = (iovec(iov_base: h.baseAddress, iov_len: headerLength),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: packet.baseAddress), iov_len: packet.count))
            return withUnsafeMutablePointer(to: &iov) { p in
                p.withMemoryRebound(to: iovec.self, capacity: 2) { Glibc.writev(fd, $0, 2) }
            }
        }
        if n < 0 { writeErrors += 1; return false }
        return true
    }

    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    public func setMTU(_ mtu: Int) throws(SystemError) { try NetworkInterface.setMTU(mtu, of: name) }
    public var mtu: Int? { NetworkInterface.mtu(of: name) }
    public func up() throws(SystemError) { try NetworkInterface.setUp(name) }

    public func addAddress(_ address: IPv6Address, prefixLength: Int) throws(SystemError) {
        let r = address.withBytes { planet_if_add_ipv6(Int32(interfaceIndex), $0, Int32(prefixLength)) }
        guard r == 0 else { throw SystemError("add \(address)/\(prefixLength) to \(name)") }
    }

    public func addRoute(_ prefix: IPv6Prefix, metric: Int = 256) throws(SystemError) {
        let r = prefix.address.withBytes { planet_route6(1, Int32(interfaceIndex), $0, Int32(prefix.length), Int32(metric)) }
        guard r == 0 else { throw SystemError("add route \(prefix) via \(name)") }
    }

    public func removeRoute(_ prefix: IPv6Prefix, metric: Int = 256) throws(SystemError) {
        let r = prefix.address.withBytes { planet_route6(0, Int32(interfaceIndex), $0, Int32(prefix.length), Int32(metric)) }
        guard r == 0 else { throw SystemError("remove route \(prefix) via \(name)") }
    }

    /// The node's standard setup. The address goes on as /7, which makes the kernel install
    /// the 200::/7 route itself (every other node's address); the 300::/8 subnet range
    /// needs an explicit route. The link goes up first because IPv6 installs prefix routes
    /// only on a running device and refuses routes via a down one. The address goes on with
    /// IFA_F_NODAD (planet_netif.c says why), so it is usable at once: a listener on it may
    /// bind the moment this returns.
    public func configure(address: IPv6Address, mtu: Int) throws(SystemError) {
        try setMTU(mtu)
        // The kernel queues at most txqueuelen packets for our reads (500 by default) and drops
        // the rest: a burst of small UDP packets while the loop is busy or descheduled
        // overflows 500 quickly. Best effort: a smaller queue only costs throughput.
        _ = planet_if_set_txqueuelen(name, TunDevice.readQueueLength)
        try up()
        try addAddress(address, prefixLength: 7)
        try addRoute(IPv6Prefix(address: IPv6Address(high: 0x0300_0000_0000_0000, low: 0), length: 8))
    }

    /// Reads one packet into `buffer`. Returns its length, 0 when nothing is waiting, -1 on
    /// error (counted).
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if let scratch {
            let n = Glibc.read(fd, scratch, TunDevice.scratchSize)
            guard n >= 0 else { return readFailed() }
            let body = max(0, n - headerLength)
            guard body <= buffer.count else { readErrors += 1; return -1 }
            if body > 0 { buffer.baseAddress!.copyMemory(from: scratch + headerLength, byteCount: body) }
            return body
        }
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        return n >= 0 ? n : readFailed()
    }

    private func readFailed() -> Int {
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
        readErrors += 1
        return -1
    }

    /// Writes one IPv6 packet. False (counted) when the kernel refuses it.
    @discardableResult
    public func write(_ packet: UnsafeRawBufferPointer) -> Bool {
        let n: Int
        if headerLength > 0 {
            return write(packet, header: VirtioNetHeader())
        } else {
            n = Glibc.write(fd, packet.baseAddress, packet.count)
        }
        if n < 0 { writeErrors += 1; return false }
        return true
    }

    @discardableResult
    public func write(_ packet: [UInt8]) -> Bool { packet.withUnsafeBytes { write($0) } }
}
