/// Reads the `PrivateKey` out of a Yggdrasil config, in the JSON or the HJSON form that
/// yggdrasil 0.4.7 writes (`-genconf` gives HJSON: unquoted keys, `#` comments), so an
/// existing node can move over and keep its address.
public enum YggdrasilConfig {
    public static func privateKey(fromConfigText text: String) throws(ConfigError) -> NodeIdentity {
        if let doc = try? JSONValue.parse(text), case .object = doc {
            guard let value = doc["PrivateKey"] else {
                throw ConfigError(field: "PrivateKey", reason: "not found in the Yggdrasil config")
            }
            guard let s = value.stringValue else { throw ConfigError(field: "PrivateKey", reason: "must be a string, got \(value.typeName)") }
            return try identity(s)
        }
        // HJSON: find a line `PrivateKey: value` (key maybe quoted, value maybe quoted, maybe a trailing comma).
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = Substring(rawLine)
            while let c = line.first, c == " " || c == "\t" { line.removeFirst() }
            if line.hasPrefix("#") || line.hasPrefix("//") { continue }
            for key in ["PrivateKey", "\"PrivateKey\"", "'PrivateKey'"] where line.hasPrefix(key) {
                var rest = line.dropFirst(key.count)
                while let c = rest.first, c == " " || c == "\t" { rest.removeFirst() }
                guard rest.first == ":" else { continue }
                rest.removeFirst()
                var value = String(rest).trimmingWhitespace()
                if value.hasSuffix(",") { value.removeLast() }
                value = value.trimmingWhitespace()
                if value.count >= 2, let q = value.first, (q == "\"" || q == "'"), value.last == q {
                    value = String(value.dropFirst().dropLast())
                }
                return try identity(value)
            }
        }
        throw ConfigError(field: "PrivateKey", reason: "not found in the Yggdrasil config (neither JSON nor HJSON with a PrivateKey line)")
    }

    private static func identity(_ hex: String) throws(ConfigError) -> NodeIdentity {
        do { return try NodeIdentity(hex: hex) } catch { throw ConfigError(field: "PrivateKey", reason: error.description) }
    }
}
