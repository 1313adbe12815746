/// Where to reach a peer (or where to listen), and how the link must be made:
///
/// - `udp://HOST:PORT[?key=HEX]`: a Planetary link; `key` pins the key the peer must prove.
/// - `tcp://HOST:PORT[?key=HEX&password=TEXT&priority=N]` and the same with `tls://`: an
///   Yggdrasil 0.5 link, with the query yggdrasil-go 0.5 reads (src/core/link.go `links.add` and
///   `links.listen`): `key` pins the peer's key (repeatable: any of them), `password` keys the
///   handshake signature (percent-decoded, at most 64 bytes), `priority` a link priority 0–255,
///   `maxbackoff` the longest wait between redials (a Go duration, at least 30s), `sni` the TLS
///   server name. A listen URI takes `password` and `priority` only. Unlike yggdrasil, an unknown
///   parameter is an error: a misspelt `pasword=` must not silently open an unprotected link.
///
/// HOST is an IPv4 literal, an IPv6 literal in brackets, or a DNS name resolved by the runtime.
public struct PeerURI: Hashable, Sendable, CustomStringConvertible {
    public enum Scheme: String, Sendable, CaseIterable {
        /// Planetary's own protocol over UDP.
        case udp
        /// Yggdrasil 0.5 over a plain TCP stream.
        case tcp
        /// Yggdrasil 0.5 over TLS 1.3 (identity still from the meta handshake).
        case tls

        /// Whether this is an Yggdrasil link (a stream), not a Planetary one.
        public var isYggdrasil: Bool { self != .udp }
    }

    public let scheme: Scheme
    public let host: String
    public let port: UInt16
    /// Keys the peer may have (`?key=`); empty: any. udp:// takes at most one.
    public let pinnedKeys: [PublicKey]
    /// The Yggdrasil link password (`?password=`); empty: none.
    public let password: [UInt8]
    /// The Yggdrasil link priority (`?priority=`), nil when not given (0 then).
    public let priority: UInt8?
    /// The longest back-off between redials of an Yggdrasil peer (`?maxbackoff=`), in seconds.
    public let maxBackoff: Double?
    /// The TLS server name (`?sni=`), when not an IP literal.
    public let sni: String?

    /// The one pinned key of a udp:// peer (the first of `pinnedKeys` otherwise).
    public var pinnedKey: PublicKey? { pinnedKeys.first }

    public static let maxPasswordBytes = 64
    /// yggdrasil's minimumBackoffLimit.
    public static let minimumMaxBackoff = 30.0

    public init(scheme: Scheme = .udp, host: String, port: UInt16, pinnedKey: PublicKey? = nil) {
        self.init(scheme: scheme, host: host, port: port, pinnedKeys: pinnedKey.map { [$0] } ?? [])
    }

    public init(scheme: Scheme, host: String, port: UInt16, pinnedKeys: [PublicKey], password: [UInt8] = [],
                priority: UInt8? = nil, maxBackoff: Double? = nil, sni: String? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.pinnedKeys = pinnedKeys
        self.password = password
        self.priority = priority
        self.maxBackoff = maxBackoff
        self.sni = sni
    }

    /// Parses a URI; the error text says what is wrong, without the field name. `allowKey` false
    /// is a listen address (no `key`, nor `maxbackoff`/`sni`, which only mean something to a dialer).
    public static func parse(_ text: String, allowKey: Bool = true) -> Result<PeerURI, URIError> {
        guard let r = text.range(of: "://") else {
            return .failure(URIError("'\(text)' is not a URI, use udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT"))
        }
        let schemeText = text[..<r.lowerBound]
        guard let scheme = Scheme(rawValue: schemeText.lowercased()) else {
            return .failure(URIError("scheme '\(schemeText)' is not supported, use udp://HOST:PORT (Planetary), tcp://HOST:PORT or tls://HOST:PORT (Yggdrasil)"))
        }
        var rest = text[r.upperBound...]
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
            if host.contains(":") { return .failure(URIError("'\(text)': an IPv6 address must be in brackets, like \(scheme.rawValue)://[::1]:\(portText)")) }
        }
        guard !host.isEmpty else { return .failure(URIError("'\(text)': empty host")) }
        guard let port = UInt16(portText) else { return .failure(URIError("'\(text)': port '\(portText)' is not a number from 0 to 65535")) }
        var keys: [PublicKey] = []
        var password: [UInt8] = []
        var priority: UInt8?
        var maxBackoff: Double?
        var sni: String?
        let names = scheme == .udp ? "key=HEX" : (allowKey ? "key, password, priority, maxbackoff, sni" : "password, priority")
        for item in (query ?? "").split(separator: "&") {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(kv[0])
            guard let value = percentDecoded(kv.count == 2 ? kv[1] : "") else {
                return .failure(URIError("'\(text)': \(name) has a bad %-escape"))
            }
            switch (scheme, name) {
            case (_, "key"):
                guard allowKey else { return .failure(URIError("'\(text)': a listen address takes no key")) }
                guard let bytes = Hex.decode(String(decoding: value, as: UTF8.self)) else { return .failure(URIError("'\(text)': key is not hexadecimal")) }
                guard let k = PublicKey(bytes) else { return .failure(URIError("'\(text)': key must be 32 bytes (64 hex characters), got \(bytes.count)")) }
                // udp:// pins one key (the last given wins, as it always has).
                if scheme == .udp { keys = [k] } else if !keys.contains(k) { keys.append(k) }
            case (.tcp, "password"), (.tls, "password"):
                guard value.count <= maxPasswordBytes else {
                    return .failure(URIError("'\(text)': password is \(value.count) bytes, at most \(maxPasswordBytes)"))
                }
                password = value
            case (.tcp, "priority"), (.tls, "priority"):
                guard let p = UInt8(String(decoding: value, as: UTF8.self)) else {
                    return .failure(URIError("'\(text)': priority '\(String(decoding: value, as: UTF8.self))' is not a number from 0 to 255"))
                }
                priority = p
            case (.tcp, "maxbackoff") where allowKey, (.tls, "maxbackoff") where allowKey:
                guard let d = goDuration(String(decoding: value, as: UTF8.self)), d >= minimumMaxBackoff else {
                    return .failure(URIError("'\(text)': maxbackoff '\(String(decoding: value, as: UTF8.self))' is not a duration of at least 30s (like 5m or 1h)"))
                }
                maxBackoff = d
            case (.tcp, "sni") where allowKey, (.tls, "sni") where allowKey:
                let s = String(decoding: value, as: UTF8.self)
                // yggdrasil ignores an IP literal here: SNI carries host names only.
                if !s.isEmpty, !isIPv4Literal(s), IPv6Address(s) == nil { sni = s }
            default:
                return .failure(URIError("'\(text)': unknown query parameter '\(name)' (\(scheme.rawValue):// takes \(names))"))
            }
        }
        return .success(PeerURI(scheme: scheme, host: String(host), port: port, pinnedKeys: keys, password: password,
                                priority: priority, maxBackoff: maxBackoff, sni: sni))
    }

    public var hostIsIPv6Literal: Bool { host.contains(":") }

    /// The whole URI, password included (what the configuration file holds).
    public var description: String { render(redacting: false) }

    /// The URI with its password shown as `***`: for logs, `planetctl peers` and the web page.
    public var redactedDescription: String { render(redacting: true) }

    private func render(redacting: Bool) -> String {
        var query: [String] = pinnedKeys.map { "key=\($0.hex)" }
        if !password.isEmpty { query.append("password=" + (redacting ? "***" : Self.percentEncoded(password))) }
        if let priority { query.append("priority=\(priority)") }
        if let maxBackoff { query.append("maxbackoff=\(Self.formatSeconds(maxBackoff))") }
        if let sni { query.append("sni=\(Self.percentEncoded(Array(sni.utf8)))") }
        return endpointText + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// The URI without its query; two URIs naming the same endpoint compare equal this way.
    public var endpointText: String {
        hostIsIPv6Literal ? "\(scheme.rawValue)://[\(host)]:\(port)" : "\(scheme.rawValue)://\(host):\(port)"
    }

    /// `HOST:PORT` with an IPv6 literal in brackets.
    public var hostPort: String { hostIsIPv6Literal ? "[\(host)]:\(port)" : "\(host):\(port)" }

    // MARK: Query values

    /// Go's url.QueryUnescape: `%XX` and `+` for a space. Nil on a broken escape.
    static func percentDecoded(_ s: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            switch b {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard bytes.count >= 2, let hi = Hex.nibble(bytes[bytes.startIndex]),
                      let lo = Hex.nibble(bytes[bytes.startIndex + 1]) else { return nil }
                out.append(hi << 4 | lo)
                bytes = bytes.dropFirst(2)
            default: out.append(b)
            }
        }
        return out
    }


    /// Everything but RFC 3986's unreserved characters escaped, so `parse` reads it back.
    static func percentEncoded(_ bytes: [UInt8]) -> String {
        var out = ""
        for b in bytes {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// A Go duration (`90s`, `5m`, `1h30m`, `1.5h`, `500ms`) in seconds, or nil.
    static func goDuration(_ s: String) -> Double? {
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(s)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let v = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += v * unit.1
        }
        return total
    }

    static func isIPv4Literal(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && UInt8($0) != nil }
    }

    static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s))s" : "\(s)s"
    }
}

public struct URIError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}
