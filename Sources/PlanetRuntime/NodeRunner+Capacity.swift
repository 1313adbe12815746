import Foundation
import PlanetCore
import PlanetCapacity
import PlanetNode

/// The runner's part in the capacity directory: it tells the node the wall clock and what the
/// machine has, at start and every `capacityInterval`, and keeps the directory's file in the
/// state directory. NodeRunner calls these at start, on its timer and at shutdown.
extension NodeRunner {
    /// Measuring reads a few small files; a minute keeps the record current (memory resized,
    /// a disk added) at no cost worth counting, and bounds what a crash loses of the directory.
    static let capacityInterval = 60.0

    func startCapacity() {
        let now = MonotonicClock.now()
        node.setWallClock(unixSeconds: Date().timeIntervalSince1970, now: now)
        CapacityDirectoryFile.restore(into: node, config: config, now: now, logger: logger)
        measureCapacity()
    }

    func measureCapacity() {
        let m = CapacityProbe().measure()
        node.capacityMeasured(m, unixSeconds: Date().timeIntervalSince1970, now: MonotonicClock.now())
    }

    /// The timer's work: measure again (re-announcing if anything changed) and save the directory.
    func capacityTimerFired() {
        measureCapacity()
        saveCapacity()
        flush()
    }

    func saveCapacity() { CapacityDirectoryFile.save(node, config: config, logger: logger) }
}

extension CapacityProbe {
    /// An offer of more than this machine has, as a config error naming the field (planetd
    /// checks it before starting, exit 2 like every bad config value).
    public static func checkOffer(_ config: NodeConfig) -> ConfigError? {
        guard config.capacity.enabled else { return nil }
        return CapacityAnnouncer.checkOffer(config.capacity, measured: CapacityProbe().measure())
    }
}
