/// Why a tree or bloom message was refused. Ironwood closes the link on any of these (its
/// ErrDecode and ErrBadMessage), so they are not counted and skipped but end the peer.
public enum IronwoodMessageError: Error, Equatable, CustomStringConvertible {
    /// The body is truncated, has bytes left over, or a number overflows.
    case malformed
    /// A signature does not verify over the bytes it covers.
    case badSignature
    /// An announcement with port 0 that is not its own parent: only a root has port 0.
    case portZeroNotRoot

    public var description: String {
        switch self {
        case .malformed: return "malformed message body"
        case .badSignature: return "signature does not verify"
        case .portZeroNotRoot: return "announcement with port 0 from a node that is not its own parent"
        }
    }
}
