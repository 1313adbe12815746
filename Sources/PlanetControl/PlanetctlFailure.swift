import PlanetCore
import PlanetAdmin

/// Why a planetctl run failed, classified by kind and never by the wording of a message: the
/// exit code (2 for the caller's input, 1 for the node or the connection) and what is printed,
/// one line on stderr for people or, with `--json`, `{"error": {"kind", "argument",
/// "message"}}` on stdout, where a script reads the reply (Docs/cli.md, "Exit codes").
public struct PlanetctlFailure: Error, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// Bad input: planetctl's own usage check, or a value the daemon refused (naming it).
        case argument
        /// The daemon could not read the request (a planetctl and planetd of different versions).
        case request
        /// The daemon answered with a failure of the node.
        case node
        /// No answer: the daemon is not running, the socket is not ours to use, the connection
        /// broke, timed out or carried something that is not a reply.
        case connection
    }

    public let kind: Kind
    public let argument: String?
    public let message: String
    /// From the daemon (its message is printed after `planetd: `), or from planetctl itself.
    public let fromDaemon: Bool

    public init(kind: Kind, argument: String? = nil, message: String, fromDaemon: Bool = false) {
        self.kind = kind
        self.argument = argument
        self.message = message
        self.fromDaemon = fromDaemon
    }

    /// A command line planetctl refused before sending anything.
    public init(_ usage: PlanetctlCommand.UsageError) {
        self.init(kind: .argument, message: usage.description)
    }

    public init(_ e: AdminClientError) {
        switch e {
        case .daemon(let a):
            let kind: Kind
            switch a.kind {
            case .argument: kind = .argument
            case .request: kind = .request
            case .node: kind = .node
            }
            self.init(kind: kind, argument: a.argument, message: a.message, fromDaemon: true)
        case .notRunning, .permissionDenied, .connectFailed, .transport, .badResponse:
            self.init(kind: .connection, message: e.description)
        }
    }

    public var exitCode: Int32 {
        switch kind {
        case .argument, .request: return 2
        case .node, .connection: return 1
        }
    }

    /// The line for stderr. A refused argument reads as planetctl's own usage error (it names
    /// the argument first); anything else the daemon said is marked as the daemon's.
    public var line: String {
        "planetctl: " + (fromDaemon && kind != .argument ? "planetd: " : "") + message + "\n"
    }

    /// The `--json` form: one object, `argument` null when no argument is to blame.
    public var json: String {
        JSONValue.object([("error", .object([
            ("kind", .string(kind.rawValue)),
            ("argument", argument.map { .string($0) } ?? .null),
            ("message", .string(message)),
        ]))]).serialized(pretty: true) + "\n"
    }
}
