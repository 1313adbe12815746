import PlanetCore

/// Why an admin call failed, as the caller needs it: what kind of failure (the caller's input
/// or the node), which argument when one is to blame, and one sentence for people. On the wire
/// it is `"error"` (the sentence), `"kind"` and `"argument"` (Docs/cli.md, "Admin socket
/// protocol"); planetctl picks its exit code by `kind`, never by reading the sentence.
public struct AdminError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, CaseIterable, Sendable {
        /// The request line itself: not JSON, no such call, an argument missing, not known to
        /// the call or of the wrong JSON type. A client bug or a version mismatch.
        case request
        /// A value the call refused, named by `argument`: the caller's input (planetctl: exit 2).
        case argument
        /// The node could not do it or has nothing by that name: busy, not answering, a host
        /// change that failed, no such peer or record (planetctl: exit 1).
        case node
    }

    public let kind: Kind
    /// The call's argument at fault (`address`, `uri`, `freeMru`…), or nil.
    public let argument: String?
    /// The whole sentence as printed; it starts with `argument: ` when there is one.
    public let message: String

    /// A failure of the node (the default kind): `AdminError("node is busy")`.
    public init(_ message: String, kind: Kind = .node, argument: String? = nil) {
        self.kind = kind
        self.argument = argument
        self.message = message
    }

    /// A refused value: the message is `name: reason`.
    public static func argument(_ name: String, _ reason: String) -> AdminError {
        AdminError("\(name): \(reason)", kind: .argument, argument: name)
    }

    /// A request line the server could not take.
    public static func request(_ message: String) -> AdminError { AdminError(message, kind: .request) }

    /// A VM refusal: an argument's (`address: …`), or the host's (`host: …`, a failure of the node).
    public init(_ e: VMTableError) {
        if e.argument == "host" {
            self.init(e.description, kind: .node)
        } else {
            self.init(e.description, kind: .argument, argument: e.argument)
        }
    }

    public var description: String { message }
}
