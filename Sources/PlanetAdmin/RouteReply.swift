/// `getRoutes` → `{"routes": [ROUTE, ...]}` (Docs/cli.md).
public struct RoutesReply: AdminResponse, Equatable {
    public var routes: [Route]
    public init(routes: [Route]) { self.routes = routes }

    public struct Route: Codable, Equatable, Sendable {
        public var prefix: String
        public var address: String
        public var publicKey: String
        /// Null while the destination is unreachable.
        public var nextHop: String?
        public var metric: UInt64
        public var seqno: UInt64
        /// `planetary` (a babel route) or `yggdrasil` (an ironwood path); optional to read
        /// (daemons from before it, whose rows are all Planetary).
        public var `protocol`: String?
        /// A Yggdrasil path: the destination's coordinates (ports from the root), as
        /// yggdrasilctl getPaths shows them; null for Planetary routes.
        public var path: [UInt64]?
        /// A Yggdrasil path that a PathBroken came back for (a new lookup is due); null for
        /// Planetary routes.
        public var broken: Bool?
        /// A Yggdrasil path: seconds until it is forgotten unless traffic from it renews it.
        public var expiresInSeconds: UInt64?

        public init(prefix: String, address: String, publicKey: String, nextHop: String?, metric: UInt64, seqno: UInt64,
                    protocol: String? = nil, path: [UInt64]? = nil, broken: Bool? = nil, expiresInSeconds: UInt64? = nil) {
            self.prefix = prefix; self.address = address; self.publicKey = publicKey; self.nextHop = nextHop
            self.metric = metric; self.seqno = seqno; self.protocol = `protocol`; self.path = path; self.broken = broken
            self.expiresInSeconds = expiresInSeconds
        }
    }
}
