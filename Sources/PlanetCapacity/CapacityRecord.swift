import PlanetCore

/// What a node says about its capacity, signed with its key: the unit the directory holds and
/// gossip spreads. Its canonical encoding is documented byte by byte in Docs/protocol.md
/// ("Capacity records"); the decoder accepts only that encoding (it re-encodes and compares),
/// so one record has exactly one byte string and "same bytes" means "same record".
public struct CapacityRecord: Equatable, Sendable {
    public var key: PublicKey
    /// Higher wins; the announcer keeps it above both its last record and the wall clock in
    /// milliseconds, so a node that lost its state still outranks its old records.
    public var seqno: UInt64
    /// Unix seconds.
    public var issuedAt: UInt64
    public var expiresAt: UInt64
    public var uptimeSeconds: UInt64
    public var publicIPv4: Bool
    public var publicIPv6: Bool
    public var total: CapacityResources
    public var used: CapacityResources
    /// Degrees, to a micro-degree (11 cm); nil when the operator gave no coordinates.
    public var latitude: Double?
    public var longitude: Double?
    /// ISO 3166-1 alpha-2, upper case, or empty.
    public var country: String
    public var farmId: UInt32
    public var city: String
    public var farmName: String
    public var version: String
    public var gpus: [CapacityGPU]
    public var tags: [String]

    /// Free is total less used: not sent, so a record can never contradict itself.
    public var free: CapacityResources { total.subtractingClamped(used) }

    public init(key: PublicKey, seqno: UInt64, issuedAt: UInt64, expiresAt: UInt64, uptimeSeconds: UInt64 = 0,
                publicIPv4: Bool = false, publicIPv6: Bool = false, total: CapacityResources = .zero, used: CapacityResources = .zero,
                latitude: Double? = nil, longitude: Double? = nil, country: String = "", farmId: UInt32 = 0, city: String = "",
                farmName: String = "", version: String = PlanetVersion.string, gpus: [CapacityGPU] = [], tags: [String] = []) {
        self.key = key; self.seqno = seqno; self.issuedAt = issuedAt; self.expiresAt = expiresAt; self.uptimeSeconds = uptimeSeconds
        self.publicIPv4 = publicIPv4; self.publicIPv6 = publicIPv6; self.total = total; self.used = used
        self.latitude = latitude; self.longitude = longitude; self.country = country; self.farmId = farmId; self.city = city
        self.farmName = farmName; self.version = version; self.gpus = gpus; self.tags = tags
    }

    // MARK: Limits (each keeps the worst case of the whole record under `maxBytes`)

    public static let format: UInt8 = 1
    /// A record's bytes, signature included, are at most this: 1 KiB, so one always fits a
    /// gossip message in one datagram and 10⁵ of them fit in 100 MiB at most.
    public static let maxBytes = 1024
    public static let fixedBytes = 144
    public static let signatureBytes = 64
    public static let maxStringBytes = 64
    public static let maxVersionBytes = 32
    public static let maxGPUs = 8
    public static let maxGPUNameBytes = 32
    /// The header the directory reads before anything else: format, key, seqno.
    public static let headerBytes = 41

    static let flagIPv4: UInt8 = 1, flagIPv6: UInt8 = 2, flagCoordinates: UInt8 = 4

    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case tooLong(Int)
        case truncated
        case unknownFormat(UInt8)
        case badField(String)
        case notCanonical

        public var description: String {
            switch self {
            case .tooLong(let n): return "\(n) bytes is over the \(CapacityRecord.maxBytes)-byte limit"
            case .truncated: return "truncated"
            case .unknownFormat(let f): return "unknown format \(f)"
            case .badField(let f): return "bad \(f)"
            case .notCanonical: return "not the canonical encoding"
            }
        }
    }

    // MARK: Encoding

    /// The signed part: everything but the signature.
    public func body() -> [UInt8] {
        var w = ByteWriter(capacity: 400)
        w.u8(CapacityRecord.format)
        w.publicKey(key)
        w.u64(seqno)
        w.u64(issuedAt)
        w.u64(expiresAt)
        w.u64(uptimeSeconds)
        var flags: UInt8 = 0
        if publicIPv4 { flags |= CapacityRecord.flagIPv4 }
        if publicIPv6 { flags |= CapacityRecord.flagIPv6 }
        if latitude != nil && longitude != nil { flags |= CapacityRecord.flagCoordinates }
        w.u8(flags)
        for r in [total, used] { w.u64(r.cru); w.u64(r.mru); w.u64(r.sru); w.u64(r.hru) }
        w.u32(UInt32(bitPattern: CapacityRecord.microdegrees(latitude ?? 0, limit: 90)))
        w.u32(UInt32(bitPattern: CapacityRecord.microdegrees(longitude ?? 0, limit: 180)))
        let cc = Array(country.utf8)
        w.append(cc.count == 2 ? cc : [0, 0])
        w.u32(farmId)
        CapacityRecord.appendString(city, max: CapacityRecord.maxStringBytes, to: &w)
        CapacityRecord.appendString(farmName, max: CapacityRecord.maxStringBytes, to: &w)
        CapacityRecord.appendString(version, max: CapacityRecord.maxVersionBytes, to: &w)
        let cards = gpus.prefix(CapacityRecord.maxGPUs)
        w.u8(UInt8(cards.count))
        for g in cards {
            w.u16(g.vendor)
            w.u16(g.device)
            CapacityRecord.appendString(g.name, max: CapacityRecord.maxGPUNameBytes, to: &w)
        }
        let t = tags.prefix(CapacityConfig.maxTags)
        w.u8(UInt8(t.count))
        for tag in t { CapacityRecord.appendString(tag, max: CapacityConfig.maxTagBytes, to: &w) }
        return w.bytes
    }

    /// Body and signature: what is stored and sent.
    public func signed(by identity: NodeIdentity) -> [UInt8] {
        precondition(identity.publicKey == key, "a node signs only its own record")
        let b = body()
        return b + identity.sign(CapacityRecord.signedMessage(body: b[...]))
    }

    static let domain: [UInt8] = Array("planetary-capacity-v1".utf8)

    /// What the signature covers: a domain string, so a capacity signature can never be
    /// replayed as a routing or handshake one (or the reverse), then the body.
    public static func signedMessage(body: ArraySlice<UInt8>) -> [UInt8] { domain + body }

    /// Whether `bytes` carries a valid signature by the key in its own header.
    public static func verify(_ bytes: [UInt8]) -> Bool {
        guard bytes.count > headerBytes + signatureBytes, let key = PublicKey(bytes, at: 1) else { return false }
        let split = bytes.count - signatureBytes
        return key.verify(signature: bytes[split...], message: signedMessage(body: bytes[..<split]))
    }

    /// Truncates on a UTF-8 character boundary so a long string can never make bad text.
    static func appendString(_ s: String, max: Int, to w: inout ByteWriter) {
        var bytes = Array(s.utf8)
        if bytes.count > max {
            var n = max
            while n > 0 && bytes[n] & 0xC0 == 0x80 { n -= 1 }
            bytes = Array(bytes[..<n])
        }
        w.u8(UInt8(bytes.count))
        w.append(bytes)
    }

    static func microdegrees(_ d: Double, limit: Double) -> Int32 {
        Int32((min(max(d, -limit), limit) * 1_000_000).rounded())
    }

    // MARK: Decoding

    /// Key and seqno from the header alone: enough to discard a duplicate or an old record
    /// before decoding or verifying anything.
    public static func header(_ bytes: [UInt8]) -> (key: PublicKey, seqno: UInt64)? {
        guard bytes.count >= headerBytes, bytes[0] == format, let key = PublicKey(bytes, at: 1) else { return nil }
        return (key, bytes.withUnsafeBytes { BigEndian.u64($0, at: 33) })
    }

    /// Decodes a whole record, signature included (which this does not check).
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> CapacityRecord {
        guard bytes.count <= maxBytes else { throw .tooLong(bytes.count) }
        guard bytes.count >= fixedBytes + 3 + 2 + signatureBytes else { throw .truncated }
        guard bytes[0] == format else { throw .unknownFormat(bytes[0]) }
        var r = ByteReader(bytes, offset: 1, end: bytes.count - signatureBytes)
        guard let key = r.publicKey(), let seqno = r.u64(), let issued = r.u64(), let expires = r.u64(),
              let uptime = r.u64(), let flags = r.u8() else { throw .truncated }
        guard flags & ~(flagIPv4 | flagIPv6 | flagCoordinates) == 0 else { throw .badField("flags") }
        var amounts: [UInt64] = []
        for _ in 0..<8 { guard let v = r.u64() else { throw .truncated }; amounts.append(v) }
        guard let lat = r.u32(), let lon = r.u32(), let cc = r.array(2), let farmId = r.u32() else { throw .truncated }
        let latitude = Double(Int32(bitPattern: lat)) / 1_000_000, longitude = Double(Int32(bitPattern: lon)) / 1_000_000
        guard abs(latitude) <= 90, abs(longitude) <= 180 else { throw .badField("coordinates") }
        let country: String
        if cc == [0, 0] { country = "" } else {
            guard cc.allSatisfy({ (65...90).contains($0) }) else { throw .badField("country") }
            country = String(decoding: cc, as: UTF8.self)
        }
        let city = try string(&r, "city"), farmName = try string(&r, "farm name"), version = try string(&r, "version")
        guard let gpuCount = r.u8(), gpuCount <= maxGPUs else { throw .badField("gpu count") }
        var gpus: [CapacityGPU] = []
        for _ in 0..<gpuCount {
            guard let vendor = r.u16(), let device = r.u16() else { throw .truncated }
            gpus.append(CapacityGPU(vendor: vendor, device: device, name: try string(&r, "gpu name")))
        }
        guard let tagCount = r.u8(), Int(tagCount) <= CapacityConfig.maxTags else { throw .badField("tag count") }
        var tags: [String] = []
        for _ in 0..<tagCount { tags.append(try string(&r, "tag")) }
        guard r.isAtEnd else { throw .notCanonical }
        let record = CapacityRecord(
            key: key, seqno: seqno, issuedAt: issued, expiresAt: expires, uptimeSeconds: uptime,
            publicIPv4: flags & flagIPv4 != 0, publicIPv6: flags & flagIPv6 != 0,
            total: CapacityResources(cru: amounts[0], mru: amounts[1], sru: amounts[2], hru: amounts[3]),
            used: CapacityResources(cru: amounts[4], mru: amounts[5], sru: amounts[6], hru: amounts[7]),
            latitude: flags & flagCoordinates != 0 ? latitude : nil, longitude: flags & flagCoordinates != 0 ? longitude : nil,
            country: country, farmId: farmId, city: city, farmName: farmName, version: version, gpus: gpus, tags: tags)
        // Anything the encoder would write differently (zero coordinates without the flag, an
        // over-long string, a GPU name where none fits) is refused here.
        guard record.body()[...] == bytes[..<(bytes.count - signatureBytes)] else { throw .notCanonical }
        return record
    }

    static func string(_ r: inout ByteReader, _ field: String) throws(DecodeError) -> String {
        guard let n = r.u8(), let raw = r.array(Int(n)) else { throw .truncated }
        guard let s = String(validating: raw, as: UTF8.self) else { throw .badField(field) }
        return s
    }
}
