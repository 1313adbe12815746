import Foundation
import PlanetCore
import PlanetNode
import PlanetCapacity

/// The capacity directory's file in the state directory, so a restarted node does not start
/// with an empty directory (and a node that announces keeps its seqno ahead of its last record).
enum CapacityDirectoryFile {
    static func path(_ config: NodeConfig) -> String { config.stateDir + "/capacity-directory" }

    static func restore(into node: Node, config: NodeConfig, now: Instant, logger: Logger) {
        guard let data = FileManager.default.contents(atPath: path(config)) else { return }
        let kept = node.restoreCapacityDirectory(Array(data), unixSeconds: WallClock.unixSeconds(), now: now)
        logger.info("capacity directory restored", [("records", "\(kept)")])
    }

    static func write(_ entries: [CapacityDirectory.Entry], to path: String, logger: Logger) {
        do {
            try Data(CapacityDirectory.saved(entries)).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            logger.warn("cannot save the capacity directory", [("path", path), ("error", "\(error)")])
        }
    }
}

/// Saves the directory away from the event loop: at 10⁵ records serializing and writing it takes
/// ~230 ms (`planetsim --loop-cost`, Docs/scale.md), which the loop must not stall for every
/// minute. The loop hands over a snapshot of the entries (free: copy on write) and goes on; one
/// save runs at a time, and a timer that fires while one runs skips its turn (the next minute's
/// save has newer records anyway). At shutdown the last save waits for the one in flight, then
/// runs on the caller's thread.
final class CapacityDirectorySaver: @unchecked Sendable {
    let path: String
    let logger: Logger
    let queue = DispatchQueue(label: "planetary.capacity-save")
    let lock = NSLock()
    var inFlight = false

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// False when a save was still running (this one is skipped).
    @discardableResult
    func saveInBackground(_ entries: [CapacityDirectory.Entry]) -> Bool {
        let start = lock.withLock { () -> Bool in
            if inFlight { return false }
            inFlight = true
            return true
        }
        guard start else { return false }
        queue.async { [self] in
            CapacityDirectoryFile.write(entries, to: path, logger: logger)
            lock.withLock { inFlight = false }
        }
        return true
    }

    func saveNow(_ entries: [CapacityDirectory.Entry]) {
        queue.sync {}
        CapacityDirectoryFile.write(entries, to: path, logger: logger)
    }
}
