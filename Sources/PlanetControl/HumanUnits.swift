import PlanetCore

/// Numbers as people read them in planetctl tables. Scripts use `--json`, which keeps the raw values.
public enum HumanUnits {
    /// Binary units, three significant digits: `0 B`, `512 B`, `1.50 KiB`, `12.3 MiB`, `117 GiB`.
    public static func bytes(_ n: Double) -> String {
        guard n.isFinite, n >= 0 else { return "-" }
        if n < 1024 { return "\(Int(n)) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = n / 1024
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        // Rounding can carry into the next unit (1023.9 KiB prints as 1.00 MiB, not 1024 KiB).
        if v >= 1023.5 && i < units.count - 1 { v /= 1024; i += 1 }
        return fixed(v, decimals: v < 10 ? 2 : v < 100 ? 1 : 0) + " " + units[i]
    }

    /// The two largest units, like `45s`, `3m12s`, `2h05m`, `3d04h`.
    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-" }
        let s = Int(seconds.rounded(.down))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(pad2(s % 60))s" }
        if s < 86400 { return "\(s / 3600)h\(pad2(s % 3600 / 60))m" }
        return "\(s / 86400)d\(pad2(s % 86400 / 3600))h"
    }

    /// Round-trip time: two decimals below 10 ms, one above: `0.42 ms`, `12.3 ms`.
    public static func milliseconds(_ ms: Double) -> String {
        guard ms.isFinite, ms >= 0 else { return "-" }
        return fixed(ms, decimals: ms < 9.995 ? 2 : 1) + " ms"
    }

    /// A great-circle distance: one decimal below 10 km, whole kilometres above: `0.4 km`,
    /// `8.7 km`, `57 km`, `1,204 km`.
    public static func kilometres(_ km: Double) -> String {
        guard km.isFinite, km >= 0 else { return "-" }
        return (km < 9.95 ? fixed(km, decimals: 1) : count(km)) + " km"
    }

    /// Thousands separated by commas: `1,234,567`.
    public static func count(_ n: Double) -> String {
        guard n.isFinite else { return "-" }
        let digits = String(Int64(n.magnitude.rounded()))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A 64-hex-digit key cut to its first 16 digits (as `PublicKey.short` and the logs show
    /// it), enough to tell keys apart and to find the full key in `--json` output.
    public static func shortKey(_ hex: String) -> String {
        hex.count > 16 ? String(hex.prefix(16)) + "…" : hex
    }

    /// Fixed-point text without Foundation's locale-dependent formatting.
    static func fixed(_ v: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((v * scale).rounded())
        if decimals == 0 { return String(scaled) }
        let whole = scaled / Int64(scale)
        let frac = String(scaled % Int64(scale))
        return "\(whole)." + String(repeating: "0", count: decimals - frac.count) + frac
    }

    private static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
