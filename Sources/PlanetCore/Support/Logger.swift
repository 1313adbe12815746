/// Structured logging without I/O: core components describe events as a message plus
/// key=value fields and hand them to a sink the runtime provides (stderr, in planetd).
/// Tests and the simulator pass a sink that collects or discards.
public struct Logger: Sendable {
    public typealias Sink = @Sendable (LogLevel, String, [(String, String)]) -> Void
    public let level: LogLevel
    private let sink: Sink

    public init(level: LogLevel, sink: @escaping Sink) {
        self.level = level
        self.sink = sink
    }

    public static let disabled = Logger(level: .error) { _, _, _ in }

    @inline(__always) public func enabled(_ l: LogLevel) -> Bool { l <= level }

    public func log(_ l: LogLevel, _ message: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        guard l <= level else { return }
        sink(l, message(), fields())
    }

    public func error(_ m: @autoclosure () -> String, _ f: @autoclosure () -> [(String, String)] = []) { log(.error, m(), f()) }
    public func warn(_ m: @autoclosure () -> String, _ f: @autoclosure () -> [(String, String)] = []) { log(.warn, m(), f()) }
    public func info(_ m: @autoclosure () -> String, _ f: @autoclosure () -> [(String, String)] = []) { log(.info, m(), f()) }
    public func debug(_ m: @autoclosure () -> String, _ f: @autoclosure () -> [(String, String)] = []) { log(.debug, m(), f()) }
    public func trace(_ m: @autoclosure () -> String, _ f: @autoclosure () -> [(String, String)] = []) { log(.trace, m(), f()) }
}
