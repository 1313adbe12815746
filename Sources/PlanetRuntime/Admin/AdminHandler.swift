import PlanetCore
import PlanetAdmin

/// The daemon side of the admin API. `AdminServer` calls `handle` on its own thread, one call
/// at a time, with the request already decoded into its typed value (`AdminRequest`: a known
/// call, its arguments present, of the right types and, where the protocol can tell, valid),
/// so an implementation only answers, with the call's typed reply (the server makes it JSON).
/// It must return in bounded time: every admin client
/// waits while it runs, so a node that hops to its event loop should wait with a timeout
/// (`AdminRendezvous` does that).
public protocol AdminHandler: AnyObject, Sendable {
    func handle(_ request: AdminRequest) -> Result<any AdminResponse, AdminError>
}
