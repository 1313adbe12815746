/// The `capacity` section of the config: whether this node announces what it offers to the
/// overlay's capacity directory, and what it says about itself (Docs/operations.md,
/// "Announcing capacity"). Every node relays and holds the directory whatever this says;
/// `enabled` only decides whether it adds its own record, and defaults to false so that a
/// laptop running planetd tells nobody about its hardware unless asked to.
public struct CapacityConfig: Sendable, Equatable {
    /// Resource amounts keyed as the grid names them: `cru` logical CPUs, `mru` memory,
    /// `sru` SSD and `hru` HDD bytes. nil: the default (all that was measured for `offer`,
    /// the documented reserve for `reserved`).
    public struct Amounts: Sendable, Equatable {
        public var cru: UInt64?
        public var mru: UInt64?
        public var sru: UInt64?
        public var hru: UInt64?
        public init(cru: UInt64? = nil, mru: UInt64? = nil, sru: UInt64? = nil, hru: UInt64? = nil) {
            self.cru = cru; self.mru = mru; self.sru = sru; self.hru = hru
        }
    }

    public var enabled = false
    public var farmId: UInt32 = 0
    public var farmName = ""
    /// ISO 3166-1 alpha-2, upper case; empty: not said.
    public var country = ""
    public var city = ""
    /// Degrees; both or neither.
    public var latitude: Double?
    public var longitude: Double?
    public var offer = Amounts()
    public var reserved = Amounts()
    public var tags: [String] = []
    /// Seconds between re-announcements of an unchanged record.
    public var announceInterval = 1800.0
    /// Seconds a record stays valid after it is issued; nil: 3 × `announceInterval`, so two
    /// lost re-announcements in a row do not make a live node vanish.
    public var expiry: Double?
    /// How many records the directory holds at most (each at most 2 KiB of memory).
    public var maxRecords = 100_000

    public init() {}

    public var effectiveExpiry: Double { expiry ?? 3 * announceInterval }

    // Limits that keep every record within its 1 KiB (Docs/protocol.md, "Capacity records").
    public static let maxCityBytes = 64
    public static let maxFarmNameBytes = 64
    public static let maxTags = 8
    public static let maxTagBytes = 32
    /// Below this, re-announcing would run into every receiver's per-key rate limit.
    public static let minAnnounceInterval = 5.0
    public static let maxAnnounceInterval = 86_400.0
    /// Receivers refuse records that claim to live longer (Docs/protocol.md).
    public static let maxLifetime = 7 * 86_400.0

    static let keys = ["enabled", "farm", "location", "offer", "reserved", "tags", "announceInterval", "expiry", "maxRecords"]
    static let farmKeys = ["id", "name"]
    static let locationKeys = ["country", "city", "latitude", "longitude"]
    static let amountKeys = ["cru", "mru", "sru", "hru"]

    // MARK: Parsing

    static func parse(_ value: JSONValue) throws(ConfigError) -> CapacityConfig {
        let section = "capacity"
        guard let pairs = value.objectValue else {
            throw ConfigError(field: section, reason: "must be an object like {\"enabled\": true, \"location\": {\"country\": \"BE\"}}, got \(value.typeName)")
        }
        var c = CapacityConfig()
        for (key, v) in pairs {
            let field = "\(section).\(key)"
            switch key {
            case "enabled":
                guard let b = v.boolValue else { throw ConfigError(field: field, reason: "must be true or false, got \(v.typeName)") }
                c.enabled = b
            case "farm":
                guard let farm = v.objectValue else { throw ConfigError(field: field, reason: "must be an object like {\"id\": 42, \"name\": \"my-farm\"}, got \(v.typeName)") }
                for (k, x) in farm {
                    let f = "\(field).\(k)"
                    switch k {
                    case "id":
                        guard let n = x.intValue, n >= 0, n <= Int(UInt32.max) else { throw ConfigError(field: f, reason: "must be an integer in 0...\(UInt32.max), got \(x.serialized())") }
                        c.farmId = UInt32(n)
                    case "name": c.farmName = try text(x, f, max: maxFarmNameBytes)
                    default: throw ConfigError(field: f, reason: "unknown key" + NodeConfig.suggestion(for: k, among: farmKeys))
                    }
                }
            case "location":
                guard let loc = v.objectValue else { throw ConfigError(field: field, reason: "must be an object like {\"country\": \"BE\", \"city\": \"Ghent\"}, got \(v.typeName)") }
                for (k, x) in loc {
                    let f = "\(field).\(k)"
                    switch k {
                    case "country":
                        let s = try NodeConfig.string(x, f)
                        guard s.isEmpty || (s.utf8.count == 2 && s.utf8.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) })) else {
                            throw ConfigError(field: f, reason: "'\(s)' is not an ISO 3166 two-letter country code like BE")
                        }
                        c.country = s.uppercased()
                    case "city": c.city = try text(x, f, max: maxCityBytes)
                    // null, as genconf writes them: no coordinates (the default).
                    case "latitude" where x == .null: c.latitude = nil
                    case "longitude" where x == .null: c.longitude = nil
                    case "latitude":
                        guard let d = x.numberValue, (-90.0...90.0).contains(d) else { throw ConfigError(field: f, reason: "must be a number of degrees in -90...90, got \(x.serialized())") }
                        c.latitude = d
                    case "longitude":
                        guard let d = x.numberValue, (-180.0...180.0).contains(d) else { throw ConfigError(field: f, reason: "must be a number of degrees in -180...180, got \(x.serialized())") }
                        c.longitude = d
                    default: throw ConfigError(field: f, reason: "unknown key" + NodeConfig.suggestion(for: k, among: locationKeys))
                    }
                }
                guard (c.latitude == nil) == (c.longitude == nil) else {
                    throw ConfigError(field: "\(field).\(c.latitude == nil ? "latitude" : "longitude")", reason: "latitude and longitude go together; give both or neither")
                }
            case "offer": c.offer = try amounts(v, field)
            case "reserved": c.reserved = try amounts(v, field)
            case "tags":
                let tags = try NodeConfig.stringList(v, field)
                guard tags.count <= maxTags else { throw ConfigError(field: field, reason: "at most \(maxTags) tags, got \(tags.count)") }
                for (i, t) in tags.enumerated() {
                    guard !t.isEmpty, t.utf8.count <= maxTagBytes, !t.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                        throw ConfigError(field: "\(field)[\(i)]", reason: "'\(t)' must be 1-\(maxTagBytes) bytes of text without control characters")
                    }
                }
                c.tags = tags
            case "announceInterval":
                let s = try seconds(v, field)
                guard s >= minAnnounceInterval, s <= maxAnnounceInterval else {
                    throw ConfigError(field: field, reason: "\(v.serialized()) is outside \(Int(minAnnounceInterval))s...24h")
                }
                c.announceInterval = s
            case "expiry":
                if v == .null { c.expiry = nil; continue }
                c.expiry = try seconds(v, field)
            case "maxRecords":
                guard let n = v.intValue, (1...1_000_000).contains(n) else { throw ConfigError(field: field, reason: "must be an integer in 1...1000000, got \(v.serialized())") }
                c.maxRecords = n
            default:
                throw ConfigError(field: field, reason: "unknown key" + NodeConfig.suggestion(for: key, among: keys))
            }
        }
        if let e = c.expiry, e <= c.announceInterval || e > maxLifetime {
            throw ConfigError(field: "\(section).expiry", reason: "must be longer than announceInterval (\(Int(c.announceInterval))s) and at most 7 days, got \(Int(e))s")
        }
        return c
    }

    static func text(_ v: JSONValue, _ field: String, max: Int) throws(ConfigError) -> String {
        let s = try NodeConfig.string(v, field)
        guard s.utf8.count <= max, !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw ConfigError(field: field, reason: "must be at most \(max) bytes of text without control characters")
        }
        return s
    }

    /// `cru` is a count of CPUs; the others are sizes, `16G`-style strings or bytes; null (as
    /// genconf writes them) is the default, as if the key were absent.
    static func amounts(_ v: JSONValue, _ field: String) throws(ConfigError) -> Amounts {
        guard let pairs = v.objectValue else { throw ConfigError(field: field, reason: "must be an object like {\"cru\": 4, \"mru\": \"16G\"}, got \(v.typeName)") }
        var a = Amounts()
        for (k, x) in pairs {
            let f = "\(field).\(k)"
            if x == .null, amountKeys.contains(k) { continue }
            if k == "cru" {
                guard let n = x.intValue, (0...65_535).contains(n) else { throw ConfigError(field: f, reason: "must be a whole number of CPUs in 0...65535, got \(x.serialized())") }
                a.cru = UInt64(n)
                continue
            }
            let bytes: UInt64
            if let s = x.stringValue {
                guard let b = ByteSize.parse(s) else { throw ConfigError(field: f, reason: "'\(s)' is not a size like 512M, 16G or 2T") }
                bytes = b
            } else if let n = x.intValue, n >= 0 {
                bytes = UInt64(n)
            } else {
                throw ConfigError(field: f, reason: "must be a size like \"16G\" or a number of bytes, got \(x.serialized())")
            }
            switch k {
            case "mru": a.mru = bytes
            case "sru": a.sru = bytes
            case "hru": a.hru = bytes
            default: throw ConfigError(field: f, reason: "unknown key" + NodeConfig.suggestion(for: k, among: amountKeys))
            }
        }
        return a
    }

    /// A number of seconds, or text like `90s`, `30m`, `2h`, `1d`.
    static func seconds(_ v: JSONValue, _ field: String) throws(ConfigError) -> Double {
        if let n = v.numberValue, n.isFinite, n > 0 { return n }
        if let s = v.stringValue, let last = s.last, let unit = ["s": 1.0, "m": 60, "h": 3600, "d": 86400][String(last)],
           let n = Double(s.dropLast()), n.isFinite, n > 0 {
            return n * unit
        }
        throw ConfigError(field: field, reason: "must be a duration like 30m, 90s or 2h (or seconds), got \(v.serialized())")
    }

    // MARK: Writing

    public func json() -> JSONValue {
        // Every key is written (genconf shows them all); JSON has no comments, so a default that
        // is "not set" (measured, the documented reserve, no coordinates) is written as null.
        func amountsJSON(_ a: Amounts) -> JSONValue {
            .object([("cru", a.cru.map { .number(Double($0)) } ?? .null), ("mru", a.mru.map { .string(ByteSize.text($0)) } ?? .null),
                     ("sru", a.sru.map { .string(ByteSize.text($0)) } ?? .null), ("hru", a.hru.map { .string(ByteSize.text($0)) } ?? .null)])
        }
        let location: [(String, JSONValue)] = [("country", .string(country)), ("city", .string(city)),
                                               ("latitude", latitude.map { .number($0) } ?? .null),
                                               ("longitude", longitude.map { .number($0) } ?? .null)]
        return .object([
            ("enabled", .bool(enabled)),
            ("farm", .object([("id", .number(Double(farmId))), ("name", .string(farmName))])),
            ("location", .object(location)),
            ("offer", amountsJSON(offer)),
            ("reserved", amountsJSON(reserved)),
            ("tags", .array(tags.map { .string($0) })),
            ("announceInterval", .number(announceInterval)),
            ("expiry", expiry.map { .number($0) } ?? .null),
            ("maxRecords", .number(Double(maxRecords))),
        ])
    }
}
