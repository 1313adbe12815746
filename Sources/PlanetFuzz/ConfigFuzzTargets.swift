import PlanetCore
import PlanetAdmin
import PlanetRuntime

enum ConfigFuzzTargets {
    /// A config file's text (JSON, every field's checks), and the input as a peer URI.
    static let config = FuzzTarget("config", "planetd config files, JSON and peer URIs") { input in
        let text = String(decoding: input, as: UTF8.self)
        _ = try? NodeConfig.parse(text)
        _ = PeerURI.parse(text)
        _ = PeerURI.parse(text, allowKey: false)
    }

    /// `planetd genconf --from-yggdrasil`: a Yggdrasil config (HJSON-ish text) to a key.
    static let yggdrasil = FuzzTarget("yggdrasil", "Yggdrasil config import") { input in
        _ = try? YggdrasilConfig.privateKey(fromConfigText: String(decoding: input, as: UTF8.self))
    }

    /// One admin request line as the daemon reads it, and a reply line as planetctl reads it.
    static let admin = FuzzTarget("admin", "admin socket request and reply lines") { input in
        let text = String(decoding: input, as: UTF8.self)
        _ = AdminRequest.decode(text)
        _ = AdminReply.parse(text)
    }
}
