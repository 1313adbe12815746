import Foundation
import PlanetCore
import PlanetAdmin
import PlanetCapacity
import PlanetNode

/// The runner's part in the capacity directory: it tells the node the wall clock and what the
/// machine has, at start and every `capacityInterval`, what the hosted VMs declare, and keeps
/// the directory's file in the state directory. NodeRunner calls these at start, on its timer
/// and at shutdown; the VM admin calls `declareVMCapacity` after each attach and detach.
extension NodeRunner {
    /// Measuring reads a few small files; a minute keeps the record current (memory resized,
    /// a disk added) at no cost worth counting, and bounds what a crash loses of the directory.
    static let capacityInterval = 60.0

    func startCapacity() {
        let now = MonotonicClock.now()
        node.setWallClock(unixSeconds: WallClock.unixSeconds(), now: now)
        CapacityDirectoryFile.restore(into: node, config: config, now: now, logger: logger)
        measureCapacity()
    }

    func measureCapacity() {
        let m = CapacityProbe().measure()
        node.capacityMeasured(m, unixSeconds: WallClock.unixSeconds(), now: MonotonicClock.now())
    }

    /// The timer's work: measure again (re-announcing if anything changed) and save the directory.
    func capacityTimerFired() {
        measureCapacity()
        saveCapacity()
        flush()
    }

    /// The timer's save runs off the loop (`CapacityDirectorySaver`); the last one, at shutdown,
    /// runs here once the loop has stopped.
    func saveCapacity(final: Bool = false) {
        if final {
            capacitySaver.saveNow(node.capacityDirectorySnapshot)
        } else {
            capacitySaver.saveInBackground(node.capacityDirectorySnapshot)
        }
    }

    /// Tells the node what its VMs declare (their leases' `--cpu --memory --disk`), so its
    /// record's used capacity is the reserve plus that. On the loop thread (or before the loop
    /// runs): the node is the loop's. The leases are read here rather than passed in, so two
    /// changes close together can't leave the node with the older sum.
    func declareVMCapacity() {
        guard let host = vmHost else { return }
        node.setDeclaredByVMs(NodeRunner.capacity(declaredByVMs: host.declaredTotals), now: MonotonicClock.now())
    }

    /// A VM's CPUs are the grid's `cru`, its memory `mru`; its disk counts as SSD (`sru`),
    /// where a VM's image lives on any host that offers VMs; `hru` (HDD) is for storage the
    /// grid rents by itself, which no VM lease declares.
    static func capacity(declaredByVMs t: (cpu: Int, memoryBytes: UInt64, diskBytes: UInt64)) -> CapacityResources {
        CapacityResources(cru: UInt64(max(0, t.cpu)), mru: t.memoryBytes, sru: t.diskBytes, hru: 0)
    }
}

extension NodeRunner {
    /// What a VM declares beyond what this node's record has free, one error per resource,
    /// named by the `vm attach` argument (`cpu`, `memory`, `disk` as SSD, the `sru` it counts
    /// as) and in the units the docs use. Attached anyway, it would leave the record with more
    /// used than total and nothing free, so VMAdmin refuses it unless told `force`.
    static func overDeclared(_ r: VMAttachRequest, free: CapacityResources) -> [VMTableError] {
        var out: [VMTableError] = []
        if let cpu = r.cpu, UInt64(cpu) > free.cru {
            out.append(VMTableError(argument: "cpu", "the VM declares \(cpu) CPU\(cpu == 1 ? "" : "s") but this node has \(free.cru) free"))
        }
        for (argument, declared, have) in [("memory", r.memoryBytes, free.mru), ("disk", r.diskBytes, free.sru)] {
            guard let declared, declared > have else { continue }
            out.append(VMTableError(argument: argument, "the VM declares \(ByteSize.approximate(declared, roundingUp: true)) but this node has \(ByteSize.approximate(have)) free"))
        }
        return out
    }
}

extension CapacityProbe {
    /// An offer of more than this machine has, as a config error naming the field (planetd
    /// checks it before starting, exit 2 like every bad config value).
    public static func checkOffer(_ config: NodeConfig) -> ConfigError? {
        guard config.capacity.enabled else { return nil }
        return CapacityAnnouncer.checkOffer(config.capacity, measured: CapacityProbe().measure())
    }
}
