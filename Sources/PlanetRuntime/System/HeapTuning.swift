import CPlanetShim

/// How the daemon's heap behaves, set once at start.
public enum HeapTuning {
    /// glibc's defaults hand blocks of 128 KB and more to mmap and give free memory at the
    /// heap's top back to the kernel beyond 128 KB. A data path that allocates and frees a few
    /// 64 KB buffers per packet (Yggdrasil's wire at TUN MTU 65535: frame, payload, box,
    /// plaintext, packet) then page-faults on every packet: 10-12 % of a daemon's CPU in a
    /// profile, 16 % of throughput (Docs/performance.md, "Yggdrasil wire"). Blocks up to 1 MB
    /// come from the heap instead, and up to 8 MB of free heap stays mapped for the next ones.
    @discardableResult
    public static func keepPacketBuffers() -> Bool {
        planet_malloc_keep(1 << 20, 8 << 20) != 0
    }
}
