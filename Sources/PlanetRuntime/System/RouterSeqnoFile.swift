import Foundation

/// The route seqno a node last announced, kept in `<stateDir>/router-seqno` across restarts.
/// A restarted node must start past it: its neighbours still hold routes with that seqno, and
/// only a larger one makes its fresh updates win over them.
struct RouterSeqnoFile {
    /// How far past the saved seqno a restart begins: the node may have announced up to this
    /// many more since the last save (it saves every 30 s and on a clean stop).
    static let restartMargin: UInt32 = 64

    let path: String

    init(stateDir: String) { path = stateDir + "/router-seqno" }

    enum Failure: Error, CustomStringConvertible {
        /// The file exists but holds no seqno (hand-edited, or a torn write on a full disk).
        case unreadable(String)
        case write(String)

        var description: String {
            switch self {
            case .unreadable(let why): return why
            case .write(let why): return why
            }
        }
    }

    /// The seqno to start from, nil when the file is absent (a first start).
    func restore() throws(Failure) -> UInt32? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable("cannot read \(path): \(error.localizedDescription)")
        }
        guard let saved = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .unreadable("\(path) does not hold a seqno")
        }
        return saved &+ RouterSeqnoFile.restartMargin
    }

    /// Replaces the file atomically (write a temporary, rename), so a crash mid-write leaves the
    /// previous seqno rather than a torn one.
    func save(_ seqno: UInt32) throws(Failure) {
        do { try "\(seqno)\n".write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw .write("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
