/// `getSessions` → `{"sessions": [SESSION, ...]}` (Docs/cli.md).
public struct SessionsReply: AdminResponse, Equatable {
    public var sessions: [Session]
    public init(sessions: [Session]) { self.sessions = sessions }

    public struct Session: Codable, Equatable, Sendable {
        public var publicKey: String
        public var address: String
        public var rxBytes: UInt64
        public var txBytes: UInt64
        public var uptimeSeconds: UInt64
        public var cipher: String?
        /// `direct`, `direct-punched`, `relayed` or `no-route`; optional to read (older daemons).
        public var path: String?
        public var nextHop: String?

        public init(publicKey: String, address: String, rxBytes: UInt64, txBytes: UInt64, uptimeSeconds: UInt64,
                    cipher: String?, path: String?, nextHop: String?) {
            self.publicKey = publicKey; self.address = address; self.rxBytes = rxBytes; self.txBytes = txBytes
            self.uptimeSeconds = uptimeSeconds; self.cipher = cipher; self.path = path; self.nextHop = nextHop
        }
    }
}
