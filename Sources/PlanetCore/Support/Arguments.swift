/// A small command-line reader shared by planetd, planetctl and planetsim: `--flag`,
/// `--option VALUE`, `--option=VALUE`, and positionals. Unknown options are errors so a
/// typo never silently does nothing.
public struct Arguments {
    public private(set) var positionals: [String] = []
    private var options: [String: String] = [:]
    /// Every value of each option, in order (`--allow a --allow b`); `value` is the last.
    private var repeated: [String: [String]] = [:]
    private var flags: Set<String> = []

    public struct UsageError: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// `valued` lists options that take a value, `flagNames` those that don't (names without "--").
    public init(_ args: [String], valued: Set<String>, flags flagNames: Set<String>) throws(UsageError) {
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" { positionals.append(a); continue }
            if a == "--" { onlyPositionals = true; continue }
            var name = String(a.drop(while: { $0 == "-" }))
            var inlineValue: String?
            if let eq = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if name == "h" { name = "help" }
            if valued.contains(name) {
                if let inlineValue { options[name] = inlineValue; repeated[name, default: []].append(inlineValue); continue }
                guard i < args.count else { throw UsageError("option --\(name) needs a value") }
                options[name] = args[i]
                repeated[name, default: []].append(args[i])
                i += 1
            } else if flagNames.contains(name) {
                guard inlineValue == nil else { throw UsageError("option --\(name) takes no value") }
                flags.insert(name)
            } else {
                throw UsageError("unknown option '\(a)'")
            }
        }
    }

    public func value(_ name: String) -> String? { options[name] }
    public func values(_ name: String) -> [String] { repeated[name] ?? [] }
    public func has(_ name: String) -> Bool { flags.contains(name) }

    public func int(_ name: String, default d: Int, range: ClosedRange<Int>? = nil) throws(UsageError) -> Int {
        guard let text = options[name] else { return d }
        guard let v = Int(text) else { throw UsageError("--\(name): '\(text)' is not an integer") }
        if let range, !range.contains(v) { throw UsageError("--\(name): \(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }
}
