/// Sizes as operators and grid users write them: `512M`, `16G`, `2T`, `1.5G`, `16GiB`, `16GB`,
/// or a plain number of bytes. Units are binary (G = 2³⁰ bytes) whichever spelling is used,
/// because that is how the kernel reports memory and how the grid explorer's filters count;
/// one meaning for every spelling means `16G` in a config and `--free-mru 16G` always agree.
public enum ByteSize {
    public static let kib: UInt64 = 1 << 10
    public static let mib: UInt64 = 1 << 20
    public static let gib: UInt64 = 1 << 30
    public static let tib: UInt64 = 1 << 40

    /// nil for anything else: negative, empty, an unknown unit, or more than 2⁶³ bytes.
    public static func parse(_ text: String) -> UInt64? {
        var s = Substring(text.trimmingWhitespace()).uppercased()[...]
        if s.hasSuffix("IB") { s = s.dropLast(2) } else if s.hasSuffix("B") { s = s.dropLast() }
        var scale: UInt64 = 1
        if let last = s.last, let unit = ["K": kib, "M": mib, "G": gib, "T": tib, "P": tib << 10][String(last)] {
            scale = unit
            s = s.dropLast()
        }
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let v = Double(s), v.isFinite, v >= 0 else { return nil }
        let bytes = (v * Double(scale)).rounded()
        guard bytes < 9.2e18 else { return nil }
        return UInt64(bytes)
    }

    /// The shortest exact text `parse` reads back: `16G`, `512M`, `1536M`, `1000` (bytes).
    public static func text(_ bytes: UInt64) -> String {
        for (unit, scale) in [("T", tib), ("G", gib), ("M", mib), ("K", kib)] where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(unit)"
        }
        return "\(bytes)"
    }

    /// About `bytes` for a person, in the largest unit it fills, to one decimal: `31.3G`, `16G`,
    /// `1.5T`, `512M` (the units `parse` reads). Rounded down, or up with `roundingUp`, so a
    /// message comparing an amount with a smaller one never shows them equal.
    public static func approximate(_ bytes: UInt64, roundingUp up: Bool = false) -> String {
        for (unit, scale) in [("P", tib << 10), ("T", tib), ("G", gib), ("M", mib), ("K", kib)] where bytes >= scale {
            let v = Double(bytes) / Double(scale) * 10
            let tenths = UInt64(up ? v.rounded(.up) : v.rounded(.down))
            return tenths % 10 == 0 ? "\(tenths / 10)\(unit)" : "\(tenths / 10).\(tenths % 10)\(unit)"
        }
        return "\(bytes)"
    }
}
