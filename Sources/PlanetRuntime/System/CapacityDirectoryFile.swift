import Foundation
import PlanetCore
import PlanetNode

/// The capacity directory's file in the state directory, so a restarted node does not start
/// with an empty directory (and a node that announces keeps its seqno ahead of its last record).
enum CapacityDirectoryFile {
    static func path(_ config: NodeConfig) -> String { config.stateDir + "/capacity-directory" }

    static func restore(into node: Node, config: NodeConfig, now: Instant, logger: Logger) {
        guard let data = FileManager.default.contents(atPath: path(config)) else { return }
        let kept = node.restoreCapacityDirectory(Array(data), unixSeconds: WallClock.unixSeconds(), now: now)
        logger.info("capacity directory restored", [("records", "\(kept)")])
    }

    static func save(_ node: Node, config: NodeConfig, logger: Logger) {
        do {
            try Data(node.savedCapacityDirectory()).write(to: URL(fileURLWithPath: path(config)), options: .atomic)
        } catch {
            logger.warn("cannot save the capacity directory", [("path", path(config)), ("error", "\(error)")])
        }
    }
}
