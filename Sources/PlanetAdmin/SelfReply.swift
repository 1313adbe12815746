/// `getSelf` → this node (Docs/cli.md). The NAT fields are optional to read, so a planetctl
/// still shows a daemon from before hole punching; planetd always sends them.
public struct SelfReply: AdminResponse, Equatable {
    public var publicKey: String
    public var address: String
    public var subnet: String
    public var version: String
    public var uptimeSeconds: UInt64
    public var publicEndpoints: [String]?
    public var natMapping: String?
    public var localEndpoints: [String]?
    public var punching: Bool?
    /// The Yggdrasil side's place in its spanning tree; null on a node without one, and
    /// optional to read (daemons from before it).
    public var yggdrasil: Yggdrasil?
    /// How the node routes (`routing.stub`); optional to read (daemons from before it).
    public var routing: Routing?

    public init(publicKey: String, address: String, subnet: String, version: String, uptimeSeconds: UInt64,
                publicEndpoints: [String]?, natMapping: String?, localEndpoints: [String]?, punching: Bool?,
                yggdrasil: Yggdrasil? = nil, routing: Routing? = nil) {
        self.routing = routing
        self.publicKey = publicKey; self.address = address; self.subnet = subnet; self.version = version
        self.uptimeSeconds = uptimeSeconds; self.publicEndpoints = publicEndpoints; self.natMapping = natMapping
        self.localEndpoints = localEndpoints; self.punching = punching; self.yggdrasil = yggdrasil
    }

    /// A stub keeps no routing table: it sends everything to its upstream (null while no
    /// configured peer is up) and holds the origins it resolved through it.
    public struct Routing: Codable, Equatable, Sendable {
        public var stub: Bool
        public var upstream: String?
        public var resolvedOrigins: UInt64

        public init(stub: Bool, upstream: String?, resolvedOrigins: UInt64) {
            self.stub = stub; self.upstream = upstream; self.resolvedOrigins = resolvedOrigins
        }
    }

    /// What yggdrasilctl's getTree lets a user work out for a node, said directly: the root
    /// (the tree entry that is its own parent), our coordinates (the ports from the root down
    /// to us, as getPaths shows other nodes'), our parent, and how much the router holds.
    public struct Yggdrasil: Codable, Equatable, Sendable {
        /// The root's key; our own while we are the root.
        public var root: String
        public var rootAddress: String
        public var isRoot: Bool
        /// Ports from the root down to us; empty at the root.
        public var coords: [UInt64]
        /// Our parent's key (our own at the root); null before our first announcement.
        public var parent: String?
        /// Yggdrasil links up (the router's peers).
        public var peers: UInt64
        public var treeEntries: UInt64
        public var paths: UInt64
        public var sessions: UInt64

        public init(root: String, rootAddress: String, isRoot: Bool, coords: [UInt64], parent: String?, peers: UInt64,
                    treeEntries: UInt64, paths: UInt64, sessions: UInt64) {
            self.root = root; self.rootAddress = rootAddress; self.isRoot = isRoot; self.coords = coords; self.parent = parent
            self.peers = peers; self.treeEntries = treeEntries; self.paths = paths; self.sessions = sessions
        }
    }
}
