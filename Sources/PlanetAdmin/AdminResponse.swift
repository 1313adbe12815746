import PlanetCore

/// A successful reply's body: one `Codable` type per call, shared by the daemon (which fills
/// it) and planetctl (which reads it), so a field's name is written once. `JSONValueCoder`
/// turns it into the `"response"` object at the socket, keys in declaration order.
public protocol AdminResponse: Codable, Sendable {}

/// `list` → `{"requests": [...]}`.
public struct ListReply: AdminResponse, Equatable {
    public var requests: [String]
    public init(requests: [String] = AdminCall.names) { self.requests = requests }
}

/// `addPeer`, `removePeer` → `{}`.
public struct EmptyReply: AdminResponse, Equatable {
    public init() {}
}

/// A reply given as JSON as it is: for test doubles and for tools that relay a reply unread.
extension JSONValue: AdminResponse {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let n = try? c.decode(Double.self) { self = .number(n); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        let o = try decoder.container(keyedBy: AnyKey.self)
        self = .object(try o.allKeys.map { ($0.stringValue, try o.decode(JSONValue.self, forKey: $0)) })
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .number(let n): var c = encoder.singleValueContainer(); try c.encode(n)
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .array(let a): var c = encoder.unkeyedContainer(); for v in a { try c.encode(v) }
        case .object(let pairs):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in pairs { try c.encode(v, forKey: AnyKey(k)) }
        }
    }
}

/// Named counters kept in order (`drops` by reason, `punch` by event): a JSON object whose
/// keys are data, not fields.
public struct Counters: Codable, Equatable, Sendable {
    public var entries: [(name: String, count: UInt64)]
    public init(_ entries: [(name: String, count: UInt64)] = []) { self.entries = entries }

    public subscript(name: String) -> UInt64? { entries.first { $0.name == name }?.count }

    public static func == (a: Counters, b: Counters) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.count == $1.count }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        entries = try c.allKeys.map { ($0.stringValue, try c.decode(UInt64.self, forKey: $0)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        for e in entries { try c.encode(e.count, forKey: AnyKey(e.name)) }
    }
}

/// A key that is data (a drop reason, a JSON object's key).
struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}
