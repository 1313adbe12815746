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

    public init(publicKey: String, address: String, subnet: String, version: String, uptimeSeconds: UInt64,
                publicEndpoints: [String]?, natMapping: String?, localEndpoints: [String]?, punching: Bool?) {
        self.publicKey = publicKey; self.address = address; self.subnet = subnet; self.version = version
        self.uptimeSeconds = uptimeSeconds; self.publicEndpoints = publicEndpoints; self.natMapping = natMapping
        self.localEndpoints = localEndpoints; self.punching = punching
    }
}
