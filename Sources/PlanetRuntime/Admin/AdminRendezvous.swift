import Dispatch
import Foundation
import PlanetCore
import PlanetAdmin

/// A one-shot meeting point for an admin call answered on another thread: the admin thread
/// waits with a deadline, the event loop fulfils it. A late answer after a timeout is
/// dropped, so a stuck node costs the admin client an error, never a hung admin thread.
public final class AdminRendezvous<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)
    private var result: Result<Value, AdminError>?

    public init() {}

    /// The first answer wins; later ones are ignored.
    public func fulfil(_ answer: Result<Value, AdminError>) {
        lock.lock()
        let first = result == nil
        if first { result = answer }
        lock.unlock()
        if first { ready.signal() }
    }

    public func wait(timeout seconds: Double) -> Result<Value, AdminError> {
        if ready.wait(timeout: .now() + seconds) == .timedOut {
            return .failure(AdminError("the node did not answer within \(Int(seconds.rounded())) s"))
        }
        lock.lock()
        defer { lock.unlock() }
        return result ?? .failure(AdminError("no answer"))
    }
}
