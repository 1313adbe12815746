import PlanetCore

/// The daemon side of the admin API. `AdminServer` calls `handle` on its own thread, one call
/// at a time, with a request already checked against `AdminCall` (known name, arguments of
/// the right types), so an implementation only answers. It must return in bounded time:
/// every admin client waits while it runs, so a node that hops to its event loop should wait
/// with a timeout (`AdminRendezvous` does that).
public protocol AdminHandler: AnyObject, Sendable {
    func handle(request: String, arguments: JSONValue) -> Result<JSONValue, AdminError>
}
