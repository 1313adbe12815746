/// What `--cpu`, `--memory` and `--disk` declare: checked here so planetctl and planetd refuse
/// the same things with the same words.
public enum VMResources {
    /// Logical CPUs, 1...1024.
    public static func cpu(_ text: String) -> Result<Int, VMTableError> {
        guard let n = Int(text), (1...1024).contains(n) else { return .failure(VMTableError(argument: "cpu", "'\(text)' is not a CPU count in 1...1024")) }
        return .success(n)
    }

    /// A size: a whole number of bytes, or with a binary suffix K, M, G or T (`512M`, `20G`;
    /// `KiB`-style and `B` suffixes are accepted too). Zero is refused: declaring nothing is
    /// leaving the option out.
    public static func size(_ text: String, argument: String) -> Result<UInt64, VMTableError> {
        var digits = Substring(text)
        var unit = Substring("")
        while let last = digits.last, !last.isNumber { unit = String(last) + unit; digits = digits.dropLast() }
        let shift: UInt64
        switch unit.uppercased() {
        case "", "B": shift = 0
        case "K", "KB", "KIB": shift = 10
        case "M", "MB", "MIB": shift = 20
        case "G", "GB", "GIB": shift = 30
        case "T", "TB", "TIB": shift = 40
        default: return .failure(VMTableError(argument: argument, "'\(text)' has an unknown unit '\(unit)' (K, M, G, T)"))
        }
        guard let n = UInt64(digits), n > 0, n <= (UInt64.max >> shift) else {
            return .failure(VMTableError(argument: argument, "'\(text)' is not a size like 512M or 20G"))
        }
        return .success(n << shift)
    }
}
