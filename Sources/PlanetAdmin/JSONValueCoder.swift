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

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(Failure) -> T {
        do { return try T(from: ValueDecoder(value: value, codingPath: [])) } catch let e as Failure { throw e } catch { throw Failure([], "\(error)") }
    }
}

// MARK: Encoding

/// A value being written: containers are references so nested ones write into their parent.
/// An object's pairs and an array's items are stored properties appended in place (an enum
/// holding the array would copy it on every append: quadratic, 15 s for 10⁵ routes).
final class EncodingNode {
    enum Kind { case empty, value, object, array }
    var kind = Kind.empty
    var value = JSONValue.null
    var pairs: [(String, EncodingNode)] = []
    var items: [EncodingNode] = []

    /// Sets a leaf value (what the enum's `.value` case was).
    var content: JSONValue {
        get { value }
        set { kind = .value; value = newValue }
    }

    var json: JSONValue {
        switch kind {
        case .empty: return .null
        case .value: return value
        case .object: return .object(pairs.map { ($0.0, $0.1.json) })
        case .array: return .array(items.map(\.json))
        }
    }

    /// A primitive as JSON, or nil for a value that encodes itself.
    static func primitive(_ v: Any) -> JSONValue? {
        switch v {
        case let x as JSONValue: return x
        case let x as Bool: return .bool(x)
        case let x as String: return .string(x)
        case let x as Double: return .number(x)
        case let x as Float: return .number(Double(x))
        case let x as Int: return .number(Double(x))
        case let x as Int8: return .number(Double(x))
        case let x as Int16: return .number(Double(x))
        case let x as Int32: return .number(Double(x))
        case let x as Int64: return .number(Double(x))
        case let x as UInt: return .number(Double(x))
        case let x as UInt8: return .number(Double(x))
        case let x as UInt16: return .number(Double(x))
        case let x as UInt32: return .number(Double(x))
        case let x as UInt64: return .number(Double(x))
        default: return nil
        }
    }

    func write<T: Encodable>(_ value: T, path: [CodingKey]) throws {
        if let p = EncodingNode.primitive(value) { content = p; return }
        try value.encode(to: ValueEncoder(node: self, codingPath: path))
    }
}

struct ValueEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.kind != .object { node.kind = .object; node.pairs = [] }
        return KeyedEncodingContainer(KeyedEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if node.kind != .array { node.kind = .array; node.items = [] }
        return UnkeyedEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleEncoder(node: node, codingPath: codingPath) }
}

struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [CodingKey]

    /// The node for `key`, added at the end (or replacing an earlier write of the same key).
    func child(_ key: Key) -> EncodingNode {
        let c = EncodingNode()
        guard node.kind == .object else { return c }
        if let i = node.pairs.firstIndex(where: { $0.0 == key.stringValue }) { node.pairs[i].1 = c } else { node.pairs.append((key.stringValue, c)) }
        return c
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).content = .null }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try child(key).write(value, path: codingPath + [key]) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { child(key).content = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { child(key).content = .string(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { child(key).content = .number(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { child(key).content = .number(Double(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { child(key).content = .number(Double(value)) }

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
    var count: Int { node.kind == .array ? node.items.count : 0 }

    func next() -> EncodingNode {
        let c = EncodingNode()
        if node.kind == .array { node.items.append(c) }
        return c
    }

    mutating func encodeNil() throws { next().content = .null }
    mutating func encode<T: Encodable>(_ value: T) throws { try next().write(value, path: codingPath + [IndexKey(count)]) }
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
    mutating func encodeNil() throws { node.content = .null }
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
