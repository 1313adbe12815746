#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CPlanetShim
import PlanetCore
import PlanetRuntime

/// A packet device in memory, for driving `NodeRunner` without root or a kernel TUN (as
/// wireguard-go's `tuntest`): a test `inject`s the packets "the kernel routed into it" and
/// `takeWritten` what the runner wrote to it. An eventfd stands for its readiness, so the
/// runner's real epoll loop drives it exactly as it drives a TUN.
///
/// Thread-safe (a lock around the queues), so a test may feed it while a loop runs on another
/// thread; the lock is never held while the runner's callback runs, which may write back.
public final class MemoryPacketDevice: PacketDevice, @unchecked Sendable {
    /// One packet the runner wrote, with the virtio header it was written behind (an
    /// offloading device's coalesced super-packet has GSO fields; a plain write has none).
    public struct Written: Equatable {
        public let bytes: [UInt8]
        public let header: VirtioNetHeader
    }

    public var readinessFD: Int32 { inbound.fd }
    public let offloading: Bool
    public let udpOffloading: Bool
    private let lock = NSLock()
    private let inbound: ReadinessQueue<(bytes: [UInt8], checksumPartial: Bool)>
    private var written: [Written] = []
    private var counted = PacketDeviceCounters()
    private var refusing = false

    /// `offloading`: writes go through the coalescer (as on planetd's TUN) and are recorded with
    /// their headers; otherwise partial checksums are completed before they are recorded.
    /// `udpOffloading` (with `offloading`): UDP runs are merged too, as on a TUN with USO.
    public init(offloading: Bool = false, udpOffloading: Bool = false) throws(SystemError) {
        inbound = try ReadinessQueue()
        self.offloading = offloading
        self.udpOffloading = offloading && udpOffloading
    }

    deinit { close() }

    public var counters: PacketDeviceCounters { lock.lock(); defer { lock.unlock() }; return counted }

    /// Queues a packet for the runner to read, as if the kernel had routed it into the device.
    public func inject(_ packet: [UInt8], checksumPartial: Bool = false) { inbound.push((packet, checksumPartial)) }

    /// Packets not yet read.
    public var pendingCount: Int { inbound.count }

    /// What the runner wrote since the last call, in order.
    public func takeWritten() -> [Written] {
        lock.lock()
        defer { written.removeAll(); lock.unlock() }
        return written
    }

    /// While true, writes fail (counted), like a device the kernel took down.
    public func refuseWrites(_ refuse: Bool) {
        lock.lock()
        refusing = refuse
        lock.unlock()
    }

    public func readPackets(maxReads: Int, _ body: (UnsafeRawBufferPointer, Bool) -> Void) -> Int {
        var reads = 0
        // One at a time: the runner's callback may inject more (a test's echo), read in turn.
        while reads < maxReads, let (bytes, partial) = inbound.take(upTo: 1).first {
            reads += 1
            bytes.withUnsafeBytes { body($0, partial) }
        }
        return reads
    }

    @discardableResult
    public func write(_ packet: UnsafeRawBufferPointer, header: VirtioNetHeader) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !refusing else { counted.writeErrors += 1; return false }
        written.append(Written(bytes: Array(packet), header: offloading ? header : VirtioNetHeader()))
        return true
    }

    public func writeCompletingChecksum(_ packet: UnsafeRawBufferPointer, partial: Bool) {
        guard partial else { write(packet, header: VirtioNetHeader()); return }
        var copy = Array(packet)
        copy.withUnsafeMutableBytes { _ = InternetChecksum.completePartial($0) }
        copy.withUnsafeBytes { _ = write($0, header: VirtioNetHeader()) }
    }

    public func close() { inbound.close() }
}
