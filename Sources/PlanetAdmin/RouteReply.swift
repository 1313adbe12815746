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

        public init(prefix: String, address: String, publicKey: String, nextHop: String?, metric: UInt64, seqno: UInt64) {
            self.prefix = prefix; self.address = address; self.publicKey = publicKey; self.nextHop = nextHop
            self.metric = metric; self.seqno = seqno
        }
    }
}
