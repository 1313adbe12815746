/// `udp://HOST:PORT[?key=HEX]`: where to reach a peer, and optionally which key it must prove.
/// HOST is an IPv4 literal, an IPv6 literal in brackets, or a DNS name resolved by the runtime.
public struct PeerURI: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: UInt16
    public let pinnedKey: PublicKey?

    public init(host: String, port: UInt16, pinnedKey: PublicKey? = nil) {
        self.host = host
        self.port = port
        self.pinnedKey = pinnedKey
    }

    /// Parses a URI; the error text says what is wrong, without the field name.
    public static func parse(_ text: String, allowKey: Bool = true) -> Result<PeerURI, URIError> {
        let prefix = "udp://"
        guard text.hasPrefix(prefix) else {
            if let r = text.range(of: "://") {
                return .failure(URIError("scheme '\(text[..<r.lowerBound])' is not supported, use udp://HOST:PORT"))
            }
            return .failure(URIError("'\(text)' is not a URI, use udp://HOST:PORT"))
        }
        var rest = Substring(text.dropFirst(prefix.count))
        var query: Substring?
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let host: Substring
        let portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .failure(URIError("'\(text)': missing ']' after IPv6 address")) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { return .failure(URIError("'\(text)': missing :PORT")) }
            portText = after.dropFirst()
            guard IPv6Address(String(host)) != nil else { return .failure(URIError("'\(text)': '\(host)' is not an IPv6 address")) }
        } else {
            guard let colon = rest.lastIndex(of: ":") else { return .failure(URIError("'\(text)': missing :PORT")) }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
            if host.contains(":") { return .failure(URIError("'\(text)': an IPv6 address must be in brackets, like udp://[::1]:\(portText)")) }
        }
        guard !host.isEmpty else { return .failure(URIError("'\(text)': empty host")) }
        guard let port = UInt16(portText) else { return .failure(URIError("'\(text)': port '\(portText)' is not a number from 0 to 65535")) }
        var key: PublicKey?
        if let query, !query.isEmpty {
            for item in query.split(separator: "&") {
                let kv = item.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, kv[0] == "key" else {
                    return .failure(URIError("'\(text)': unknown query parameter '\(kv.first ?? "")' (only key=HEX)"))
                }
                guard allowKey else { return .failure(URIError("'\(text)': a listen address takes no key")) }
                guard let bytes = Hex.decode(String(kv[1])) else { return .failure(URIError("'\(text)': key is not hexadecimal")) }
                guard let k = PublicKey(bytes) else { return .failure(URIError("'\(text)': key must be 32 bytes (64 hex characters), got \(bytes.count)")) }
                key = k
            }
        }
        return .success(PeerURI(host: String(host), port: port, pinnedKey: key))
    }

    public var hostIsIPv6Literal: Bool { host.contains(":") }

    public var description: String {
        let h = hostIsIPv6Literal ? "[\(host)]" : host
        if let pinnedKey { return "udp://\(h):\(port)?key=\(pinnedKey.hex)" }
        return "udp://\(h):\(port)"
    }

    /// The URI without its key; two URIs naming the same endpoint compare equal this way.
    public var endpointText: String {
        hostIsIPv6Literal ? "udp://[\(host)]:\(port)" : "udp://\(host):\(port)"
    }
}

public struct URIError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}
