/// `getPeers` → `{"peers": [PEER, ...]}` (Docs/cli.md); null where unknown.
public struct PeersReply: AdminResponse, Equatable {
    public var peers: [Peer]
    public init(peers: [Peer]) { self.peers = peers }

    public struct Peer: Codable, Equatable, Sendable {
        public var publicKey: String?
        public var address: String?
        public var endpoint: String?
        public var uri: String?
        public var state: String
        public var rttMs: Double?
        public var rxBytes: UInt64
        public var txBytes: UInt64
        public var uptimeSeconds: UInt64
        public var inbound: Bool
        public var cipher: String?
        /// Optional to read: a daemon from before hole punching has no such field.
        public var punched: Bool?

        public init(publicKey: String?, address: String?, endpoint: String?, uri: String?, state: String, rttMs: Double?,
                    rxBytes: UInt64, txBytes: UInt64, uptimeSeconds: UInt64, inbound: Bool, cipher: String?, punched: Bool?) {
            self.publicKey = publicKey; self.address = address; self.endpoint = endpoint; self.uri = uri; self.state = state
            self.rttMs = rttMs; self.rxBytes = rxBytes; self.txBytes = txBytes; self.uptimeSeconds = uptimeSeconds
            self.inbound = inbound; self.cipher = cipher; self.punched = punched
        }
    }
}
