/// `getNodes` and `findNodes` → `{"nodes": [NODE, ...], "held": N}`; `getNode` → one NODE
/// (Docs/cli.md): a capacity record with what only the asking node knows (its route metric,
/// the distance it measured).
public struct NodesReply: AdminResponse, Equatable {
    public var nodes: [NodeRecordReply]
    public var held: UInt64
    public init(nodes: [NodeRecordReply], held: UInt64) { self.nodes = nodes; self.held = held }
}

public struct NodeRecordReply: AdminResponse, Equatable {
    public var publicKey: String
    public var address: String
    public var metric: UInt64?
    public var distanceKm: Double?
    public var ageSeconds: UInt64
    public var expiresInSeconds: UInt64
    public var seqno: UInt64
    public var country: String
    public var city: String
    public var latitude: Double?
    public var longitude: Double?
    public var farmId: UInt64
    public var farmName: String
    public var total: Resources
    public var used: Resources
    public var free: Resources
    public var gpus: [GPU]
    public var publicIPv4: Bool
    public var publicIPv6: Bool
    public var tags: [String]
    public var version: String
    public var uptimeSeconds: UInt64

    public init(publicKey: String, address: String, metric: UInt64?, distanceKm: Double?, ageSeconds: UInt64, expiresInSeconds: UInt64,
                seqno: UInt64, country: String, city: String, latitude: Double?, longitude: Double?, farmId: UInt64, farmName: String,
                total: Resources, used: Resources, free: Resources, gpus: [GPU], publicIPv4: Bool, publicIPv6: Bool, tags: [String],
                version: String, uptimeSeconds: UInt64) {
        self.publicKey = publicKey; self.address = address; self.metric = metric; self.distanceKm = distanceKm
        self.ageSeconds = ageSeconds; self.expiresInSeconds = expiresInSeconds; self.seqno = seqno; self.country = country
        self.city = city; self.latitude = latitude; self.longitude = longitude; self.farmId = farmId; self.farmName = farmName
        self.total = total; self.used = used; self.free = free; self.gpus = gpus; self.publicIPv4 = publicIPv4
        self.publicIPv6 = publicIPv6; self.tags = tags; self.version = version; self.uptimeSeconds = uptimeSeconds
    }

    /// CPUs and bytes of memory, SSD and HDD.
    public struct Resources: Codable, Equatable, Sendable {
        public var cru: UInt64
        public var mru: UInt64
        public var sru: UInt64
        public var hru: UInt64
        public init(cru: UInt64, mru: UInt64, sru: UInt64, hru: UInt64) { self.cru = cru; self.mru = mru; self.sru = sru; self.hru = hru }
    }

    public struct GPU: Codable, Equatable, Sendable {
        /// A vendor's name where known, else its PCI id in hex.
        public var vendor: String
        public var vendorId: UInt64
        public var deviceId: UInt64
        public var name: String
        public init(vendor: String, vendorId: UInt64, deviceId: UInt64, name: String) {
            self.vendor = vendor; self.vendorId = vendorId; self.deviceId = deviceId; self.name = name
        }
    }
}
