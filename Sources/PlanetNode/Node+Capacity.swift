import PlanetCore
import PlanetCapacity

/// The runtime's inputs to the capacity directory: the wall clock, what it measured of the
/// machine, what VMs declare, and the directory's bytes across restarts.
extension Node {
    /// Unix time now, so records (which carry wall-clock times) can be judged.
    public func setWallClock(unixSeconds: Double, now: Instant) {
        capacity.setWallClock(unixSeconds: unixSeconds, at: now)
    }

    /// A fresh measurement of the machine, with the wall clock read alongside it; the node
    /// re-announces if its record changed.
    public func capacityMeasured(_ m: CapacityMeasurement, unixSeconds: Double, now: Instant) {
        capacity.setWallClock(unixSeconds: unixSeconds, at: now)
        capacity.announcer.measured(m, unixNow: unixSeconds)
        capacity.announce(now: now)
        pump(now: now)
    }

    /// What attached VMs declare they use (`vm attach --cpu --memory --disk`): used capacity is
    /// the reserve plus this. The runtime calls it when it adopts its VMs at start and after
    /// each attach and detach (NodeRunner+Capacity.swift).
    public func setDeclaredByVMs(_ r: CapacityResources, now: Instant) {
        capacity.announcer.declaredByVMs = r
        capacity.announce(now: now)
        pump(now: now)
    }

    /// What this node's record says is free now (offered less the reserve and what VMs
    /// declare, each at least zero); nil when it announces nothing (capacity off, or not
    /// measured yet). VM attach checks a VM's declaration against it.
    public var capacityFree: CapacityResources? {
        capacity.announcer.content().map { $0.total.subtractingClamped($0.used) }
    }

    /// Loads a saved directory (`CapacityDirectory.saved()`); returns how many records were kept
    /// (none on a stub).
    @discardableResult
    public func restoreCapacityDirectory(_ file: [UInt8], unixSeconds: Double, now: Instant) -> Int {
        capacity.setWallClock(unixSeconds: unixSeconds, at: now)
        // A stub keeps its own record only; it announces a fresh one (seqnos follow the clock).
        guard !capacity.gossip.isStub else { return 0 }
        return capacity.directory.restore(file, unixNow: unixSeconds)
    }

    public func savedCapacityDirectory() -> [UInt8] { capacity.directory.saved() }

    /// The directory's entries as they are now, for a save elsewhere (`CapacityDirectory.saved(_:)`):
    /// a copy-on-write array, so taking it costs the loop nothing.
    public var capacityDirectorySnapshot: [CapacityDirectory.Entry] { capacity.directory.entries }
}
