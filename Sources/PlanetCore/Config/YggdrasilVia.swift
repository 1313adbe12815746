/// The `yggdrasil.via` config option: how a Planetary-only node (no tcp:// or tls:// link of
/// its own) reaches the Yggdrasil network — through a dual node, over the Planetary overlay
/// (Docs/architecture.md, "Yggdrasil through a dual node").
///
/// - `auto` (the default): the nearest node that announces it carries Yggdrasil links on its
///   overlay address (its capacity record's `yggdrasil-via` tag) and that has a Planetary route.
/// - `off`: never; and a dual node with `off` does not offer itself either.
/// - a public key (64 hex digits) or a 200::/7 address: that node only.
public enum YggdrasilViaSetting: Sendable, Equatable, CustomStringConvertible {
    case auto
    case off
    case key(PublicKey)
    case address(IPv6Address)

    /// The TCP port a dual node listens on at its own overlay address (`tcp://[ADDR]:8473`).
    /// Fixed, so nothing but the node's key needs to be announced or configured; only
    /// reachable through the overlay, since the address is the TUN's.
    public static let port: UInt16 = 8473
    /// The tag a dual node's signed capacity record carries to say it accepts such links.
    public static let tag = "yggdrasil-via"

    public static func parse(_ text: String) -> YggdrasilViaSetting? {
        switch text {
        case "auto": return .auto
        case "off": return .off
        default:
            if text.count == 64, let k = PublicKey(hex: text) { return .key(k) }
            if let a = IPv6Address(text), OverlayAddress.isOverlay(a) { return .address(a) }
            return nil
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .off: return "off"
        case .key(let k): return k.hex
        case .address(let a): return a.description
        }
    }
}
