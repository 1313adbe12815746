/// What a failed admin call tells the caller: one sentence, sent as `"error"` in the reply.
public struct AdminError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
