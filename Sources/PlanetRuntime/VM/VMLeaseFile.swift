import Foundation
import PlanetCore

/// The VM leases in `<stateDir>/vms.json` (`VMTable.json`): read when planetd starts, replaced
/// atomically after every attach, detach and policy change.
struct VMLeaseFile {
    let path: String

    init(stateDir: String) { path = stateDir + "/vms.json" }

    /// The leases, or an empty table when there is no file yet.
    func load(subnet: IPv6Prefix) throws(VMTableError) -> VMTable {
        guard FileManager.default.fileExists(atPath: path) else { return VMTable(subnet: subnet) }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw VMTableError(argument: path, "cannot read: \(error.localizedDescription)")
        }
        let doc: JSONValue
        do { doc = try JSONValue.parse(text) } catch { throw VMTableError(argument: path, error.description) }
        return try VMTable(subnet: subnet, json: doc)
    }

    func save(_ table: VMTable) throws(VMTableError) {
        do { try (table.json.serialized(pretty: true) + "\n").write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw VMTableError(argument: "lease", "cannot write \(path): \(error.localizedDescription)")
        }
    }
}
