import PlanetCore

/// `Codable` values to and from `JSONValue`, PlanetCore's JSON with its keys in order: the
/// admin replies are declared once as `Codable` types and this writes their keys in the
/// order the type declares them (the order Docs/cli.md shows). Foundation's `JSONEncoder`
/// keeps no order. An optional that is nil is written as `null`, never left out: the
/// documented replies say "null means unknown" with the key present; a reply that leaves a
/// key out when it does not apply writes its own `encode(to:)`.
public enum JSONValueCoder {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ path: [CodingKey], _ what: String) {
            let at = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            description = at.isEmpty ? what : "\(at.hasPrefix(".") ? String(at.dropFirst()) : at): \(what)"
        }
    }

    public static func encode<T: Encodable>(_ value: T) throws(Failure) -> JSONValue {
        let root = EncodingNode()
        do { try value.encode(to: ValueEncoder(node: root, codingPath: [])) } catch let e as Failure { throw e } catch { throw Failure([], "\(error)") }
        return root.json
    }

    /// `encode(value).serialized()`, the same bytes, without building the `JSONValue` in
    /// between: for the large replies (a 10,000-record directory) that the explorer page asks
    /// for every few seconds.
    public static func encodeText<T: Encodable>(_ value: T) throws(Failure) -> String {
        String(decoding: try encodeUTF8(value), as: UTF8.self)
    }

    /// encodeText's bytes, for a caller that sends them on as they are.
    public static func encodeUTF8<T: Encodable>(_ value: T) throws(Failure) -> [UInt8] {
        let root = EncodingNode()
        do { try value.encode(to: ValueEncoder(node: root, codingPath: [])) } catch let e as Failure { throw e } catch { throw Failure([], "\(error)") }
        var out: [UInt8] = []
        root.serialize(into: &out)
        return out
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(Failure) -> T {
        do { return try T(from: ValueDecoder(value: value, codingPath: [])) } catch let e as Failure { throw e } catch { throw Failure([], "\(error)") }
    }
}

// MARK: Encoding

/// A value being written: containers are references so nested ones write into their parent.
final class EncodingNode {
    /// A member of an object or a list: a value written at once, or a node still being written
    /// into (a nested container or a value that encodes itself). Most members are values and
    /// need no node of their own, which is most of the time saved on a large reply.
    enum Member {
        case value(JSONValue)
        case node(EncodingNode)

        var json: JSONValue {
            switch self {
            case .value(let v): return v
            case .node(let n): return n.json
            }
        }

        func serialize(into out: inout [UInt8]) {
            switch self {
            case .value(let v): v.serialize(into: &out)
            case .node(let n): n.serialize(into: &out)
            }
        }
    }

    enum Content { case empty, value(JSONValue), object([(String, Member)]), array([Member]) }
    var content = Content.empty
    /// One bit per key written to this object (`keyBit`): a key whose bit is not set yet is
    /// new, so only a possible repeat is looked for among the members written so far.
    var keyMask: UInt64 = 0

    static func keyBit(_ name: String) -> UInt64 {
        let u = name.utf8
        let h = UInt64(u.count) &* 31 &+ UInt64(u.first ?? 0) &* 7 &+ UInt64(u.last ?? 0)
        return 1 << (h % 64)
    }

    /// The same bytes as `json.serialized()`.
    func serialize(into out: inout [UInt8]) {
        switch content {
        case .empty: out.append(contentsOf: "null".utf8)
        case .value(let v): v.serialize(into: &out)
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (i, (k, m)) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.escape(k, into: &out)
                out.append(UInt8(ascii: ":"))
                m.serialize(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, m) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                m.serialize(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    var json: JSONValue {
        switch content {
        case .empty: return .null
        case .value(let v): return v
        case .object(let pairs): return .object(pairs.map { ($0.0, $0.1.json) })
        case .array(let items): return .array(items.map(\.json))
        }
    }

    /// A primitive as JSON, or nil for a value that encodes itself. By its type, compared as
    /// metadata, and cast only on a match: trying fifteen casts on every nested value was a
    /// tenth of the time to write a 10,000-record getNodes reply.
    static func primitive<T>(_ v: T) -> JSONValue? {
        let t = T.self
        if t == JSONValue.self { return v as? JSONValue }
        if t == String.self { return (v as? String).map { .string($0) } }
        if t == Bool.self { return (v as? Bool).map { .bool($0) } }
        if t == Double.self { return (v as? Double).map { .number($0) } }
        if t == UInt64.self { return (v as? UInt64).map { .number(Double($0)) } }
        if t == Int.self { return (v as? Int).map { .number(Double($0)) } }
        if t == Float.self { return (v as? Float).map { .number(Double($0)) } }
        if t == Int8.self { return (v as? Int8).map { .number(Double($0)) } }
        if t == Int16.self { return (v as? Int16).map { .number(Double($0)) } }
        if t == Int32.self { return (v as? Int32).map { .number(Double($0)) } }
        if t == Int64.self { return (v as? Int64).map { .number(Double($0)) } }
        if t == UInt.self { return (v as? UInt).map { .number(Double($0)) } }
        if t == UInt8.self { return (v as? UInt8).map { .number(Double($0)) } }
        if t == UInt16.self { return (v as? UInt16).map { .number(Double($0)) } }
        if t == UInt32.self { return (v as? UInt32).map { .number(Double($0)) } }
        return nil
    }

    func write<T: Encodable>(_ value: T, path: [CodingKey]) throws {
        if let p = EncodingNode.primitive(value) { content = .value(p); return }
        try value.encode(to: ValueEncoder(node: self, codingPath: path))
    }
}

struct ValueEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else {
            // Room for a small object's members up front: growing from one slot cost a
            // reallocation at 1, 2, 4, 8 and 16 members, on every object of a reply.
            var pairs: [(String, EncodingNode.Member)] = []
            pairs.reserveCapacity(8)
            node.content = .object(pairs)
        }
        return KeyedEncodingContainer(KeyedEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleEncoder(node: node, codingPath: codingPath) }
}

struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [CodingKey]

    /// Sets `key`'s member, added at the end (or replacing an earlier write of the same key).
    func set(_ key: Key, _ member: EncodingNode.Member) {
        guard case .object(var pairs) = node.content else { return }
        // Let go of the node's copy first, so the change below happens in place instead of
        // copying every pair written so far.
        node.content = .empty
        let name = key.stringValue  // once: a synthesized key computes it on every call
        let bit = EncodingNode.keyBit(name)
        if node.keyMask & bit != 0, let i = pairs.firstIndex(where: { $0.0 == name }) { pairs[i].1 = member } else { pairs.append((name, member)) }
        node.keyMask |= bit
        node.content = .object(pairs)
    }

    /// A node for `key` to be written into.
    func child(_ key: Key) -> EncodingNode {
        let c = EncodingNode()
        set(key, .node(c))
        return c
    }

    mutating func encodeNil(forKey key: Key) throws { set(key, .value(.null)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if let p = EncodingNode.primitive(value) { set(key, .value(p)); return }
        try child(key).write(value, path: codingPath + [key])
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(key, .value(.bool(value))) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(key, .value(.string(value))) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(key, .value(.number(value))) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(key, .value(.number(Double(value)))) }

    // Synthesized conformances write optionals through these; nil is `null`, not a missing key.
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(node: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        ValueEncoder(node: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder { ValueEncoder(node: node, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> Encoder { ValueEncoder(node: child(key), codingPath: codingPath + [key]) }
}

struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [CodingKey]
    var count: Int { if case .array(let items) = node.content { return items.count }; return 0 }

    /// Adds `member` at the end, in place, as in KeyedEncoder.set: `items + [c]` copied the
    /// whole list for every element, which made a 10,000-record getNodes reply take most of a
    /// second.
    func append(_ member: EncodingNode.Member) {
        guard case .array(var items) = node.content else { return }
        node.content = .empty
        items.append(member)
        node.content = .array(items)
    }

    func next() -> EncodingNode {
        let c = EncodingNode()
        append(.node(c))
        return c
    }

    mutating func encodeNil() throws { append(.value(.null)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        if let p = EncodingNode.primitive(value) { append(.value(p)); return }
        try next().write(value, path: codingPath + [IndexKey(count)])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(node: next(), codingPath: codingPath + [IndexKey(count)]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        ValueEncoder(node: next(), codingPath: codingPath + [IndexKey(count)]).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder { ValueEncoder(node: next(), codingPath: codingPath) }
}

struct SingleEncoder: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [CodingKey]
    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.write(value, path: codingPath) }
}

struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { String(intValue ?? 0) }
    init(_ i: Int) { intValue = i }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { return nil }
}

// MARK: Decoding

struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let pairs = value.objectValue else { throw JSONValueCoder.Failure(codingPath, "expected an object, got \(value.typeName)") }
        return KeyedDecodingContainer(KeyedDecoder<Key>(pairs: pairs, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard let items = value.arrayValue else { throw JSONValueCoder.Failure(codingPath, "expected a list, got \(value.typeName)") }
        return UnkeyedDecoder(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { SingleDecoder(value: value, codingPath: codingPath) }

    /// A primitive read from `value`, or nil when `T` decodes itself.
    static func primitive<T>(_ type: T.Type, _ value: JSONValue, _ path: [CodingKey]) throws -> T? {
        func number() throws -> Double {
            guard let n = value.numberValue else { throw JSONValueCoder.Failure(path, "expected a number, got \(value.typeName)") }
            return n
        }
        func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
            let n = try number()
            guard n.rounded() == n, let i = I(exactly: n) else { throw JSONValueCoder.Failure(path, "\(n) is not a whole number in range") }
            return i
        }
        switch type {
        case is JSONValue.Type: return value as? T
        case is Bool.Type:
            guard let b = value.boolValue else { throw JSONValueCoder.Failure(path, "expected true or false, got \(value.typeName)") }
            return b as? T
        case is String.Type:
            guard let s = value.stringValue else { throw JSONValueCoder.Failure(path, "expected a string, got \(value.typeName)") }
            return s as? T
        case is Double.Type: return try number() as? T
        case is Float.Type: return Float(try number()) as? T
        case is Int.Type: return try integer(Int.self) as? T
        case is Int8.Type: return try integer(Int8.self) as? T
        case is Int16.Type: return try integer(Int16.self) as? T
        case is Int32.Type: return try integer(Int32.self) as? T
        case is Int64.Type: return try integer(Int64.self) as? T
        case is UInt.Type: return try integer(UInt.self) as? T
        case is UInt8.Type: return try integer(UInt8.self) as? T
        case is UInt16.Type: return try integer(UInt16.self) as? T
        case is UInt32.Type: return try integer(UInt32.self) as? T
        case is UInt64.Type: return try integer(UInt64.self) as? T
        default: return nil
        }
    }

    static func read<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: [CodingKey]) throws -> T {
        if let p = try primitive(type, value, path) { return p }
        return try T(from: ValueDecoder(value: value, codingPath: path))
    }
}

struct KeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let pairs: [(String, JSONValue)]
    let codingPath: [CodingKey]

    var allKeys: [Key] { pairs.compactMap { Key(stringValue: $0.0) } }
    func contains(_ key: Key) -> Bool { pairs.contains { $0.0 == key.stringValue } }

    func value(_ key: Key) throws -> JSONValue {
        guard let v = pairs.first(where: { $0.0 == key.stringValue })?.1 else { throw JSONValueCoder.Failure(codingPath + [key], "missing") }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key) == .null }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try ValueDecoder.read(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try ValueDecoder.read(type, value(key), codingPath + [key]) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try ValueDecoder(value: value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> Decoder { ValueDecoder(value: .object(pairs), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> Decoder { ValueDecoder(value: try value(key), codingPath: codingPath + [key]) }
}

struct UnkeyedDecoder: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> (JSONValue, [CodingKey]) {
        guard !isAtEnd else { throw JSONValueCoder.Failure(codingPath, "the list has only \(items.count) items") }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { let (v, p) = try next(); return try ValueDecoder.read(type, v, p) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, p) = try next(); return try ValueDecoder(value: v, codingPath: p).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let (v, p) = try next(); return try ValueDecoder(value: v, codingPath: p).unkeyedContainer()
    }
    mutating func superDecoder() throws -> Decoder { let (v, p) = try next(); return ValueDecoder(value: v, codingPath: p) }
}

struct SingleDecoder: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [CodingKey]
    func decodeNil() -> Bool { value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try ValueDecoder.read(type, value, codingPath) }
}
