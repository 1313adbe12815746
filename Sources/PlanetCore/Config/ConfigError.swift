/// A config problem, always naming the field and the reason, printed as one line.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let field: String
    public let reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field.isEmpty ? "config: \(reason)" : "config: \(field): \(reason)" }
}
