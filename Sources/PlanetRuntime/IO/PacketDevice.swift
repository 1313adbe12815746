import PlanetNode

/// What `NodeRunner` needs from a layer-3 packet device: the node's TUN (`TunDevice`), a VM's
/// device later, or an in-memory double in tests (PlanetTesting's `MemoryPacketDevice`, as wireguard-go's
/// `tun.Device` has `tuntest`). The runner holds its devices keyed by `PacketInterface`, reads
/// each when its `readinessFD` is readable and writes each output packet to the device its
/// `interface` names.
///
/// The runner calls it once per wakeup to read and once per flush to write, never per packet,
/// so holding devices as existentials costs no dynamic dispatch on the data path; inside a
/// conforming class every call is static.
public protocol PacketDevice: AnyObject {
    /// Readable while packets wait to be read; the runner registers it with its `EventLoop`
    /// (level-triggered, so a read that stops early is called again).
    var readinessFD: Int32 { get }
    /// Reads may be TCP super-packets, which `readPackets` cuts into segments with partial
    /// checksums (UDP super-packets too when `udpOffloading`), and writes may be `TCPCoalescer`
    /// super-packets behind a GSO virtio header.
    var offloading: Bool { get }
    /// Writes may also be `UDPCoalescer` super-packets (GSO type UDP_L4): the kernel accepted
    /// UDP segmentation offload on the device.
    var udpOffloading: Bool { get }
    var counters: PacketDeviceCounters { get }

    /// Reads up to `maxReads` times and calls `body` with every IPv6 packet that came out and
    /// whether its TCP/UDP checksum is partial. The bytes are valid only during the call, and
    /// `body` may flush the runner's output (which writes to this device). Returns the reads
    /// that got data: fewer than `maxReads` means the device is drained.
    func readPackets(maxReads: Int, _ body: (UnsafeRawBufferPointer, Bool) -> Void) -> Int

    /// Writes one packet behind `header` (offloading devices; others ignore it). False when
    /// the device refused it (counted in `counters.writeErrors`).
    @discardableResult
    func write(_ packet: UnsafeRawBufferPointer, header: VirtioNetHeader) -> Bool

    /// Writes one packet to a device that takes no checksum hint, completing a partial
    /// TCP/UDP checksum first.
    func writeCompletingChecksum(_ packet: UnsafeRawBufferPointer, partial: Bool)

    /// Writes the node's packets for this device, in order: merged by `coalescer` when the
    /// device offloads, else one by one with checksums completed.
    func writePackets(_ packets: [NodeOutput.TunPacket], coalescer: PacketCoalescer)

    func close()
}

extension PacketDevice {
    public func writePackets(_ packets: [NodeOutput.TunPacket], coalescer: PacketCoalescer) {
        if offloading {
            coalescer.coalesce(packets, mergeUDP: udpOffloading) { packet, header in _ = write(packet, header: header) }
        } else {
            for packet in packets { packet.withUnsafeBytes { writeCompletingChecksum($0, partial: packet.checksumPartial) } }
        }
    }
}

/// A packet device's losses, which `NodeRunner` reports under `io-` drop reasons.
public struct PacketDeviceCounters: Equatable, Sendable {
    /// Reads the kernel failed (not "nothing waiting").
    public var readErrors = 0
    /// Packets dropped because their virtio header or TCP framing didn't add up.
    public var offloadDrops = 0
    /// Packets the device refused.
    public var writeErrors = 0

    public init(readErrors: Int = 0, offloadDrops: Int = 0, writeErrors: Int = 0) {
        self.readErrors = readErrors
        self.offloadDrops = offloadDrops
        self.writeErrors = writeErrors
    }

    static func + (a: PacketDeviceCounters, b: PacketDeviceCounters) -> PacketDeviceCounters {
        PacketDeviceCounters(readErrors: a.readErrors + b.readErrors, offloadDrops: a.offloadDrops + b.offloadDrops,
                             writeErrors: a.writeErrors + b.writeErrors)
    }
}
