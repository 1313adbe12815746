import Foundation
import PlanetCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads the config file and the node key from disk. Errors are `StartupError`s whose text
/// is the one line planetd prints before exiting with code 2.
public enum ConfigLoader {
    public static func load(path: String) throws(StartupError) -> NodeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw StartupError("cannot read config file \(path): permission denied") }
            throw StartupError("config file \(path) does not exist (create one with: planetd genconf > \(path))")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw StartupError("config file \(path) is not UTF-8 text") }
        do { return try NodeConfig.parse(text) } catch {
            var message = "\(path): \(error.description)"
            if error.field.isEmpty, text.contains("PrivateKey") {
                message += " (this looks like a Yggdrasil config; convert it with: planetd genconf --from-yggdrasil \(path))"
            }
            throw StartupError(message)
        }
    }

    public static func keyFilePath(_ config: NodeConfig) -> String { config.stateDir + "/private.key" }

    /// The configured key, or the key file in the state directory. With `create`, a missing key
    /// file is generated (state directory 0700, key file 0600) — the first start of a node.
    public static func identity(for config: NodeConfig, create: Bool, logger: Logger = .disabled) throws(StartupError) -> NodeIdentity {
        if let key = config.privateKey { return key }
        let path = keyFilePath(config)
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self)
            do { return try NodeIdentity(hex: text) } catch { throw StartupError("\(path): the key \(error.description)") }
        }
        guard create else {
            throw StartupError("config has no privateKey and there is no key file at \(path) yet (start the node once with 'planetd run', or set privateKey)")
        }
        try ensureDirectory(config.stateDir)
        let identity = NodeIdentity.generate()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw StartupError("cannot create key file \(path): \(String(cString: strerror(errno)))") }
        let text = identity.privateKeyHex + "\n"
        let written = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        guard written == text.utf8.count else { throw StartupError("cannot write key file \(path)") }
        logger.info("created node key", [("path", path), ("publicKey", identity.publicKey.hex)])
        return identity
    }

    public static func ensureDirectory(_ path: String, mode: mode_t = 0o700) throws(StartupError) {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw StartupError("\(path) exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw StartupError("cannot create directory \(path): \(error.localizedDescription)")
        }
        chmod(path, mode)
    }
}

public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
